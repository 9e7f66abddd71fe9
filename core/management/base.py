from django.core.management.base import BaseCommand, CommandError

from core.exceptions import ImportRejected


class ImportCommand(BaseCommand):
    """A command that imports one file through a service and reports every refused row or feature."""

    service = None

    def add_arguments(self, parser):
        parser.add_argument("path", help="File to import")

    def handle(self, *args, path, **options):
        try:
            result = type(self).service(path)
        except ImportRejected as exc:
            for error in exc.errors:
                where = ", ".join(f"{k} {v}" for k, v in error.items() if k != "message")
                self.stderr.write(f"{where}: {error['message']}")
            raise CommandError(
                f"{exc.message} ({len(exc.errors)} error(s))" if exc.errors else str(exc.message)
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged."
            )
        )
        for warning in result.warnings:
            self.stdout.write(self.style.WARNING(str(warning)))
