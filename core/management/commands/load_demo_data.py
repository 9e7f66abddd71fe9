from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand

from core import services
from core.history import acting_as


class Command(BaseCommand):
    help = (
        "Load the demo data of every app (its <app>/demo.py load()), after the reference data. "
        "Idempotent: a second run adds nothing twice."
    )

    def handle(self, *args, **options):
        services.load_all_reference_data()
        modules = []
        with acting_as(None, command="load_demo_data"):
            for config in apps.get_app_configs():
                module_name = f"{config.name}.demo"
                if config.name.count(".") or not find_spec(module_name):
                    continue
                module = import_module(module_name)
                module.load(stdout=self.stdout)
                modules.append(module)
        # core's describe() comes first (the log-ins), then what other apps add (API clients).
        for module in modules:
            for line in module.describe() if hasattr(module, "describe") else ():
                self.stdout.write(line)
