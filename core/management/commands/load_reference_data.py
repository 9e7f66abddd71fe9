from django.core.management.base import BaseCommand

from core import services


class Command(BaseCommand):
    help = "Load role groups, organisations, Hanoi's 126 units and every app's reference data (idempotent)."

    def handle(self, *args, **options):
        result = services.load_all_reference_data()
        self.stdout.write(
            self.style.SUCCESS(
                f"Reference data: {result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged."
            )
        )
