from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from stations.models import (
    ApplicationDocument,
    ApplicationEvent,
    ApplicationType,
    DocumentType,
    PermitApplication,
    PublicSite,
    Station,
)


@admin.register(Station)
class StationAdmin(LeafletGeoAdmin):
    list_display = [
        "code",
        "name",
        "operator",
        "commune",
        "structure_type",
        "structure_height_m",
        "status",
        "non_bulky",
    ]
    list_filter = ["operator", "status", "structure_type", "land_category", "non_bulky"]
    search_fields = ["code", "name", "search_text"]
    list_select_related = ["operator", "commune"]
    raw_id_fields = ["commune"]
    readonly_fields = ["public_id", "created_at", "updated_at", "non_bulky"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("commune__boundary", "commune__map_boundary")


@admin.register(PublicSite)
class PublicSiteAdmin(LeafletGeoAdmin):
    list_display = ["name", "owner", "commune", "capacity", "status"]
    list_filter = ["status", "land_category"]
    search_fields = ["name", "address", "search_text"]
    raw_id_fields = ["commune"]
    list_select_related = ["owner", "commune"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("commune__boundary", "commune__map_boundary")


@admin.register(DocumentType)
class DocumentTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]


@admin.register(ApplicationType)
class ApplicationTypeAdmin(admin.ModelAdmin):
    """Administrators set each type's statutory clocks and tacit approval here."""

    list_display = ["code", "name", "completeness_days", "decision_days", "tacit_approval"]
    filter_horizontal = ["required_documents"]


class DocumentInline(admin.TabularInline):
    model = ApplicationDocument
    extra = 0
    readonly_fields = [
        "document_type",
        "file",
        "original_name",
        "content_type",
        "size",
        "uploaded_by",
        "uploaded_at",
    ]
    can_delete = False


class EventInline(admin.TabularInline):
    model = ApplicationEvent
    extra = 0
    readonly_fields = ["kind", "from_status", "to_status", "actor", "note", "created_at"]
    can_delete = False


@admin.register(PermitApplication)
class PermitApplicationAdmin(LeafletGeoAdmin):
    """Read-mostly: status changes go through the workflow pages, which check role and state."""

    list_display = ["number", "applicant", "application_type", "status", "decision_due", "overdue"]
    list_filter = ["status", "application_type", "overdue", "applicant"]
    search_fields = ["number", "station_code", "station_name", "search_text"]
    list_select_related = ["applicant", "application_type"]
    raw_id_fields = ["commune", "public_site", "station", "created_by", "decided_by"]
    readonly_fields = [f.name for f in PermitApplication._meta.concrete_fields if f.name != "id"]
    inlines = [DocumentInline, EventInline]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("commune__boundary", "commune__map_boundary")

    def has_add_permission(self, request):
        return False
