"""The bench database: a separate PostGIS database, ``hanoi_infra_bench``, for national-scale data.

``run_in_bench_database(module, report)`` is called in the ``python -m bench`` process, whose
connection is the dev database: it creates the bench database (scripts/ensure_database.py, with
PostGIS) and runs ``python -m <module> ROWS.json`` as a child process with ``DATABASE_URL`` pointing at
it. settings.py reads DATABASE_URL from the environment before .env, so every connection of the child
is to the bench database from its first query. (Swapping ``connections["default"]`` in-process would
also reach the other database, but Django keeps per-process caches keyed by alias, such as content
type ids, that would then describe the wrong database.) The child prints its figures as it measures
them and hands its rows back to the parent's report through ROWS.json (``child_main``).

``prepare_base()`` migrates the bench database and gives it the reference data and the real
boundaries (settings.SHARED_DATA_DIR/hanoi_wards_2025.geojson); each suite then loads its own data
once, behind a marker (a table comment), and reuses it on the next run.

Nothing here imports Django at module level: the child imports this module before django.setup().
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

BENCH_DB = "hanoi_infra_bench"
BASE_DIR = Path(__file__).resolve().parent.parent


def bench_url():
    from django.conf import settings

    db = settings.DATABASES["default"]
    user = quote(db.get("USER") or "postgres", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgis://{user}{password}@{host}:{port}/{BENCH_DB}"


def in_bench_database():
    from django.db import connection

    return connection.settings_dict["NAME"] == BENCH_DB


def run_in_bench_database(module, report):
    """Run ``module``'s ``run_here(report)`` in the bench database, in a child process; its rows
    are added to ``report``."""
    env = {
        **os.environ,
        "DATABASE_URL": bench_url(),
        "DJANGO_SETTINGS_MODULE": "hanoi_infra.settings",
    }
    subprocess.run(
        [sys.executable, "scripts/ensure_database.py"], cwd=BASE_DIR, env=env, check=True
    )
    with tempfile.TemporaryDirectory() as tmp:
        rows_file = Path(tmp) / "rows.json"
        subprocess.run(
            [sys.executable, "-m", module, str(rows_file)], cwd=BASE_DIR, env=env, check=True
        )
        report.rows.extend(json.loads(rows_file.read_text()))


def child_main(run_here):
    """The child's entry point (``if __name__ == "__main__": child_main(run_here)``)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hanoi_infra.settings")
    import django

    django.setup()
    from bench.harness import Report

    child_report = Report()
    run_here(child_report)
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(json.dumps(child_report.rows, default=str))


def prepare_base(stdout=print):
    """Migrate, load the reference data and the real boundaries. False if the boundaries are
    missing (the suites place their data inside them)."""
    from django.conf import settings
    from django.core.management import call_command

    from core import services
    from core.models import AdministrativeUnit

    call_command("migrate", verbosity=0)
    getattr(services, "load_all_reference_data", services.load_reference_data)()
    if AdministrativeUnit.objects.filter(boundary__isnull=True).exists():
        wards = Path(settings.SHARED_DATA_DIR) / "hanoi_wards_2025.geojson"
        if not wards.exists():
            stdout(
                f"   (skipped: the data is placed inside the real boundaries; {wards} is missing)"
            )
            return False
        services.import_boundaries(wards)
    return True


def table_marker(table):
    """The marker (table comment) a suite left on ``table``, and the table's row count."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT obj_description('{table}'::regclass, 'pg_class'), (SELECT count(*) FROM {table})"
        )
        return cursor.fetchone()
