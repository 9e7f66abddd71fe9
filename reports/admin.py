"""Reports in the Django admin. Definitions are saved through reports.services.save_definition (so
the sections are checked against the indicator registry); runs are read here and moved on only by
the services' actions (approve, submit, compute again)."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError
from core.models import Organization
from reports import services
from reports.models import ReportDefinition, ReportRun


class ReportDefinitionForm(forms.ModelForm):
    class Meta:
        model = ReportDefinition
        fields = list(services.DEFINITION_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = Organization.objects.filter(
            kind=Organization.Kind.AGENCY
        )

    def clean_sections(self):
        sections = self.cleaned_data.get("sections")
        errors = services.check_sections(sections)
        if errors:
            raise forms.ValidationError(errors)
        return sections


@admin.register(ReportDefinition)
class ReportDefinitionAdmin(admin.ModelAdmin):
    form = ReportDefinitionForm
    list_display = ["code", "name", "recipient", "period_type", "cutoff_day", "deadline_days", "active"]  # fmt: skip
    list_filter = ["period_type", "active", "recipient"]
    list_select_related = ["recipient"]
    search_fields = ["code", "name"]

    def save_model(self, request, obj, form, change):
        # The form has checked the values and put them on ``obj``; the service saves them (with
        # its checks and the history's "who").
        services.save_definition(request.user, obj)

    def has_add_permission(self, request):
        return services.can_administer(request.user)

    def has_change_permission(self, request, obj=None):
        return services.can_administer(request.user)

    def has_delete_permission(self, request, obj=None):
        return False  # a report with runs is kept; switch it off with "active"


def _each(modeladmin, request, queryset, call, done):
    count = 0
    for run in queryset:
        try:
            call(request.user, run)
            count += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"{run}: {exc.message}", messages.WARNING)
    if count:
        modeladmin.message_user(request, done % {"n": count}, messages.SUCCESS)


@admin.action(description=_("Approve the selected runs"))
def approve(modeladmin, request, queryset):
    _each(modeladmin, request, queryset, services.approve, _("%(n)d run(s) approved."))


@admin.action(description=_("Submit the selected runs to their recipient"))
def submit(modeladmin, request, queryset):
    _each(modeladmin, request, queryset, services.submit, _("%(n)d run(s) submitted."))


@admin.action(description=_("Compute the selected runs again"))
def recompute(modeladmin, request, queryset):
    _each(modeladmin, request, queryset, services.recompute, _("%(n)d run(s) queued."))


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    """Runs are asked for on the reports pages or the API; here they are read and moved on."""

    list_display = ["definition", "period_label", "status", "progress", "cutoff", "deadline", "submitted_at"]  # fmt: skip
    list_filter = ["status", "definition"]
    list_select_related = ["definition"]
    search_fields = ["definition__code", "definition__name", "period_key"]
    actions = [approve, submit, recompute]
    exclude = ["snapshot"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "snapshot"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
