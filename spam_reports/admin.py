"""Admin for spam complaints: read-mostly. Reports and cases change through the pages and the API
(services); the admin is for looking things up and maintaining the do-not-call list."""

from django import forms
from django.contrib import admin

from core.exceptions import InvalidInput
from spam_reports import senders
from spam_reports.models import (
    DoNotCallEntry,
    InspectionFollowUp,
    OperatorAction,
    SpamCase,
    SpamReport,
    SubscriberInspection,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SpamCase)
class SpamCaseAdmin(ReadOnlyAdmin):
    list_display = ["sender", "sender_kind", "operator", "status", "report_count", "last_seen_at"]
    list_filter = ["status", "sender_kind", "operator"]
    search_fields = ["sender"]
    show_full_result_count = False


@admin.register(SpamReport)
class SpamReportAdmin(ReadOnlyAdmin):
    list_display = ["sender", "recipient", "channel", "received_at", "origin", "status"]
    list_filter = ["channel", "status", "origin"]
    search_fields = ["=sender", "=recipient"]
    raw_id_fields = ["case"]
    show_full_result_count = False


@admin.register(OperatorAction)
class OperatorActionAdmin(ReadOnlyAdmin):
    list_display = ["case", "operator", "assigned_at", "deadline", "outcome", "responded_at"]
    list_filter = ["operator", "outcome"]
    raw_id_fields = ["case"]


class FollowUpInline(admin.TabularInline):
    model = InspectionFollowUp
    extra = 0
    fields = ["recorded_on", "note", "remedied", "recorded_by"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SubscriberInspection)
class SubscriberInspectionAdmin(ReadOnlyAdmin):
    list_display = [
        "operator",
        "inspected_on",
        "sample_size",
        "nonconforming",
        "deadline",
        "status",
    ]
    list_filter = ["operator", "status"]
    inlines = [FollowUpInline]


class DoNotCallForm(forms.ModelForm):
    class Meta:
        model = DoNotCallEntry
        fields = ["number", "registered_on", "source"]

    def clean_number(self):
        try:
            return senders.phone(self.cleaned_data["number"], field="number")
        except InvalidInput as exc:
            raise forms.ValidationError(exc.errors["number"]) from exc


@admin.register(DoNotCallEntry)
class DoNotCallEntryAdmin(admin.ModelAdmin):
    form = DoNotCallForm
    list_display = ["number", "registered_on", "source"]
    search_fields = ["=number"]
