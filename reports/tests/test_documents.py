"""A run's files (reports.documents) from a snapshot: the XLSX opens with openpyxl, has a summary
sheet and one sheet per section with number formats; the PDF is a PDF whose text (read back through
the fonts' ToUnicode maps) is the Vietnamese of the snapshot, set in the embedded DejaVu fonts."""

import base64
import io
import re
import zlib

import pytest
from openpyxl import load_workbook

from reports import documents

SNAPSHOT = {
    "report": "Báo cáo tháng về hạ tầng viễn thông",
    "heading": "Báo cáo tình hình hạ tầng viễn thông thụ động trên địa bàn Hà Nội",
    "intro": "Số liệu tính đến ngày chốt, so sánh với kỳ trước và cùng kỳ năm trước.",
    "recipient": "Sở KH&CN Hà Nội",
    "period": "Tháng 10/2026",
    "period_key": "2026-10",
    "start": "2026-09-16",
    "cutoff": "2026-10-15",
    "previous": "Tháng 09/2026",
    "last_year": "Tháng 10/2025",
    "computed_at": "2026-10-16T01:00:00+07:00",
    "sections": [
        {
            "title": "Hạ ngầm cáp viễn thông",
            "by": "operator",
            "rows": [
                {
                    "key": "cables.km_duct_built",
                    "label": "Ống ngầm đã xây dựng",
                    "unit": "km",
                    "unit_label": "km",
                    "value": 12.345,
                    "previous": 10.0,
                    "last_year": 4.5,
                    "breakdown": [
                        {"key": "VIETTEL", "label": "Viettel", "value": 7.3},
                        {"key": "VNPT", "label": "VNPT", "value": 5.045},
                    ],
                }
            ],
        },
        {
            "title": "Tin nhắn rác: tiếp nhận và xử lý",
            "by": "",
            "rows": [
                {
                    "key": "spam_reports.reports_received",
                    "label": "Phản ánh tin nhắn rác tiếp nhận",
                    "unit": "count",
                    "unit_label": "count",
                    "value": 15234,
                    "previous": 14000,
                    "last_year": None,
                    "breakdown": [],
                },
                {
                    "key": "spam_reports.handled_within_sla_pct",
                    "label": "Xử lý đúng hạn",
                    "unit": "percent",
                    "unit_label": "%",
                    "value": 93.4,
                    "previous": None,
                    "last_year": 88.0,
                    "breakdown": [],
                },
            ],
        },
        {
            # The same title twice, and characters a sheet name may not hold.
            "title": "Tin nhắn rác: tiếp nhận và xử lý",
            "by": "",
            "rows": [],
        },
    ],
}


# --- XLSX ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def book():
    return load_workbook(io.BytesIO(documents.xlsx(SNAPSHOT)))


def test_xlsx_has_a_summary_and_a_sheet_per_section(book):
    names = book.sheetnames
    assert len(names) == 1 + len(SNAPSHOT["sections"])
    assert names[1].startswith("1. Hạ ngầm cáp")
    assert names[2].startswith("2. Tin nhắn rác")
    assert len(set(names)) == len(names)
    for name in names:
        assert len(name) <= 31 and not set(name) & set("[]:*?/\\")
    summary = book[names[0]]
    assert summary["A1"].value == SNAPSHOT["heading"]
    values = [c.value for row in summary.iter_rows() for c in row]
    assert "Sở KH&CN Hà Nội" in values and "Tháng 10/2026" in values


def test_xlsx_numbers_are_numbers_with_their_formats(book):
    cables = book[book.sheetnames[1]]
    header = [c.value for c in cables[2]]
    assert header[2:4] == ["Tháng 10/2026", "Tháng 09/2026"] and header[5] == "Tháng 10/2025"
    row = cables[3]
    assert row[0].value == "Ống ngầm đã xây dựng"
    assert row[2].value == pytest.approx(12.345) and row[3].value == 10.0
    assert row[4].value == pytest.approx(2.345)  # change on the previous period
    assert row[6].value == pytest.approx(7.845)  # change on last year
    assert {c.number_format for c in row[2:]} == {"#,##0.00"}
    breakdown = {r[0].value: r for r in cables.iter_rows(min_row=4) if r[0].value}
    assert breakdown["Viettel"][2].value == 7.3
    assert breakdown["Viettel"][2].number_format == "#,##0.00"

    spam = book[book.sheetnames[2]]
    received, on_time = spam[3], spam[4]
    assert received[2].value == 15234 and received[2].number_format == "#,##0"
    assert received[5].value is None and received[6].value is None  # no last-year figure
    assert on_time[2].value == 93.4 and on_time[2].number_format == "0.0"
    assert on_time[4].value is None  # no change without a previous figure


