from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncConfig(AppConfig):
    """Machine-to-machine sync: API clients, the change feed, sync writes, webhooks, the nightly
    downloads and ``sync_pull`` (docs/sync.md). Depends on core; core does not import it."""

    name = "sync"
    label = "sync"
    verbose_name = _("Sync")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_migrate
        from django.utils.module_loading import autodiscover_modules

        # Every app's synced resources, registered here (sync/__init__.py); the change feed's
        # triggers are generated from them after each migrate.
        autodiscover_modules("sync")
        from sync import schema  # noqa: F401  (the bearer token in the OpenAPI schema)
        from sync.capture import on_post_migrate

        post_migrate.connect(on_post_migrate, dispatch_uid="sync.capture")
