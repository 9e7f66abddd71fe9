"""Files made the way Excel and other systems make them, read by core.textfiles and core.tabular:
the encoding found from the whole file (never a fallback because one byte failed), every line
ending and delimiter, title rows above the header, the sheet that holds the table, NFC text; a file
that cannot be read is refused with where and why, never a 500 and never garbled."""

import io
import unicodedata

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import Workbook

from core.exceptions import ImportRejected
from core.tabular import read_table
from core.textfiles import detect_encoding

NAMES = ["Trạm Cầu Giấy", "Trạm Đống Đa", "Ngõ 55 Hoàng Hoa Thám", "Phường Ô Chợ Dừa"]
TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def windows_1258(text):
    """Text as Windows' Vietnamese code page holds it: ă â đ ê ô ơ ư precomposed, the five tone
    marks as separate combining bytes (what Excel writes for "CSV" on a Vietnamese Windows)."""
    out = []
    for char in text:
        parts = unicodedata.normalize("NFD", char)
        tones = "".join(c for c in parts if c in TONES)
        out.append(
            unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES)) + tones
        )
    return "".join(out).encode("cp1258")


def table(rows, sep=",", end="\r\n"):
    return end.join(sep.join(row) for row in rows) + end


ROWS = [["code", "name"], *[[f"VT-{i}", name] for i, name in enumerate(NAMES)]]


def read(data, name="tram.csv", required=("code", "name")):
    return read_table(SimpleUploadedFile(name, data), required=required)


def names(result):
    return [values["name"] for _number, values in result[1]]


@pytest.mark.parametrize(
    "label, data, encoding",
    [
        ("UTF-8", table(ROWS).encode("utf-8"), "utf-8"),
        ("UTF-8 with BOM (Excel's CSV UTF-8)", b"\xef\xbb\xbf" + table(ROWS).encode(), "utf-8-sig"),
        (
            "UTF-16 LE with BOM, tabs (Excel's Unicode text)",
            table(ROWS, "\t").encode("utf-16"),
            "utf-16",
        ),
        ("UTF-16 BE with BOM", b"\xfe\xff" + table(ROWS, "\t").encode("utf-16-be"), "utf-16"),
        ("UTF-16 LE without BOM", table(ROWS, "\t").encode("utf-16-le"), "utf-16-le"),
        ("UTF-16 BE without BOM", table(ROWS, "\t").encode("utf-16-be"), "utf-16-be"),
        ("Windows-1258", windows_1258(table(ROWS)), "cp1258"),
        ("UTF-8, semicolons, CR only (old Mac Excel)", table(ROWS, ";", "\r").encode(), "utf-8"),
        ("UTF-8 with BOM and semicolons", b"\xef\xbb\xbf" + table(ROWS, ";").encode(), "utf-8-sig"),
        ("UTF-8, LF only, tabs", table(ROWS, "\t", "\n").encode(), "utf-8"),
    ],
)
def test_every_encoding_line_ending_and_delimiter_reads_the_same_names(label, data, encoding):
    assert detect_encoding(io.BytesIO(data)) == encoding, label
    header, rows = read(data)
    assert header == ["code", "name"]
    assert names((header, rows)) == NAMES, label
    assert [number for number, _values in rows] == [2, 3, 4, 5]


def test_a_western_single_byte_file_is_windows_1252():
    data = table([["code", "name"], ["X-1", "Café Ñandú"], ["X-2", "Straße"]]).encode("cp1252")
    assert detect_encoding(io.BytesIO(data)) == "cp1252"
    assert names(read(data)) == ["Café Ñandú", "Straße"]


def test_a_utf8_file_with_one_stray_windows_byte_is_refused_at_that_byte_not_garbled():
    """The defect: one Windows-1258 byte made the whole UTF-8 file read as Windows-1258 and the
    names were stored as "Tráº¡m Cáº§u Giáº¥y"."""
    lines = table(ROWS).encode().split(b"\r\n")
    lines[3] = lines[3].replace("Hoàng".encode(), b"Ho\xe0ng")  # 0xE0: à in Windows-1258 / -1252
    data = b"\r\n".join(lines)
    with pytest.raises(ImportRejected) as exc:
        read(data)
    message = str(exc.value.message)
    assert "line 4, byte 16" in message, message  # "VT-2,Ngõ 55 Ho" is 15 bytes
    assert "UTF-8" in message


def test_utf16_with_a_broken_character_is_refused_with_its_line():
    data = table(ROWS, "\t").encode("utf-16-le")
    broken = data.replace("Đống".encode("utf-16-le"), b"\x00\xd8" + "ống".encode("utf-16-le"))
    with pytest.raises(ImportRejected) as exc:
        read(b"\xff\xfe" + broken)
    assert "not valid UTF-16 text: line 3" in str(exc.value.message)


def test_bytes_that_are_no_text_are_refused():
    with pytest.raises(ImportRejected) as exc:
        read(bytes(range(0x80, 0x100)) * 8)
    assert "neither UTF-8 text nor an Excel workbook" in str(exc.value.message)


def test_a_nul_byte_in_a_csv_is_a_refusal_not_a_500():
    data = table(ROWS).encode().replace(b"VT-2", b"VT\x00-2")
    with pytest.raises(ImportRejected) as exc:
        read(data)
    assert "NUL byte at line 4, byte 3" in str(exc.value.message)


def test_names_typed_in_nfd_are_stored_in_nfc():
    data = table(ROWS).encode()
    nfd = unicodedata.normalize("NFD", data.decode()).encode()
    assert nfd != data
    assert names(read(nfd)) == NAMES
    assert all(unicodedata.is_normalized("NFC", n) for n in names(read(nfd)))


def test_title_rows_above_the_header_are_skipped_and_row_numbers_stay_the_files():
    rows = [["DANH SÁCH TRẠM BTS", ""], ["Ngày xuất: 07/12/2026", ""], ["", ""], *ROWS]
    header, found = read(table(rows).encode())
    assert header == ["code", "name"]
    assert [number for number, _values in found] == [5, 6, 7, 8]
    assert names((header, found)) == NAMES


def workbook(*sheets, hidden=()):
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        if title in hidden:
            sheet.sheet_state = "hidden"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_sheet_holding_the_table_is_read_whatever_sheet_was_active():
    data = workbook(
        ("Hướng dẫn", [["Điền mỗi trạm một dòng"], ["code: mã trạm"]]),
        ("Cũ", ROWS[:2]),  # a hidden sheet with an older copy
        ("Trạm", [["Danh sách trạm"], [None], *ROWS]),
        hidden=("Cũ",),
    )
    header, found = read(data, "tram.xlsx")
    assert header == ["code", "name"]
    assert names((header, found)) == NAMES
    assert found[0][0] == 4  # the workbook's own row number


def test_a_file_named_xlsx_that_is_not_one_is_refused():
    with pytest.raises(ImportRejected):
        read(b"code,name\r\n", "tram.xlsx")
