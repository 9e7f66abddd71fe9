"""Measures of the stations app, registered in core's indicator registry."""

from django.db import connection
from django.utils.translation import gettext_lazy as _

from core.indicators import indicator, percent


def _rows(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@indicator(
    "stations.count",
    _("BTS stations"),
    "count",
    _("Stations registered by the day and not decommissioned (planned ones excluded)."),
    dimensions=("operator",),
)
def station_count(window, by=None):
    where = """
        WHERE s.created_at::date <= %(day)s AND s.status IN ('permitted', 'operating', 'suspended')
    """
    if by == "operator":
        rows = _rows(
            f"""SELECT o.code, o.short_name, count(*) FROM stations_station s
                JOIN core_organization o ON o.id = s.operator_id {where}
                GROUP BY o.code, o.short_name ORDER BY o.code""",
            {"day": window.as_of},
        )
        return [{"key": c, "label": n or c, "value": v} for c, n, v in rows]
    return _rows(f"SELECT count(*) FROM stations_station s {where}", {"day": window.as_of})[0][0]


@indicator(
    "stations.permits_on_time_pct",
    _("Permit applications decided on time"),
    "percent",
    _(
        "Of the applications decided in the period (approved, rejected or deemed approved), the "
        "share decided by their decision deadline."
    ),
    dimensions=("operator",),
)
def permits_on_time_pct(window, by=None):
    sql = """
        SELECT {key} count(*),
               count(*) FILTER (WHERE a.decision_due IS NULL
                                OR (a.decided_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= a.decision_due)
        FROM stations_permitapplication a {join}
        WHERE a.decided_at IS NOT NULL
          AND a.status IN ('approved', 'rejected', 'deemed_approved')
          AND (a.decided_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= %(day)s
          AND (%(start)s::date IS NULL OR (a.decided_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date >= %(start)s)
        {group}
    """
    params = {"day": window.as_of, "start": window.start}
    if by == "operator":
        rows = _rows(
            sql.format(
                key="o.code, o.short_name,",
                join="JOIN core_organization o ON o.id = a.applicant_id",
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
    "stations.permits_overdue",
    _("Permit applications past their deadline"),
    "count",
    _("Applications under examination whose decision deadline has passed (today)."),
    dimensions=("operator",),
    tags=("overdue",),
    link="/stations/applications/?overdue=true",
)
def permits_overdue(window, by=None):
    where = "WHERE a.overdue AND a.status IN ('submitted', 'resubmitted', 'under_review')"
    if by == "operator":
        rows = _rows(
            f"""SELECT o.code, o.short_name, count(*) FROM stations_permitapplication a
                JOIN core_organization o ON o.id = a.applicant_id {where}
                GROUP BY o.code, o.short_name ORDER BY o.code""",
            {},
        )
        return [{"key": c, "label": n or c, "value": v} for c, n, v in rows]
    return _rows(f"SELECT count(*) FROM stations_permitapplication a {where}", {})[0][0]
