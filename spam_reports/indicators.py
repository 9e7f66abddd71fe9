"""Measures of the spam_reports app, registered in core's indicator registry."""

from django.db import connection
from django.utils.translation import gettext_lazy as _

from core.indicators import indicator, percent


def _rows(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@indicator(
    "spam_reports.handled_within_sla_pct",
    _("Spam cases handled within the deadline"),
    "percent",
    _(
        "Of the assignments to operators answered in the period, the share answered by their "
        "deadline."
    ),
    dimensions=("operator",),
)
def handled_within_sla_pct(window, by=None):
    sql = """
        SELECT {key} count(*), count(*) FILTER (WHERE a.responded_at <= a.deadline)
        FROM spam_reports_operatoraction a {join}
        WHERE a.outcome <> ''
          AND (a.responded_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= %(day)s
          AND (%(start)s::date IS NULL OR (a.responded_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date >= %(start)s)
        {group}
    """
    params = {"day": window.as_of, "start": window.start}
    if by == "operator":
        rows = _rows(
            sql.format(
                key="o.code, o.short_name,",
                join="JOIN core_organization o ON o.id = a.operator_id",
                group="GROUP BY o.code, o.short_name ORDER BY o.code",
            ),
            params,
        )
        return [
            {"key": c, "label": n or c, "value": percent(ok, total)} for c, n, total, ok in rows
        ]
    total, ok = _rows(sql.format(key="", join="", group=""), params)[0]
    return percent(ok, total)


@indicator(
    "spam_reports.reports_received",
    _("Spam reports received"),
    "count",
    _("Complaints received in the period (by the day the message or call was received)."),
    dimensions=("operator", "channel"),
)
def reports_received(window, by=None):
    column = {"operator": "coalesce(o.code, '')", "channel": "s.channel"}.get(by)
    sql = f"""
        SELECT {column + "," if column else ""} coalesce(sum(s.received), 0)
        FROM spam_reports_dailystat s LEFT JOIN core_organization o ON o.id = s.operator_id
        WHERE s.day <= %(day)s AND (%(start)s::date IS NULL OR s.day >= %(start)s)
        {"GROUP BY 1 HAVING sum(s.received) <> 0 ORDER BY 1" if column else ""}
    """
    rows = _rows(sql, {"day": window.as_of, "start": window.start})
    if column:
        return [{"key": k, "label": k, "value": int(v)} for k, v in rows]
    return int(rows[0][0])


@indicator(
    "spam_reports.assignments_overdue",
    _("Spam assignments past their deadline"),
    "count",
    _("Cases assigned to operators and not answered by the deadline (now)."),
    dimensions=("operator",),
    tags=("overdue",),
    link="/spam/assignments/?state=overdue",
)
def assignments_overdue(window, by=None):
    where = "WHERE a.outcome = '' AND a.deadline < now()"
    if by == "operator":
        rows = _rows(
            f"""SELECT o.code, o.short_name, count(*) FROM spam_reports_operatoraction a
                JOIN core_organization o ON o.id = a.operator_id {where}
                GROUP BY o.code, o.short_name ORDER BY o.code""",
            {},
        )
        return [{"key": c, "label": n or c, "value": v} for c, n, v in rows]
    return _rows(f"SELECT count(*) FROM spam_reports_operatoraction a {where}", {})[0][0]