# --- PDF ----------------------------------------------------------------------------------------------


def _objects(data):
    """{object number: (dictionary, decoded stream or None)} of a PDF written by ReportLab."""
    found = {}
    for match in re.finditer(rb"(\d+) 0 obj\s*<<(.*?)>>\s*(stream\r?\n)?", data, re.S):
        number, head, has_stream = int(match.group(1)), match.group(2), match.group(3)
        body = None
        if has_stream:
            length = int(re.search(rb"/Length (\d+)", head).group(1))
            body = data[match.end() : match.end() + length]
            filters = re.search(rb"/Filter\s*\[?([^\]>]*)", head)
            for name in re.findall(rb"/(\w+)", filters.group(1)) if filters else []:
                if name == b"ASCII85Decode":
                    body = base64.a85decode(body.strip().removesuffix(b"~>"))
                elif name == b"FlateDecode":
                    body = zlib.decompress(body)
        found[number] = (head, body)
    return found


def _unescape(raw):
    out, i = bytearray(), 0
    while i < len(raw):
        if raw[i] == 0x5C:  # a backslash escape
            octal = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(0), 8))
                i += 1 + len(octal.group(0))
                continue
            following = raw[i + 1]
            out.append({110: 10, 114: 13, 116: 9, 98: 8, 102: 12}.get(following, following))
            i += 2
            continue
        out.append(raw[i])
        i += 1
    return bytes(out)


def pdf_text(data):
    """The text drawn on the pages, decoded through each font's ToUnicode map."""
    objects = _objects(data)
    maps = {}
    for head, _ in objects.values():
        name = re.search(rb"/Name /(\S+)", head)
        to_unicode = re.search(rb"/ToUnicode (\d+) 0 R", head)
        if name and to_unicode:
            cmap = objects[int(to_unicode.group(1))][1].split(b"beginbfchar")[1]
            maps[name.group(1)] = {
                int(code, 16): chr(int(char, 16))
                for code, char in re.findall(rb"<([0-9A-Fa-f]+)> <([0-9A-Fa-f]+)>", cmap)
            }
    words, font = [], None
    for _, body in objects.values():
        if body is None or b"BT" not in body:
            continue
        for token in re.finditer(rb"/(\S+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\)\s*Tj", body, re.S):
            if token.group(1):
                font = token.group(1)
                continue
            raw = _unescape(token.group(2))
            cmap = maps.get(font)
            words.append("".join(cmap.get(b, "?") for b in raw) if cmap else raw.decode("latin-1"))
    return " ".join(words)


@pytest.fixture(scope="module")
def pdf():
    return documents.pdf(SNAPSHOT)


def test_pdf_is_a_pdf_with_the_dejavu_fonts_embedded(pdf):
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    fonts = re.findall(rb"/BaseFont /(\S+)", pdf)
    assert any(f.endswith(b"+DejaVuSans") for f in fonts), fonts
    assert any(f.endswith(b"+DejaVuSans-Bold") for f in fonts), fonts
    assert b"/FontFile2" in pdf  # the TrueType glyphs are in the file, not left to the reader


def test_pdf_text_is_the_vietnamese_of_the_report(pdf):
    text = pdf_text(pdf)
    for phrase in (
        "Báo cáo tình hình hạ tầng viễn thông thụ động trên địa bàn Hà Nội",
        "Tháng 10/2026",
        "Ống ngầm đã xây dựng",
        "Phản ánh tin nhắn rác tiếp nhận",
        "Xử lý đúng hạn",
        "16/09/2026",
        "15/10/2026",
    ):
        assert phrase in text, phrase
    assert "12,35" in text  # km with two decimals, Vietnamese decimal comma
    assert "15.234" in text  # a count with Vietnamese thousands separator
    assert "93,4" in text
    assert "Viettel" in text  # the breakdown's chart labels
    assert "?" not in text  # every glyph drawn maps back to its character


def test_files_of_an_empty_report():
    empty = {**SNAPSHOT, "heading": "", "intro": "", "sections": []}
    book = load_workbook(io.BytesIO(documents.xlsx(empty)))
    assert len(book.sheetnames) == 1
    assert book.active["A1"].value == SNAPSHOT["report"]
    assert documents.pdf(empty).startswith(b"%PDF-")
