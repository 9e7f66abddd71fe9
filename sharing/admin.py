from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from sharing.models import (
    InfrastructureAsset,
    RequestDocument,
    SharingEvent,
    SharingRequest,
    Tenancy,
)

UNIT_DEFERRED = ("commune__boundary", "commune__map_boundary")


class TenancyInline(admin.TabularInline):
    model = Tenancy
    extra = 0
    fields = ["operator", "units", "occupies", "since", "until", "status", "terms_reference"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # through the pages or the API, which keep the capacity


@admin.register(InfrastructureAsset)
class InfrastructureAssetAdmin(LeafletGeoAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "owner",
        "commune",
        "capacity",
        "used_capacity",
        "free_capacity",
        "status",
    ]
    list_filter = ["kind", "status", "owner", "shareable"]
    search_fields = ["code", "name", "search_text"]
    list_select_related = ["owner", "commune"]
    raw_id_fields = ["commune"]
    readonly_fields = [
        "public_id",
        "used_capacity",
        "free_capacity",
        "length_m",
        "created_at",
        "updated_at",
    ]
    inlines = [TenancyInline]

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*UNIT_DEFERRED)


class EventInline(admin.TabularInline):
    model = SharingEvent
    extra = 0
    readonly_fields = ["kind", "from_status", "to_status", "actor", "note", "created_at"]
    can_delete = False


class DocumentInline(admin.TabularInline):
    model = RequestDocument
    extra = 0
    readonly_fields = [
        "file",
        "original_name",
        "content_type",
        "size",
        "uploaded_by",
        "uploaded_at",
    ]
    can_delete = False


@admin.register(SharingRequest)
class SharingRequestAdmin(LeafletGeoAdmin):
    """Read-mostly: the workflow runs through the pages and API, which check party and state."""

    list_display = [
        "number",
        "requester",
        "owner",
        "asset",
        "units",
        "status",
        "response_due",
        "overdue",
    ]
    list_filter = ["status", "overdue", "requester", "owner"]
    search_fields = ["number", "search_text"]
    list_select_related = ["requester", "owner", "asset"]
    readonly_fields = [f.name for f in SharingRequest._meta.concrete_fields if f.name != "id"]
    inlines = [EventInline, DocumentInline]

    def has_add_permission(self, request):
        return False
