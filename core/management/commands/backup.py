"""manage.py backup [--output-dir DIR]: the database (pg_dump -Fc) and the media files, side by
side as <timestamp>.dump and <timestamp>.media.tar.gz (core.backup; `make backup`)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core import backup


class Command(BaseCommand):
    help = "Back up the database (pg_dump custom format) and MEDIA_ROOT into backups/."

    def add_arguments(self, parser):
        parser.add_argument("--output-dir", help="Directory for the files (default: backups/).")
        parser.add_argument("--database", default="default", help="Database alias.")

    def handle(self, *args, **options):
        try:
            dump, media = backup.backup(options["output_dir"], alias=options["database"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        for path in (dump, media):
            self.stdout.write(
                _("Wrote %(f)s (%(kb)d kB)") % {"f": path, "kb": path.stat().st_size // 1024}
            )
        self.stdout.write(str(dump))
