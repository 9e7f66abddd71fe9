"""manage.py restore FILE.dump [--target-db NAME] [--force] [--media-root DIR] [--no-media]:
restores a backup of `manage.py backup` (core.backup; `make restore FILE=… [FORCE=1]`).

Without --target-db (or RESTORE_TARGET_DB in the environment) the configured database is restored
into, and only when it is empty unless --force (FORCE=1) is given."""

import os

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core import backup


def _truthy(value):
    return str(value or "").strip().lower() in {"1", "true", "yes", "on"}


class Command(BaseCommand):
    help = "Restore a backup (.dump and the .media.tar.gz beside it)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The .dump file written by manage.py backup.")
        parser.add_argument(
            "--target-db",
            default=os.environ.get("RESTORE_TARGET_DB") or None,
            help="Restore into this database (created when missing) instead of the configured "
            "one. Default: $RESTORE_TARGET_DB.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            default=_truthy(os.environ.get("FORCE")),
            help="Replace the contents of a non-empty database and differing media files.",
        )
        parser.add_argument("--media-root", help="Where the media files go (default: MEDIA_ROOT).")
        parser.add_argument("--no-media", action="store_true", help="Restore the database only.")
        parser.add_argument("--database", default="default", help="Database alias.")

    def handle(self, *args, **options):
        try:
            name, files = backup.restore(
                options["file"],
                alias=options["database"],
                target=options["target_db"],
                force=options["force"],
                media_root=options["media_root"],
                media=not options["no_media"],
            )
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _("Restored %(f)s into the database %(db)s; %(n)d media files written.")
            % {"f": options["file"], "db": name, "n": files}
        )
