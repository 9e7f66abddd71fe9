"""manage.py import_file over the station register: another system's file (its own column names,
month-first dates, UTF-16 from Excel), a mapping given once and saved, partial and atomic modes, a
dry run; one JSON object on stdout and the exit code scripts rely on."""

import io
import json
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.utils import translation

from core import imports
from core.models import ImportJob, ImportMapping
from stations.models import Station

pytestmark = pytest.mark.django_db

# VNPT's own export: other names, a column the register does not have, month-first dates.
OSS_HEADER = [
    "Site ID", "Site Name", "Net", "Long", "Lat", "Tower", "Height", "Land", "On Air", "Vendor",
]  # fmt: skip
OSS_ROWS = [
    ["HN-0001", "Trạm Cầu Giấy", "VNPT", "105.8345", "21.036", "Monopole", "30", "Public land",
     "8/13/2024", "Ericsson"],
    ["HN-0002", "Trạm Đống Đa", "VNPT", "105.8300", "21.020", "cot don than", "25", "public_land",
     "9/8/2024", "Nokia"],
]  # fmt: skip
MAPPING = {
    "Site ID": "code",
    "Site Name": "name",
    "Net": "operator",
    "Long": "lon",
    "Lat": "lat",
    "Tower": "structure_type",
    "Height": "structure_height_m",
    "Land": "land_category",
    "On Air": "commissioned_on",
}


def utf16_tabs(rows):
    """Excel's "Unicode text": UTF-16 LE with BOM, tab-separated, CRLF."""
    return "\r\n".join("\t".join(r) for r in rows).encode("utf-16")


def run(*args):
    """The command's JSON and exit code (0 when it returned, else SystemExit's)."""
    out = io.StringIO()
    code = 0
    with translation.override("en"):
        try:
            call_command("import_file", *args, stdout=out)
        except SystemExit as exc:
            code = exc.code
    return json.loads(out.getvalue() or "{}"), code


@pytest.fixture
def vnpt(make_user, needs_shared_data):
    return make_user("operator_staff", "VNPT", username="tuan.vnpt")


@pytest.fixture
def oss_file(tmp_path):
    path = tmp_path / "vnpt-oss.txt"
    path.write_bytes(utf16_tabs([OSS_HEADER, *OSS_ROWS]))
    return path


@pytest.fixture
def mapping_file(tmp_path):
    path = tmp_path / "vnpt-oss.json"
    path.write_text(json.dumps(MAPPING), encoding="utf-8")
    return path


def test_list_names_every_registered_kind():
    out = io.StringIO()
    call_command("import_file", "--list", stdout=out)
    kinds = out.getvalue().split()
    assert kinds == sorted(imports.KINDS)
    assert {"stations.stations", "spam_reports.reports", "cables.segments"} <= set(kinds)


def test_another_systems_file_is_mapped_and_month_first_is_asked_not_guessed(
    vnpt, oss_file, mapping_file
):
    # Without the date order: refused whole, saying the file is month first (exit 2).
    result, code = run(
        "stations", str(oss_file), "--as", "tuan.vnpt", "--mapping", str(mapping_file)
    )
    assert code == 2 and result["stored"] == 0, result
    assert "month first" in result["errors"][0]["reason"]
    assert not Station.objects.exists()
    # Said: stored, with the dates as the file meant them and the extra column noticed.
    result, code = run(
        "stations", str(oss_file), "--as", "tuan.vnpt", "--mapping", str(mapping_file),
        "--date-order", "mdy",
    )  # fmt: skip
    assert code == 0, result
    assert (result["kind"], result["rows"], result["stored"], result["refused"]) == (
        "stations.stations", 2, 2, 0,
    )  # fmt: skip
    assert any("Vendor" in n for n in result["notices"]), result["notices"]
    first, second = Station.objects.order_by("code")
    assert (
        str(first.commissioned_on) == "2024-08-13" and str(second.commissioned_on) == "2024-09-08"
    )
    assert first.name == "Trạm Cầu Giấy" and first.operator.code == "VNPT"
    assert (first.structure_type, second.structure_type) == ("monopole", "monopole")


def test_a_saved_mapping_is_used_by_name(vnpt, oss_file):
    imports.save_mapping(vnpt, "stations.stations", "VNPT OSS", MAPPING)
    result, code = run(
        "stations", str(oss_file), "--as", "tuan.vnpt", "--mapping", "VNPT OSS",
        "--date-order", "mdy",
    )  # fmt: skip
    assert (code, result["stored"]) == (0, 2), result
    assert ImportJob.objects.get().options["mapping"]["columns"]["Site ID"] == "code"
    # Another organisation does not see VNPT's mapping.
    assert ImportMapping.objects.get().organization.code == "VNPT"


