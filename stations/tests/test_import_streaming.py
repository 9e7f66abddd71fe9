"""The station import as it streams (issue 16): every row error kept, however many; a job
cancelled stops and stores nothing; the fast row check reads exactly as the form; the boundaries'
pieces follow the boundary; a totals row is said, not imported."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from core import imports
from core.exceptions import InvalidTransition, PermissionDenied
from core.models import ImportJob, ImportRowError
from stations.models import Station
from stations.services import IMPORT_COLUMNS

pytestmark = pytest.mark.django_db

GOOD = ["VNPT", "HN-{i:05d}", "Trạm {i}", "", "", "105.8345", "21.036", "monopole", "30", "",
        "4G", "public_land", "operating", "", "15/03/2024"]  # fmt: skip


def _rows(n, bad_every=0):
    rows = []
    for i in range(n):
        row = [c.format(i=i) for c in GOOD]
        if bad_every and i % bad_every == 0:
            row[5] = "not a number"
        rows.append(row)
    return rows


def _csv(rows, header=IMPORT_COLUMNS):
    return ("\n".join(",".join(r) for r in [list(header), *rows]) + "\n").encode("utf-8")


@pytest.fixture
def vnpt(make_user, needs_shared_data):
    return make_user("operator_staff", "VNPT", username="tuan.vnpt")


def _job(user, data, **options):
    from stations.services.importing import start_station_import

    return start_station_import(user, SimpleUploadedFile("s.csv", data), enqueue=False, **options)


def test_every_row_error_is_kept_and_downloaded_beyond_the_pages_first_thousand(
    vnpt, client, tmp_path
):
    data = _csv(_rows(1_300, bad_every=1))  # every row refused: 1,300 problems
    job = imports.run(_job(vnpt, data, mode="partial").pk)
    assert job.status == ImportJob.Status.DONE and job.error_count == 1_300
    assert len(job.errors) == imports.MAX_ERRORS  # the page's list
    assert ImportRowError.objects.filter(job=job).count() == 1_300
    client.force_login(vnpt)
    response = client.get(reverse("core:import-job-errors", args=[job.public_id]))
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + 1_300 and lines[-1].startswith("1301,lon,not a number,")
    page = client.get(reverse("core:import-job", args=[job.public_id])).content.decode()
    assert 'data-testid="import-errors-capped"' in page and "1300" in page
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    out = io.StringIO()
    with translation.override("en"), pytest.raises(SystemExit):  # atomic: refused whole
        call_command("import_file", "stations", str(path), "--as", "tuan.vnpt", stdout=out)
    assert len(json.loads(out.getvalue())["errors"]) == 1_300


def test_a_retried_job_that_fails_again_keeps_one_list_of_its_errors(vnpt):
    job = imports.run(_job(vnpt, _csv(_rows(3, bad_every=2))).pk)  # atomic: refused
    assert job.status == ImportJob.Status.FAILED
    assert ImportRowError.objects.filter(job=job).count() == 2
    imports.retry(vnpt, job)
    job = imports.run(job.pk)
    assert ImportRowError.objects.filter(job=job).count() == 2


def test_a_cancelled_job_stops_at_its_next_report_and_stores_nothing(vnpt, make_user):
    job = _job(vnpt, _csv(_rows(12_000)))  # three chunks of 5,000
    reports = []

    def handler(job, progress):
        from stations.services.importing import run_station_import

        def report(processed, **counts):
            reports.append(processed)
            if processed >= 5_000:  # someone presses Cancel while the file is checked
                imports.cancel(vnpt, ImportJob.objects.get(pk=job.pk))
            progress(processed, **counts)

        return run_station_import(job, report)

    imports.HANDLERS[job.kind], real = handler, imports.HANDLERS[job.kind]
    try:
        job = imports.run(job.pk)
    finally:
        imports.HANDLERS[job.kind] = real
    assert job.status == ImportJob.Status.CANCELLED and job.finished
    assert reports[-1] == 5_000 and not Station.objects.exists()
    assert "tuan.vnpt" in job.message or vnpt.get_full_name() in job.message
    with pytest.raises(InvalidTransition):  # finished: neither cancelled again nor retried
        imports.cancel(vnpt, job)
    with pytest.raises(InvalidTransition):
        imports.retry(vnpt, job)


def test_a_queued_job_cancelled_never_runs(vnpt, make_user, client):
    job = _job(vnpt, _csv(_rows(2)))
    viettel = make_user("operator_staff", "VIETTEL")
    with pytest.raises(PermissionDenied):
        imports.cancel(viettel, job)
    client.force_login(viettel)  # another operator's job: not found, whatever the method
    assert client.post(reverse("core:import-job-cancel", args=[job.public_id])).status_code == 404
    client.force_login(vnpt)
    page = client.get(reverse("core:import-job", args=[job.public_id])).content.decode()
    assert 'data-testid="import-cancel"' in page
    assert client.get(reverse("core:import-job-cancel", args=[job.public_id])).status_code == 405
    response = client.post(reverse("core:import-job-cancel", args=[job.public_id]))
    assert response.status_code == 302
    job = imports.run(job.pk)
    assert job.status == ImportJob.Status.CANCELLED and not Station.objects.exists()
    page = client.get(reverse("core:import-job", args=[job.public_id])).content.decode()
    assert 'data-testid="import-cancel"' not in page


def test_rows_repeating_a_station_of_the_file_are_refused_after_the_first(vnpt):
    from stations.services import import_stations

    rows = _rows(3)
    rows.append(list(rows[1]))  # row 5 repeats row 3's station
    with translation.override("en"):
        result = import_stations(vnpt, SimpleUploadedFile("s.csv", _csv(rows)), mode="partial")
    assert (result.created, [e["row"] for e in result.errors]) == (3, [5])
    assert "row 3" in result.errors[0]["message"] and result.errors[0]["column"] == "code"


def test_a_totals_row_is_said_and_not_imported(vnpt):
    from stations.services import import_stations

    rows = [*_rows(2), ["Tổng cộng", "2", "", "", "", "", "", "", "60", "", "", "", "", "", ""]]
    with translation.override("en"):
        result = import_stations(vnpt, SimpleUploadedFile("s.csv", _csv(rows)))
    assert result.created == 2 and not result.errors
    assert any("4" in str(n) and "total" in str(n).lower() for n in result.warnings), (
        result.warnings
    )


def test_the_file_handle_stays_open_for_the_second_reading_and_after(vnpt):
    from core.tabular import Table

    upload = SimpleUploadedFile("s.csv", _csv(_rows(3)))
    table = Table(upload, required=("code",))
    assert [n for n, _cells in table.rows()] == [2, 3, 4]
    assert [n for n, _cells in table.rows()] == [2, 3, 4]
    assert not upload.closed


def test_the_boundarys_pieces_follow_it_whatever_writes_it(needs_shared_data):
    from django.db import connection

    from core.geo import check_locations
    from core.models import AdministrativeUnit, UnitPiece

    unit = AdministrativeUnit.objects.filter(boundary__isnull=False).first()
    other = AdministrativeUnit.objects.filter(boundary__isnull=False).exclude(pk=unit.pk).first()
    assert UnitPiece.objects.filter(unit=unit).exists()
    inside = unit.boundary.point_on_surface
    (found,) = check_locations([(inside.x, inside.y, None)])
    assert found == (unit.pk, {})
    with connection.cursor() as cursor:  # a loader's SQL, not the ORM
        cursor.execute(
            "UPDATE core_administrativeunit SET boundary = %s WHERE id = %s",
            [other.boundary.ewkt, unit.pk],
        )
        cursor.execute(
            "UPDATE core_administrativeunit SET boundary = NULL WHERE id = %s", [other.pk]
        )
    assert not UnitPiece.objects.filter(unit=other).exists()
    point = other.boundary.point_on_surface
    (found,) = check_locations([(point.x, point.y, None)])
    assert found == (unit.pk, {})
    (found,) = check_locations([(inside.x, inside.y, None)])  # its old place: in no unit now
    assert found[0] is None and "location" in found[1]


def test_a_problem_quoting_a_nul_or_a_lone_surrogate_is_kept_visibly(vnpt):
    job = _job(vnpt, _csv(_rows(1)))
    imports.keep_errors(
        job.pk, [{"row": 2, "column": "name", "value": "a\x00b\ud800", "message": "x"}]
    )
    (kept,) = ImportRowError.objects.filter(job=job)
    assert kept.value == "a\\x00b\\ud800"
