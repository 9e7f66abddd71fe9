"""Station files made the way Excel, LibreOffice and other agencies' systems make them, for the
import's bad-input tests (stations/tests/test_import_files_as_made.py) and for trying the import
by hand:

    python scripts/make_import_files.py DIR     # writes one file per case into DIR

Each case is (file name, bytes); ``CASES`` lists them with what the import must do. Nothing here
needs Django: openpyxl writes the workbooks.
"""

import codecs
import csv
import io
import sys
import unicodedata
import zipfile
from datetime import date
from pathlib import Path

HEADER = [
    "operator", "code", "name", "address", "commune", "lon", "lat", "structure_type",
    "structure_height_m", "building_height_m", "technologies", "land_category", "status",
    "permit_reference", "commissioned_on",
]  # fmt: skip
ROWS = [
    ["VIETTEL", "HN-A-0001", "Trạm Cầu Giấy", "Số 1 Trần Thái Tông", "", "105.8345", "21.036",
     "monopole", "30", "", "4G;5G", "public_land", "operating", "", "15/03/2024"],
    ["VIETTEL", "HN-A-0002", "Trạm Đống Đa", "Ngõ 2 Tây Sơn", "", "105.8300", "21.020",
     "rooftop_mast", "6", "24", "4G", "private", "operating", "", "13/08/2024"],
]  # fmt: skip
ENGLISH = [
    "Operator", "Code", "Name", "Address", "Commune", "Longitude", "Latitude", "Structure type",
    "Structure height (m)", "Building height (m)", "Technologies", "Land category", "Status",
    "Permit reference", "Commissioned on",
]  # fmt: skip


def text(rows, delimiter=",", newline="\r\n"):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return buffer.getvalue()


def workbook(sheets, merge=None):
    """An XLSX of ``sheets`` [(title, rows, hidden)], as openpyxl (and so Excel) writes it."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, rows, hidden in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        if hidden:
            sheet.sheet_state = "hidden"
        if merge and title == merge[0]:
            sheet.merge_cells(merge[1])
    for sheet in book.worksheets:
        if sheet.sheet_state == "visible":
            book.active = book.worksheets.index(sheet)
            break
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_formulas(data, columns):
    """The workbook with the number cells of ``columns`` (letters) as formula cells, as Excel saves
    them: the formula and, beside it, the value it last computed (what an import reads)."""
    import re
    import zipfile

    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            part = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                pattern = rf'(<c r="([{columns}])(\d+)"[^>]*>)<v>'
                part = re.sub(
                    pattern.encode(),
                    lambda m: m.group(1) + b"<f>ROUND(" + m.group(2) + m.group(3) + b"*1,6)</f><v>",
                    part,
                )
            target.writestr(item, part)
    return out.getvalue()


def typed(rows):
    """Rows with numbers as numbers, as a sheet typed in Excel holds them."""
    out = []
    for row in rows:
        cells = list(row)
        for i in (5, 6, 8):
            cells[i] = float(cells[i])
        out.append(cells)
    return out


TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def windows_1258(value):
    """Text as Windows' Vietnamese code page holds it: base letters with their circumflex, breve
    or horn precomposed (â, ơ, ư …) and the tone marks as combining characters after them."""
    out = []
    for ch in unicodedata.normalize("NFC", value):
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in parts if c in TONES)
        out.append(
            unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES)) + tones
        )
    return "".join(out).encode("cp1258")


def zip_bomb():
    """A small file whose workbook part unpacks to 256 MB of zeros (a ratio of about 1,000)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            block = b"\0" * (1024 * 1024)
            for _ in range(256):
                part.write(block)
    return out.getvalue()


def build():
    """{case: (file name, bytes)}."""
    good = [HEADER, *ROWS]
    nfd = unicodedata.normalize("NFD", text(good))
    serial = (date(2024, 3, 15) - date(1899, 12, 30)).days
    dates = [HEADER, *typed(ROWS)]
    dates[1][14] = date(2024, 3, 15)  # a date cell
    dates[2][14] = serial  # a date cell read as its number (a column formatted General)
    return {
        "utf8_bom_semicolons": ("a.csv", codecs.BOM_UTF8 + text(good, ";").encode()),
        "utf16_unicode_text": (
            "a.txt",
            text(good, "\t").encode("utf-16"),
        ),  # Excel's "Unicode text"
        "utf16_le_without_bom": ("a.txt", text(good, "\t").encode("utf-16-le")),
        "utf16_be_with_bom": ("a.txt", codecs.BOM_UTF16_BE + text(good, "\t").encode("utf-16-be")),
        "windows_1258_whole": ("a.csv", windows_1258(text(good))),
        "utf8_with_one_stray_byte": (
            "a.csv",
            text(good).encode().replace("Đống".encode(), b"\xd0\xf4ng"),
        ),
        "cr_only_line_endings": ("a.csv", text(good, ",", "\r").encode()),
        "nfd_everywhere": ("a.csv", nfd.encode()),
        "english_header": ("a.csv", text([ENGLISH, *ROWS]).encode()),
        "extra_column": (
            "a.csv",
            text([[*HEADER, "vendor"], *[[*r, "Ericsson"] for r in ROWS]]).encode(),
        ),
        "missing_required_column": (
            "a.csv",
            text([r[:6] + r[7:] for r in good]).encode(),
        ),
        "duplicate_rows_in_the_file": ("a.csv", text([*good, ROWS[0]]).encode()),
        "month_first_dates": (
            "a.csv",
            text(
                [
                    HEADER,
                    *[[*r[:14], d] for r, d in zip(ROWS, ("3/15/2024", "8/13/2024"), strict=True)],
                ]
            ).encode(),
        ),
        "title_row_and_merged_header": (
            "a.xlsx",
            workbook(
                [("Trạm", [["Danh sách trạm BTS tháng 11/2026"], [], HEADER, *typed(ROWS)], False)],
                merge=("Trạm", "A1:O1"),
            ),
        ),
        "hidden_first_sheet": (
            "a.xlsx",
            workbook(
                [("Cũ", [["x", "y"], ["1", "2"]], True), ("Trạm", [HEADER, *typed(ROWS)], False)]
            ),
        ),
        "serial_and_cell_dates": ("a.xlsx", workbook([("Trạm", dates, False)])),
        # Latitude and height computed by formulas in the sheet (their saved values are read).
        "formula_cells": (
            "a.xlsx",
            with_formulas(workbook([("Trạm", [HEADER, *typed(ROWS)], False)]), "GI"),
        ),
        # A report's sheet pasted whole: its totals row at the bottom.
        "totals_row": (
            "a.csv",
            text(
                [*good, ["Tổng cộng", "2", "", "", "", "", "", "", "", "", "", "", "", "", ""]]
            ).encode(),
        ),
        "not_a_spreadsheet": ("a.xlsx", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"),
        "xlsx_zip_bomb": ("a.xlsx", zip_bomb()),
    }


def main(directory):
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    for case, (name, data) in build().items():
        path = target / f"{case}{Path(name).suffix}"
        path.write_bytes(data)
        print(f"{path}  {len(data):,} bytes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "import-files")
