"""The station import with files made the way Excel, LibreOffice and other systems make them
(scripts/make_import_files.py makes them): a clear outcome for each, never a 500, never a value
silently changed. Run through manage.py import_file, the pipeline every door uses."""

import importlib.util
import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

from stations.models import Station

pytestmark = pytest.mark.django_db

_spec = importlib.util.spec_from_file_location(
    "make_import_files", Path(settings.BASE_DIR) / "scripts" / "make_import_files.py"
)
files = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(files)
CASES = files.build()

STORED = "stored"
# case -> (what the import does, a fragment of the reason when it refuses)
EXPECTED = {
    "utf8_bom_semicolons": (STORED, ""),
    "utf16_unicode_text": (STORED, ""),
    "utf16_le_without_bom": (STORED, ""),
    "utf16_be_with_bom": (STORED, ""),
    "windows_1258_whole": (STORED, ""),
    "utf8_with_one_stray_byte": ("refused", "line 3, byte"),
    "cr_only_line_endings": (STORED, ""),
    "nfd_everywhere": (STORED, ""),
    "english_header": (STORED, ""),
    "extra_column": (STORED, "vendor"),  # stored, the column noticed
    "missing_required_column": ("refused", "Missing columns: lat"),
    "duplicate_rows_in_the_file": ("refused", "already appears on row 2"),
    "month_first_dates": ("refused", "month first"),
    "title_row_and_merged_header": (STORED, ""),
    "hidden_first_sheet": (STORED, ""),
    "serial_and_cell_dates": (STORED, ""),
    "formula_cells": (STORED, ""),
    "totals_row": (STORED, "totals row"),
    "not_a_spreadsheet": ("refused", "not an Excel workbook"),
    "xlsx_zip_bomb": ("refused", "zip bomb"),
}


def test_every_case_has_an_expected_outcome():
    assert set(EXPECTED) == set(CASES)


def run(tmp_path, case, *extra):
    name, data = CASES[case]
    path = tmp_path / f"{case}{Path(name).suffix}"
    path.write_bytes(data)
    out, code = io.StringIO(), 0
    with translation.override("en"):
        try:
            call_command(
                "import_file", "stations", str(path), "--as", "minh.viettel", *extra, stdout=out
            )
        except SystemExit as exc:
            code = exc.code
    return json.loads(out.getvalue()), code


@pytest.fixture
def minh(make_user, needs_shared_data):
    return make_user("operator_staff", "VIETTEL", username="minh.viettel")


@pytest.mark.parametrize("case", list(EXPECTED))
def test_a_file_as_made(minh, tmp_path, case):
    outcome, fragment = EXPECTED[case]
    result, code = run(tmp_path, case)
    if outcome == STORED:
        assert (code, result["stored"], result["refused"]) == (0, 2, 0), result
        names = dict(Station.objects.values_list("code", "name"))
        assert names == {"HN-A-0001": "Trạm Cầu Giấy", "HN-A-0002": "Trạm Đống Đa"}  # NFC
        first, second = Station.objects.order_by("code")
        assert (first.structure_type, second.land_category) == ("monopole", "private")
        assert str(first.commissioned_on) == "2024-03-15"
        if fragment:
            assert any(fragment in n for n in result["notices"]), result["notices"]
    else:
        assert code == 2 and result["stored"] == 0, result
        reasons = " ".join(e["reason"] for e in result["errors"])
        assert fragment in reasons, reasons
        assert not Station.objects.exists()


def test_month_first_is_stored_as_meant_once_said(minh, tmp_path):
    result, code = run(tmp_path, "month_first_dates", "--date-order", "mdy")
    assert (code, result["stored"]) == (0, 2), result
    dates = dict(Station.objects.values_list("code", "commissioned_on"))
    assert [str(dates["HN-A-0001"]), str(dates["HN-A-0002"])] == ["2024-03-15", "2024-08-13"]


def test_the_same_file_again_updates_and_duplicates_nothing(minh, tmp_path):
    run(tmp_path, "utf8_bom_semicolons")
    result, code = run(tmp_path, "utf8_bom_semicolons")
    assert (code, result["stored"]) == (0, 2) and Station.objects.count() == 2


def test_a_file_too_large_is_refused_by_its_size_before_reading(minh, tmp_path, settings):
    settings.IMPORT_MAX_BYTES = 100
    result, code = run(tmp_path, "utf8_bom_semicolons")
    assert code == 2 and "larger than" in result["errors"][0]["reason"], result


def test_the_import_writes_one_history_event_per_row_with_who_did_it(minh, tmp_path):
    """Written in bulk by the import (not by the row triggers), the events are the ones the
    triggers write: an insert per new station, an update per changed one, with the importer."""
    from core.history import events_for

    run(tmp_path, "utf8_bom_semicolons")
    run(tmp_path, "utf8_bom_semicolons")
    station = Station.objects.get(code="HN-A-0001")
    events = list(events_for(station))
    assert [e.pgh_label for e in events] == ["insert", "update"]
    assert all(e.pgh_context and e.pgh_context["user"] == minh.pk for e in events)
    assert events[0].pgh_data["name"] == "Trạm Cầu Giấy"
    assert events[0].pgh_data["location"]["coordinates"] == [105.8345, 21.036]
