"""manage.py import_file KIND FILE --as USERNAME [--mapping NAME|FILE.json] [--date-order dmy|mdy]
[--mode atomic|partial] [--dry-run] [--option NAME=VALUE …]; manage.py import_file --list.

Runs an import through the same pipeline as the pages and the API (core.imports: the kind's own
checks, its job, its handler), here and now, and prints one JSON object on stdout::

    {"kind", "status", "rows", "stored", "refused", "duplicates",
     "errors": [{"row", "column", "value", "reason"}], "notices": [...]}

Exit 0 when the job ran (whatever rows it refused), 2 when the file was refused whole (the reason
in "errors"), 1 on a bad command line (unknown kind, user, file or option).
"""

import json
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError

from core import imports
from core.exceptions import DomainError


class Command(BaseCommand):
    help = (
        "Import a file as the portal does (the same checks and job) and print the result as JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", nargs="?", help="a registered kind, or a part of its name")
        parser.add_argument("file", nargs="?")
        parser.add_argument("--list", action="store_true", help="print the registered kinds")
        parser.add_argument("--as", dest="username", help="the user the import is made as")
        parser.add_argument("--mapping", help="a saved mapping's name, or a JSON file")
        parser.add_argument("--date-order", choices=("dmy", "mdy"))
        parser.add_argument("--mode", choices=imports.MODES)
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument(
            "--option",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="an option of the kind (cables.segments: project=CODE; spam: origin=…)",
        )

    def handle(self, *args, **options):
        if options["list"]:
            for name in sorted(imports.KINDS):
                self.stdout.write(name)
            return
        if not (options["kind"] and options["file"] and options["username"]):
            raise CommandError("usage: import_file KIND FILE --as USERNAME (or --list)")
        try:
            kind = imports.find_kind(options["kind"])
        except DomainError as exc:
            raise CommandError(_first(exc)) from exc
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user {options['username']!r}")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no file {path}")
        job_options = {
            "date_order": options["date_order"],
            "mode": options["mode"],
            "dry_run": True if options["dry_run"] else None,
            **_mapping(options["mapping"]),
            **dict(o.split("=", 1) for o in options["option"] if "=" in o),
        }
        job_options = {k: v for k, v in job_options.items() if v is not None}
        uploaded = SimpleUploadedFile(path.name, path.read_bytes())
        try:
            job = imports.start_kind(kind, user, uploaded, enqueue=False, **job_options)
        except DomainError as exc:
            problems = exc.errors.get("file") if isinstance(exc.errors, dict) else None
            if not problems:
                raise CommandError(_first(exc)) from exc
            # The file itself is refused (too large, empty, not a table): refused whole.
            refused = {"kind": kind.name, "status": "failed", "rows": 0, "stored": 0}
            refused.update(refused=0, duplicates=0, notices=[])
            refused["errors"] = [
                {"row": None, "column": "file", "value": path.name, "reason": str(p)}
                for p in problems
            ]
            self.stdout.write(json.dumps(refused, ensure_ascii=False))
            sys.exit(2)
        job = imports.run(job.pk)
        self.stdout.write(json.dumps(outcome(kind.name, job), ensure_ascii=False))
        if job.status == job.Status.FAILED:
            sys.exit(2)


def _first(exc):
    errors = exc.errors
    if isinstance(errors, dict):
        return "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in errors.items())
    return str(exc.message)


def _mapping(value):
    """--mapping: a JSON file ({"file column": "field"}) or a saved mapping's name."""
    if not value:
        return {}
    path = Path(value)
    if value.endswith(".json") or path.is_file():
        try:
            return {"mapping": json.loads(path.read_text(encoding="utf-8-sig"))}
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read the mapping {value}: {exc}") from exc
    return {"mapping_name": value}


def outcome(kind, job):
    """The job as the command prints it."""
    errors = [  # every one (the job's page shows the first core.imports.MAX_ERRORS)
        {"row": e.row, "column": e.column, "value": e.value, "reason": e.message}
        for e in job.row_errors.filter(duplicate=False).order_by("row", "id")
    ]
    if job.status == job.Status.FAILED and not errors:
        errors = [{"row": None, "column": "", "value": "", "reason": job.message}]
    return {
        "kind": kind,
        "status": job.status,
        "rows": job.total or 0,
        "stored": job.created_count,
        "refused": job.error_count,
        "duplicates": job.duplicate_count,
        "errors": errors,
        "notices": job.notices,
    }
