from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SharingConfig(AppConfig):
    name = "sharing"
    verbose_name = _("Infrastructure sharing")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from core import imports, rowimport
        from sharing import services

        imports.register(
            services.ASSET_KIND,
            rowimport.handler(
                services.ASSET_IMPORT_FIELDS,
                services.asset_data,
                services.save_asset,
                services.asset_lookups,
            ),
            label=_("Shareable infrastructure (towers, poles, ducts, manholes …)"),
            fields=services.ASSET_IMPORT_FIELDS,
            start=services.start_asset_import,
            may_import=services.may_import_assets,
            page="sharing:asset-list",
            modes=("atomic", "partial"),
            dry_run=True,
        )
