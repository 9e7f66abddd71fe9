from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CablesConfig(AppConfig):
    name = "cables"
    verbose_name = _("Underground cables")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from cables import services
        from core import imports

        imports.register(
            services.SEGMENT_KIND,
            services.run_segment_import,
            label=_("Cable segments of a project (GeoJSON, KML, CSV with WKT)"),
            start=services.start_segment_import,
            modes=("atomic",),
        )
