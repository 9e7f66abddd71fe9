from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from core.models import (
    AdministrativeUnit,
    ImportJob,
    LegacyUnit,
    LegacyUnitMapping,
    Organization,
    User,
)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "short_name",
        "name",
        "kind",
        "effective_from",
        "effective_to",
        "successor",
    ]
    list_filter = ["kind"]
    search_fields = ["code", "name", "short_name", "name_en"]
    autocomplete_fields = ["parent", "successor"]
    readonly_fields = ["public_id", "created_at", "updated_at"]


@admin.register(AdministrativeUnit)
class AdministrativeUnitAdmin(LeafletGeoAdmin):
    list_display = ["code", "name", "kind", "area_km2", "has_boundary"]
    list_filter = ["kind"]
    search_fields = ["code", "name", "short_name", "name_en", "search_text"]
    readonly_fields = ["public_id", "created_at", "updated_at"]

    @admin.display(boolean=True, description=_("boundary"))
    def has_boundary(self, obj):
        return obj.boundary is not None

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            qs = qs.defer("boundary")
        return qs


class LegacyUnitMappingInline(admin.TabularInline):
    model = LegacyUnitMapping
    extra = 0
    autocomplete_fields = ["unit"]


@admin.register(LegacyUnit)
class LegacyUnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "district"]
    search_fields = ["code", "name", "district", "name_fold"]
    inlines = [LegacyUnitMappingInline]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "organization", "is_active", "is_staff"]
    list_filter = ["groups", "organization__kind", "is_active", "is_staff"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization"]
    fieldsets = DjangoUserAdmin.fieldsets + ((_("Organisation"), {"fields": ["organization"]}),)
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (
        (_("Organisation"), {"fields": ["organization", "groups"]}),
    )


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Imports are started from the apps' pages; here they are looked up."""

    list_display = [
        "original_name",
        "kind",
        "status",
        "processed",
        "total",
        "created_by",
        "created_at",
    ]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in ImportJob._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False