def test_partial_mode_stores_the_valid_rows_and_reports_the_others(vnpt, oss_file, tmp_path):
    bad = [*OSS_ROWS, ["HN-0003", "Trạm lạ", "VNPT", "2.35", "48.85", "monopole", "30",
                       "public_land", "", ""],
           ["HN-0004", "Trạm khác", "VIETTEL", "105.83", "21.03", "monopole", "30",
            "public_land", "", ""]]  # fmt: skip
    path = tmp_path / "bad.txt"
    path.write_bytes(utf16_tabs([OSS_HEADER, *bad]))
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps(MAPPING))
    common = ["stations", str(path), "--as", "tuan.vnpt", "--mapping", str(mapping)]
    result, code = run(*common, "--date-order", "mdy")  # atomic by default: nothing stored
    assert code == 2 and {e["row"] for e in result["errors"]} == {4, 5}, result
    assert not Station.objects.exists()
    result, code = run(*common, "--date-order", "mdy", "--mode", "partial")
    assert code == 0 and (result["stored"], result["refused"]) == (2, 2), result
    by_row = {e["row"]: e for e in result["errors"]}
    assert by_row[4]["column"] == "lon" and by_row[4]["value"] == "2.35"
    assert by_row[5]["column"] == "operator" and by_row[5]["value"] == "VIETTEL"
    assert set(Station.objects.values_list("code", flat=True)) == {"HN-0001", "HN-0002"}


def test_a_dry_run_checks_and_stores_nothing(vnpt, oss_file, mapping_file):
    result, code = run(
        "stations", str(oss_file), "--as", "tuan.vnpt", "--mapping", str(mapping_file),
        "--date-order", "mdy", "--dry-run",
    )  # fmt: skip
    assert (code, result["refused"], result["stored"]) == (0, 0, 2), result
    assert not Station.objects.exists()


def test_the_spam_import_through_the_same_command(make_user, tmp_path):
    make_user("city_official", "SO_KHCN_HN", username="lan.so")
    path = tmp_path / "5656.csv"
    path.write_text("reporter,message,received_at\n0987654321,S 0912345678 Vay,01/12/2026 10:00\n")
    result, code = run("spam", str(path), "--as", "lan.so", "--option", "origin=export_5656")
    assert (code, result["kind"], result["stored"]) == (0, "spam_reports.reports", 1), result


def test_a_bad_command_line_is_an_error_not_a_trace(vnpt, oss_file):
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("import_file", "nothing-like-it", str(oss_file), "--as", "tuan.vnpt")
    with pytest.raises(CommandError):
        call_command("import_file", "stations", str(oss_file), "--as", "nobody")
    with pytest.raises(CommandError):
        call_command(
            "import_file", "stations", str(oss_file), "--as", "tuan.vnpt", "--mapping", "No such"
        )


def test_the_command_prints_only_json_on_stdout(vnpt, oss_file, mapping_file, settings):
    """As a script calls it: stdout is one JSON object (log lines go to stderr)."""
    proc = subprocess.run(
        [sys.executable, "manage.py", "import_file", "--list"],
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        timeout=120,
    )
    assert proc.returncode == 0 and "stations.stations" in proc.stdout.split()


def test_the_import_page_takes_a_saved_mapping_the_date_order_and_partial_mode(
    client, vnpt, oss_file
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    imports.save_mapping(vnpt, "stations.stations", "VNPT OSS", MAPPING)
    client.force_login(vnpt)
    page = client.get("/stations/import/")
    assert 'value="VNPT OSS"' in page.content.decode()
    rows = [*OSS_ROWS, ["HN-0003", "Trạm lạ", "VNPT", "2.35", "48.85", "monopole", "30",
                        "public_land", "", ""]]  # fmt: skip
    upload = SimpleUploadedFile("oss.txt", utf16_tabs([OSS_HEADER, *rows]))
    response = client.post(
        "/stations/import/",
        {"file": upload, "mapping": "VNPT OSS", "date_order": "mdy", "mode": "partial"},
    )
    assert response.status_code == 200
    errors = response.context["import_errors"]
    assert [(e["row"], e["column"], e["value"]) for e in errors] == [(4, "lon", "2.35")]
    assert 'data-testid="import-errors"' in response.content.decode()
    assert Station.objects.count() == 2


def test_the_templates_header_example_and_instructions_import_back(
    client, make_user, needs_shared_data
):
    """The XLSX template: header, one example row, an instructions sheet in Vietnamese; its
    example row imports as it is (and the CSV template is UTF-8 with a BOM)."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import load_workbook

    from stations.services import IMPORT_COLUMNS

    client.force_login(make_user("operator_staff", "VIETTEL"))
    response = client.get("/stations/import/template.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    data, guide = workbook.worksheets
    rows = list(data.iter_rows(values_only=True))
    assert tuple(rows[0]) == IMPORT_COLUMNS and len(rows) == 2
    instructions = [r for r in guide.iter_rows(values_only=True) if r and r[0]]
    # In the page's language (Vietnamese): each column, what it means, whether it is required.
    assert any(r[0] == "operator" and "doanh nghiệp" in (r[1] or "") for r in instructions)
    assert any(r[0] == "lat" and r[2] for r in instructions)  # required, said so
    upload = SimpleUploadedFile("template.xlsx", response.content)
    done = client.post("/stations/import/", {"file": upload}, follow=True)
    assert done.redirect_chain[-1][0] == "/stations/", done.context and done.context.get(
        "import_errors"
    )
    assert Station.objects.get().code == "HNI-CGY-0001"
    csv_template = client.get("/stations/import/template.csv").content
    assert csv_template.startswith("\ufeff".encode()) and b"HNI-CGY-0001" in csv_template
