from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from cables.models import (
    CableProject,
    CableSegment,
    CivilWorksNotice,
    CivilWorksRegistration,
    ProgressUpdate,
)


class SegmentInline(admin.TabularInline):
    model = CableSegment
    extra = 0
    fields = ["name", "method", "operator", "bores", "length_m"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # segments are drawn on the project page (length and communes are computed)


@admin.register(CableProject)
class CableProjectAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "lead_agency", "year", "status"]
    list_filter = ["status", "year", "lead_agency"]
    search_fields = ["code", "name", "search_text"]
    filter_horizontal = ["participants"]
    inlines = [SegmentInline]


@admin.register(ProgressUpdate)
class ProgressUpdateAdmin(admin.ModelAdmin):
    """Append-only: updates are read here; a correction is a new update on the project page."""

    list_display = [
        "segment",
        "operator",
        "reported_on",
        "duct_built_m",
        "cable_pulled_m",
        "overhead_removed_m",
        "corrects",
    ]
    list_filter = ["operator", "reported_on"]
    list_select_related = ["segment", "operator", "corrects"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RegistrationInline(admin.TabularInline):
    model = CivilWorksRegistration
    extra = 0
    readonly_fields = ["operator", "need", "bores", "note", "created_by", "created_at"]
    can_delete = False


@admin.register(CivilWorksNotice)
class CivilWorksNoticeAdmin(LeafletGeoAdmin):
    list_display = [
        "title",
        "owner",
        "registration_deadline",
        "effective_from",
        "effective_to",
        "status",
    ]
    list_filter = ["status", "owner"]
    raw_id_fields = ["commune"]
    inlines = [RegistrationInline]
