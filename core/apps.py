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
        # Every register's part of the portal's search box (core.search).
        autodiscover_modules("search")
        from django.contrib.auth.signals import user_logged_in

        from core.api.fields import refuse_booleans_as_numbers
        from core.two_factor import on_login

        user_logged_in.connect(on_login, dispatch_uid="core.two_factor.on_login")
        # JSON true/false is not a number for any serializer field (core.api.fields).
        refuse_booleans_as_numbers()
        # Text in NFC, dates within 1900–2100, at every form and serializer (core.boundary).
        from core import boundary

        boundary.install()
