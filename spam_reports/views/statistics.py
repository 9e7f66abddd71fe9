"""The statistics page with a server-drawn trend chart, and its CSV and XLSX exports."""

import csv
import io
from datetime import timedelta

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from core.exports import XLSX_CONTENT_TYPE, _text
from core.models import Organization
from core.scoping import sees_everything
from spam_reports import rules, selectors, services
from spam_reports.forms import StatisticsForm
from spam_reports.models import Channel, SpamCase

TREND_DAYS_FOR_A_DAY = 30
CHART = {"width": 820, "height": 240, "left": 48, "right": 12, "top": 12, "bottom": 34}


def _nice_max(value):
    """A round number at least ``value`` for the chart's top line (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def trend_chart(per, trend):
    """Geometry of the daily trend as an SVG bar chart (received, verified inside), drawn by the
    template: no JavaScript, nothing from a CDN. Numbers are pre-formatted (never localised)."""
    days = [per.start + timedelta(days=i) for i in range((per.end - per.start).days)]
    by_day = {row["day"]: row for row in trend}
    values = [
        (
            day,
            int(by_day.get(day, {}).get("received") or 0),
            int(by_day.get(day, {}).get("verified") or 0),
        )
        for day in days
    ]
    top = _nice_max(max((v[1] for v in values), default=0))
    width, height = CHART["width"], CHART["height"]
    plot_w = width - CHART["left"] - CHART["right"]
    plot_h = height - CHART["top"] - CHART["bottom"]
    slot = plot_w / max(1, len(values))
    bar_w = max(1.0, slot * 0.8)
    base = CHART["top"] + plot_h
    bars = []
    for i, (day, received, verified) in enumerate(values):
        x = CHART["left"] + i * slot + (slot - bar_w) / 2
        h = plot_h * received / top
        hv = plot_h * verified / top
        bars.append(
            {
                "day": day,
                "iso": day.isoformat(),
                "received": received,
                "verified": verified,
                "x": f"{x:.2f}",
                "w": f"{bar_w:.2f}",
                "y": f"{base - h:.2f}",
                "h": f"{h:.2f}",
                "vy": f"{base - hv:.2f}",
                "vh": f"{hv:.2f}",
            }
        )
    steps = 4 if str(top)[0] == "2" else 5
    ticks = [
        {"value": top * k // steps, "y": f"{base - plot_h * k / steps:.2f}"}
        for k in range(steps + 1)
    ]
    label_every = max(1, len(values) // 8)
    labels = [
        {"text": date_format(b["day"], "d/m"), "x": f"{float(b['x']) + bar_w / 2:.2f}"}
        for i, b in enumerate(bars)
        if i % label_every == 0
    ]
    return {
        "width": width,
        "height": height,
        "left": CHART["left"],
        "right": width - CHART["right"],
        "base": f"{base:.2f}",
        "label_y": f"{base + 16:.2f}",
        "bars": bars,
        "ticks": ticks,
        "labels": labels,
        "total": sum(v[1] for v in values),
        "start": per.start,
        "end": per.end - timedelta(days=1),
    }


def _operator_names(rows):
    """Fill the names of operators a statistics row only knows by id."""
    missing = {r["operator_id"] for r in rows if r.get("operator_id") and not r.get("short_name")}
    names = Organization.objects.in_bulk(missing) if missing else {}
    for row in rows:
        org = names.get(row.get("operator_id"))
        if org is not None:
            row["short_name"], row["operator_name"] = org.short_name, org.name
    return rows


def _channel_label(code):
    return Channel(code).label if code in Channel.values else code


def statistics_tables(stats):
    """The statistics as tables ({key: (title, header, rows)}) for the CSV and XLSX exports."""
    unknown = _("Unknown operator")
    counts = [
        [
            r["short_name"] or r["operator_name"] or unknown,
            str(_channel_label(r["channel"])),
            r["received"],
            r["verified"],
            r["invalid"],
        ]
        for r in stats["counts"]
    ]
    handling = [
        [
            r["short_name"] or r["operator_name"] or unknown,
            r["confirmed"],
            r["assigned"],
            r["answered"],
            r["on_time_pct"],
            r["late"],
            r["blocked"],
            round(r["median_hours"], 2) if r["median_hours"] is not None else None,
            round(r["p95_hours"], 2) if r["p95_hours"] is not None else None,
        ]
        for r in stats["handling"]
    ]
    top = [
        [r["sender"], r["sender_kind"], r["status"], ";".join(r["flags"] or []), r["reports"]]
        for r in stats["top_senders"]
    ]
    trend = [[r["day"], r["received"], r["verified"], r["invalid"]] for r in stats["trend"]]
    return {
        "counts": (
            _("Reports per operator and channel"),
            [_("Operator"), _("Channel"), _("Received"), _("Verified"), _("Invalid")],
            counts,
        ),
        "handling": (
            _("Handling per operator"),
            [
                _("Operator"),
                _("Cases confirmed"),
                _("Assigned"),
                _("Answered"),
                _("On time (%)"),
                _("Late"),
                _("Blocked"),
                _("Median hours"),
                _("95th percentile hours"),
            ],
            handling,
        ),
        "top": (
            _("Top senders"),
            [_("Sender"), _("Kind of sender"), _("Status"), _("Rule flags"), _("Reports")],
            top,
        ),
        "trend": (
            _("Reports per day"),
            [_("Day"), _("Received"), _("Verified"), _("Invalid")],
            trend,
        ),
    }


def statistics_export(fmt, table, stats, filename):
    tables = statistics_tables(stats)
    if fmt == "csv":
        title, header, rows = tables.get(table) or tables["counts"]
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        writer.writerow([str(h) for h in header])
        for row in rows:
            writer.writerow([_text(v) for v in row])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{filename}-{table if table in tables else "counts"}.csv"'
        )
        return response
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for title, header, rows in tables.values():
        sheet = workbook.create_sheet(title=str(title)[:31])
        sheet.append([str(h) for h in header])
        for cell in sheet[1]:
            cell.font = bold
        for row in rows:
            sheet.append(row)
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
                elif hasattr(cell.value, "year"):
                    cell.number_format = "DD/MM/YYYY"
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


class StatisticsView(TemplateView):
    template_name = "spam_reports/statistics.html"

    def get(self, request, *args, **kwargs):
        user = request.user
        if not services.can_report(user):
            raise DjangoPermissionDenied
        sees_all = sees_everything(user)
        form = StatisticsForm(request.GET, sees_all=sees_all)
        kind, day, operator_id, channel = form.values()
        per = selectors.period(kind, day)
        stats = selectors.statistics(user, per, operator_id=operator_id, channel=channel)
        _operator_names(stats["handling"])
        fmt = request.GET.get("export")
        filename = f"spam-statistics-{per.kind}-{per.start.isoformat()}"
        if fmt in ("csv", "xlsx"):
            return statistics_export(fmt, request.GET.get("table", "counts"), stats, filename)
        if kind == "day":
            trend_period = selectors.Period(
                "day", day - timedelta(days=TREND_DAYS_FOR_A_DAY - 1), day + timedelta(days=1)
            )
            trend = selectors.daily_trend(user, trend_period, operator_id, channel)
        else:
            trend_period, trend = per, stats["trend"]
        for row in stats["counts"]:
            row["channel_label"] = _channel_label(row["channel"])
        for row in stats["top_senders"]:
            row["flag_labels"] = rules.labels(row["flags"] or [])
            row["status_label"] = (
                SpamCase.Status(row["status"]).label
                if row["status"] in SpamCase.Status.values
                else row["status"]
            )
        query = request.GET.copy()
        query.pop("export", None)
        query.pop("table", None)
        context = self.get_context_data(
            form=form,
            period=per,
            period_end=per.end - timedelta(days=1),
            stats=stats,
            totals=stats["totals"],
            chart=trend_chart(trend_period, trend),
            export_query=query.urlencode(),
            sees_all=sees_all,
            tab="statistics",
        )
        return self.render_to_response(context)
