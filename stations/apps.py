from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StationsConfig(AppConfig):
    name = "stations"
    verbose_name = _("Stations and permits")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from core import imports, rowimport
        from stations.services import importing, sites

        imports.register(
            importing.KIND,
            importing.run_station_import,
            label=_("Stations (BTS register)"),
            fields=importing.FIELDS,
            start=importing.start_station_import,
            modes=("atomic", "partial"),
            dry_run=True,
            date_fields=("commissioned_on",),
            page="stations:station-import",
            example=importing.EXAMPLE,
        )
        imports.register(
            sites.SITE_KIND,
            rowimport.handler(
                sites.SITE_FIELDS, sites.site_data, sites.save_public_site, sites.site_lookups
            ),
            label=_("Public sites offered for stations"),
            fields=sites.SITE_FIELDS,
            start=sites.start_site_import,
            may_import=sites.is_city_official,
            page="stations:site-list",
            modes=("atomic", "partial"),
            dry_run=True,
        )
