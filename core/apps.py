from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        # Every app's measures, registered in core.indicators (see its docstring).
        autodiscover_modules("indicators")
        # Every app's synced resources, registered in core.sync (the change feed's triggers are
        # generated from them after each migrate).
        autodiscover_modules("sync")
        from django.db.models.signals import post_migrate

        from core.sync import schema  # noqa: F401  (the bearer token in the OpenAPI schema)
        from core.sync.capture import on_post_migrate

        post_migrate.connect(on_post_migrate, dispatch_uid="core.sync.capture")
