from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SpamReportsConfig(AppConfig):
    name = "spam_reports"
    verbose_name = _("Spam complaints")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from core import imports
        from spam_reports import services

        imports.register(
            "spam_reports.reports",
            services.import_reports,
            label=_("Spam complaints (generic or 5656 export)"),
            fields=services.importing.GENERIC_FIELDS,
            field_sets=(services.importing.EXPORT_5656_FIELDS,),
            date_fields=("received_at",),
            start=services.start_import,
            page="spam_reports:import",
        )
