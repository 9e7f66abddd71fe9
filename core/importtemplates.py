"""The template of an import kind (core.imports.Kind): CSV UTF-8 with a BOM (Excel opens it with
its accents), or an XLSX workbook with the header, one example row and an instructions sheet in
the page's language (Vietnamese first)."""

import csv
import io

from django.utils.translation import gettext as _


def csv_template(kind):
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([f.name for f in kind.fields])
    if kind.example:
        writer.writerow([kind.example.get(f.name, "") for f in kind.fields])
    return buffer.getvalue().encode("utf-8")


def xlsx_template(kind):
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    data = workbook.active
    data.title = _("Data")[:31]
    data.append([f.name for f in kind.fields])
    if kind.example:
        data.append([kind.example.get(f.name, "") for f in kind.fields])
    for cell in data[1]:
        cell.font = Font(bold=True)
    data.freeze_panes = "A2"
    guide = workbook.create_sheet(_("Instructions")[:31])
    guide.append([str(kind.label)])
    guide["A1"].font = Font(bold=True, size=13)
    guide.append(
        [_("One row per record, below the header of the first sheet. Dates as dd/mm/yyyy.")]
    )
    guide.append(
        [_("Columns named otherwise are matched by the names below, or mapped on upload.")]
    )
    guide.append([])
    guide.append([_("Column"), _("Meaning"), _("Required"), _("Also read from"), _("Example")])
    for cell in guide[5]:
        cell.font = Font(bold=True)
    for f in kind.fields:
        guide.append(
            [
                f.name,
                str(f.label or ""),
                _("yes") if f.required else "",
                ", ".join(f.also()[1:] if f.label else f.also()),
                str((kind.example or {}).get(f.name, "")),
            ]
        )
    for column, width in zip("ABCDE", (22, 34, 10, 48, 24), strict=True):
        guide.column_dimensions[column].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
