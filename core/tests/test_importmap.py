"""core.importmap: which column feeds which field, the same for every kind of import."""

from datetime import date

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy

from core.dateorder import MDY, parse_date
from core.exceptions import ImportRejected
from core.importmap import Choices, Field, blank, header_test, parse_mapping, require, resolve

FIELDS = (
    Field("code", gettext_lazy("code"), True, ("mã trạm",)),
    Field("name", gettext_lazy("name"), True, ("tên trạm",)),
    Field("note", gettext_lazy("note")),
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def test_columns_are_matched_by_name_label_and_synonym_whatever_the_case_accents_or_spaces():
    resolution = resolve(["MÃ TRẠM", "Ten_tram", "Nhà cung cấp", "GHI CHU"], FIELDS)
    # "Ghi chú" is the Vietnamese label of the note field.
    assert resolution.columns == {"MÃ TRẠM": "code", "Ten_tram": "name", "GHI CHU": "note"}
    assert resolution.ignored == ["Nhà cung cấp"]
    assert "Nhà cung cấp" in resolution.notices()[0]
    assert resolution.missing(FIELDS) == []


def test_a_mapping_feeds_ignores_and_sets_constants():
    mapping = {"Site": "code", "Label": "name", "name": "", "=note": "từ VNPT OSS"}
    resolution = resolve(["Site", "Label", "name"], FIELDS, mapping)
    assert resolution.columns == {"Site": "code", "Label": "name"}
    assert resolution.ignored == ["name"]  # the mapping said: ignore it
    assert resolution.row({"Site": "S-1", "Label": "Trạm", "name": "x"}) == {
        "code": "S-1",
        "name": "Trạm",
        "note": "từ VNPT OSS",
    }
    assert parse_mapping(mapping) == parse_mapping(
        {
            "columns": {"Site": "code", "Label": "name", "name": ""},
            "constants": {"note": "từ VNPT OSS"},
        }
    )


def test_a_mapping_to_a_field_that_does_not_exist_is_refused():
    with pytest.raises(ImportRejected) as refused:
        resolve(["Site"], FIELDS, {"Site": "kode"})
    assert "kode" in str(refused.value.message)


def test_a_column_feeds_one_field_once_and_a_missing_required_field_refuses_the_file():
    resolution = resolve(["code", "Mã trạm"], FIELDS)
    assert resolution.columns == {"code": "code"} and resolution.ignored == ["Mã trạm"]
    with pytest.raises(ImportRejected) as refused:
        require(resolution, FIELDS)
    assert "name" in str(refused.value.message)


def test_the_header_row_is_the_one_that_feeds_every_required_field():
    is_header = header_test(FIELDS)
    assert not is_header(["danh sách trạm bts"])
    assert is_header(["mã trạm", "tên trạm"])


@pytest.mark.parametrize("value", ["NA", "n/a", "-", "Không có", "KHONG CO", "#N/A", " "])
def test_placeholders_read_as_empty(value):
    assert blank(value) == ""
    assert resolve(["code"], FIELDS).row({"code": value}) == {"code": ""}


def test_real_values_are_kept_as_written():
    assert blank("Không") == "Không" and blank("N/A-1") == "N/A-1" and blank("0") == "0"


def test_choices_from_codes_and_labels_in_both_languages():
    lookup = Choices(
        [("monopole", gettext_lazy("Monopole")), ("guyed_mast", gettext_lazy("Guyed mast"))]
    )
    with translation.override("vi"):
        vietnamese = str(gettext_lazy("Guyed mast"))
    assert lookup.find("MONOPOLE") == "monopole"
    assert lookup.find("guyed mast") == "guyed_mast" and lookup.find("Guyed-Mast") == "guyed_mast"
    assert lookup.find(vietnamese.upper()) == "guyed_mast"
    assert lookup.find("tháp") == "tháp"  # no choice: unchanged, the field refuses it


def test_dates_in_the_files_order_iso_and_excel_serials():
    assert parse_date("09/08/2026") == date(2026, 8, 9)
    assert parse_date("8/9/2026", MDY) == date(2026, 8, 9)
    assert parse_date("2026-08-09") == date(2026, 8, 9)
    assert parse_date("46243") == date(2026, 8, 9)  # Excel's serial for 09/08/2026
    assert parse_date("") is None
    with pytest.raises(ValueError):
        parse_date("31/02/2026")
    with pytest.raises(ValueError):
        parse_date("hôm qua")
