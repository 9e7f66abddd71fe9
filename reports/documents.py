"""A report run's files, written from its frozen snapshot: an XLSX workbook (a summary sheet and one
sheet per section, numbers with their formats) and a PDF (Vietnamese text in the DejaVu fonts shipped
in static/fonts, a table per section and a bar chart of each breakdown)."""

import io
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

FONT_DIR = Path(settings.BASE_DIR) / "static" / "fonts"
FORMATS = {"count": "#,##0", "km": "#,##0.00", "percent": "0.0", "days": "0.0", "hours": "0.0"}


def _change(value, other):
    if value is None or other is None:
        return None
    return value - other


def xlsx(snapshot):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    summary = book.active
    summary.title = _("Summary")[:31]
    bold = Font(bold=True)
    summary.append([snapshot["heading"] or snapshot["report"]])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([_("Recipient"), snapshot["recipient"]])
    summary.append([_("Period"), snapshot["period"]])
    summary.append(
        [
            _("Data"),
            _("%(start)s to %(cutoff)s")
            % {"start": _date(snapshot["start"]), "cutoff": _date(snapshot["cutoff"])},
        ]
    )
    if snapshot.get("intro"):
        summary.append([snapshot["intro"]])
    summary.column_dimensions["A"].width = 28
    summary.column_dimensions["B"].width = 60
    used = {summary.title}
    for number, section in enumerate(snapshot["sections"], start=1):
        title = _sheet_title(f"{number}. {section['title']}", used)
        sheet = book.create_sheet(title)
        sheet.append([section["title"]])
        sheet["A1"].font = Font(bold=True, size=12)
        header = [
            _("Indicator"),
            _("Unit"),
            snapshot["period"],
            snapshot["previous"],
            pgettext("difference", "Change"),
            snapshot["last_year"],
            pgettext("difference", "Change"),
        ]
        sheet.append(header)
        for cell in sheet[2]:
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True)
        for row in section["rows"]:
            sheet.append(
                [
                    row["label"],
                    row["unit_label"],
                    row["value"],
                    row["previous"],
                    _change(row["value"], row["previous"]),
                    row["last_year"],
                    _change(row["value"], row["last_year"]),
                ]
            )
            fmt = FORMATS.get(row["unit"], "General")
            for cell in sheet[sheet.max_row][2:]:
                cell.number_format = fmt
        for row in section["rows"]:
            if not row["breakdown"]:
                continue
            sheet.append([])
            sheet.append([f"{row['label']} — {_('by')} {section['by']}"])
            sheet.cell(sheet.max_row, 1).font = bold
            fmt = FORMATS.get(row["unit"], "General")
            for item in row["breakdown"]:
                sheet.append([item["label"], row["unit_label"], item["value"]])
                sheet.cell(sheet.max_row, 3).number_format = fmt
        sheet.column_dimensions["A"].width = 48
        for column in "BCDEFG":
            sheet.column_dimensions[column].width = 16
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(title, used):
    for bad in "[]:*?/\\":
        title = title.replace(bad, " ")
    title = title[:31].strip()
    base, n = title, 2
    while title in used:
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(title)
    return title


def _date(iso):
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"


def _fmt(value, unit):
    if value is None:
        return "—"
    if unit == "count":
        return f"{int(value):,}".replace(",", ".")
    text = f"{float(value):,.2f}" if unit == "km" else f"{float(value):,.1f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


_FONTS_READY = False


def _fonts():
    global _FONTS_READY
    if not _FONTS_READY:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        pdfmetrics.registerFont(TTFont("DejaVu", str(FONT_DIR / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(FONT_DIR / "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFontFamily("DejaVu", normal="DejaVu", bold="DejaVu-Bold")
        _FONTS_READY = True


def _chart(row, width):
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors

    items = [i for i in row["breakdown"] if i["value"] is not None][:15]
    if not items:
        return None
    height = 22 * len(items) + 30
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 140, 15
    chart.width, chart.height = width - 160, height - 30
    chart.data = [[float(i["value"]) for i in reversed(items)]]
    chart.categoryAxis.categoryNames = [str(i["label"])[:24] for i in reversed(items)]
    chart.categoryAxis.labels.fontName = "DejaVu"
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = "DejaVu"
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#2563eb")
    drawing.add(chart)
    return drawing


def pdf(snapshot):
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    _fonts()
    base = ParagraphStyle("base", fontName="DejaVu", fontSize=9, leading=12)
    title = ParagraphStyle("title", parent=base, fontName="DejaVu-Bold", fontSize=14, leading=18)
    heading = ParagraphStyle("h", parent=base, fontName="DejaVu-Bold", fontSize=11, leading=15)
    cell = ParagraphStyle("cell", parent=base, fontSize=8, leading=10)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=1.8 * cm,
        rightMargin=1.8 * cm,
        topMargin=1.5 * cm,
        bottomMargin=1.5 * cm,
        title=snapshot["report"],
    )
    story = [
        Paragraph(_escape(snapshot["heading"] or snapshot["report"]), title),
        Spacer(1, 4),
        Paragraph(
            _escape(
                _("To: %(recipient)s · %(period)s · data %(start)s – %(cutoff)s")
                % {
                    "recipient": snapshot["recipient"],
                    "period": snapshot["period"],
                    "start": _date(snapshot["start"]),
                    "cutoff": _date(snapshot["cutoff"]),
                }
            ),
            base,
        ),
        Spacer(1, 8),
    ]
    if snapshot.get("intro"):
        story += [Paragraph(_escape(snapshot["intro"]), base), Spacer(1, 8)]
    width = A4[0] - 3.6 * cm
    for number, section in enumerate(snapshot["sections"], start=1):
        story.append(Paragraph(_escape(f"{number}. {section['title']}"), heading))
        data = [
            [
                Paragraph(_escape(_("Indicator")), cell),
                Paragraph(_escape(snapshot["period"]), cell),
                Paragraph(_escape(snapshot["previous"]), cell),
                Paragraph(_escape(snapshot["last_year"]), cell),
            ]
        ]
        for row in section["rows"]:
            data.append(
                [
                    Paragraph(_escape(f"{row['label']} ({row['unit_label']})"), cell),
                    _fmt(row["value"], row["unit"]),
                    _fmt(row["previous"], row["unit"]),
                    _fmt(row["last_year"], row["unit"]),
                ]
            )
        table = Table(data, colWidths=[width * 0.46, width * 0.18, width * 0.18, width * 0.18])
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), "DejaVu"),
                    ("FONTSIZE", (0, 0), (-1, -1), 8),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e5e7eb")),
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9ca3af")),
                    ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        story += [Spacer(1, 4), table, Spacer(1, 6)]
        for row in section["rows"]:
            chart = _chart(row, width) if row["breakdown"] else None
            if chart is not None:
                story += [Paragraph(_escape(f"{row['label']} — {section['by']}"), base), chart]
        story.append(Spacer(1, 10))
    doc.build(story)
    return out.getvalue()


def _escape(text):
    return str(text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
