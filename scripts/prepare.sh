#!/usr/bin/env bash
# Migrates, collects static files, loads reference data, Hanoi's boundaries and old-to-new crosswalk
# (from ../shared/data when present) and every app's demo data. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
$PY manage.py migrate --noinput -v 0
$PY manage.py collectstatic --noinput -v 0
$PY manage.py load_reference_data
DATA=$($PY -c 'import environ,pathlib; environ.Env.read_env(".env"); print(environ.Env().path("SHARED_DATA_DIR", default=str(pathlib.Path("..").resolve() / "shared" / "data")))')
if [ -f "$DATA/hanoi_wards_2025.geojson" ]; then
  $PY manage.py import_boundaries "$DATA/hanoi_wards_2025.geojson"
  $PY manage.py import_crosswalk "$DATA/hanoi_ward_crosswalk_2025.csv"
else
  echo "No boundary file in $DATA: the map shows units without borders (manage.py import_boundaries FILE)."
fi
$PY manage.py load_demo_data
# Today's public register downloads (rebuilt nightly by Celery beat), so /downloads/ has files at once.
$PY manage.py shell -v 0 -c "from core.sync import downloads; print('downloads:', ', '.join(f'{d.resource}.{d.format} ({d.rows})' for d in downloads.build()))"
