from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StationsConfig(AppConfig):
    name = "stations"
    verbose_name = _("Stations and permits")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from core import imports
        from stations.services import importing

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
