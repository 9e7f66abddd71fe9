"""Read-side queries of the spam_reports app: scoped lists, a case's breakdown, and the statistics.

Statistics are computed in the database: report counts from the DailyStat rollup (kept by triggers),
cases confirmed from the cases, handling from the assignments (median and 95th percentile in
PostgreSQL), top senders from the CaseMonth rollup (a month) or the day's reports (a day).
Operators' staff see their own organisation's figures only.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.utils import timezone

from core.permissions import acts_for
from core.scoping import scope_queryset, sees_everything
from spam_reports.models import (
    OperatorAction,
    SpamCase,
    SpamReport,
    SubscriberInspection,
)


def cases(user):
    return scope_queryset(SpamCase.objects.select_related("operator"), user)


def reports(user):
    return scope_queryset(
        SpamReport.objects.select_related("sender_operator", "recipient_operator", "case"), user
    )


def case_reports(case):
    return case.reports.select_related("recipient_operator").prefetch_related("evidence")


def actions(user):
    return scope_queryset(
        OperatorAction.objects.select_related("case", "operator", "assigned_by", "responded_by"),
        user,
    )


def inspections(user):
    return scope_queryset(
        SubscriberInspection.objects.select_related("operator", "inspecting_agency"), user
    )


def _rows(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def case_breakdown(case):
    """Counts of the case's reports per channel and per day (Hanoi days), newest day first."""
    per_channel = _rows(
        """SELECT channel, count(*) AS reports FROM spam_reports_spamreport
           WHERE case_id = %(id)s GROUP BY channel ORDER BY reports DESC""",
        {"id": case.pk},
    )
    per_day = _rows(
        """SELECT (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS day, count(*) AS reports,
                  count(DISTINCT recipient) AS recipients
           FROM spam_reports_spamreport WHERE case_id = %(id)s
           GROUP BY 1 ORDER BY 1 DESC LIMIT 60""",
        {"id": case.pk},
    )
    return {"per_channel": per_channel, "per_day": per_day}


# --- Statistics -----------------------------------------------------------------------------------

PERIODS = ("day", "month", "quarter", "year")


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # exclusive

    @property
    def start_at(self):
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_at(self):
        return timezone.make_aware(datetime.combine(self.end, time.min))

    @property
    def months(self):
        """First days of the months the period covers (for month, quarter, year)."""
        out, day = [], self.start.replace(day=1)
        while day < self.end:
            out.append(day)
            day = (day + timedelta(days=32)).replace(day=1)
        return out


def period(kind, day):
    """The day, month, quarter or year that contains ``day``."""
    if kind == "day":
        return Period(kind, day, day + timedelta(days=1))
    if kind == "month":
        start = day.replace(day=1)
        return Period(kind, start, (start + timedelta(days=32)).replace(day=1))
    if kind == "quarter":
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        end_month = start.month + 3
        end = date(start.year + (end_month > 12), (end_month - 1) % 12 + 1, 1)
        return Period(kind, start, end)
    if kind == "year":
        return Period(kind, date(day.year, 1, 1), date(day.year + 1, 1, 1))
    raise ValueError(kind)


def _operator_scope(user, operator_id=None):
    """The operator whose figures the user may see: the chosen one, or (for an operator's staff)
    their own whatever they chose. None means all operators."""
    if sees_everything(user):
        return operator_id
    if user and user.is_authenticated and acts_for(user, user.organization_id):
        return user.organization_id
    return -1


def report_counts(user, per, operator_id=None, channel=None):
    """Per sender's operator and channel: reports received, verified, invalid (DailyStat)."""
    operator_id = _operator_scope(user, operator_id)
    return _rows(
        """
        SELECT s.operator_id, o.short_name, o.name AS operator_name, s.channel,
               sum(s.received) AS received, sum(s.verified) AS verified, sum(s.invalid) AS invalid
        FROM spam_reports_dailystat s LEFT JOIN core_organization o ON o.id = s.operator_id
        WHERE s.day >= %(start)s AND s.day < %(end)s
          AND (%(op)s::bigint IS NULL OR s.operator_id = %(op)s)
          AND (%(channel)s::text IS NULL OR s.channel = %(channel)s)
        GROUP BY s.operator_id, o.short_name, o.name, s.channel
        HAVING sum(s.received) <> 0
        ORDER BY received DESC
        """,
        {"start": per.start, "end": per.end, "op": operator_id, "channel": channel},
    )


def daily_trend(user, per, operator_id=None, channel=None):
    """Reports per day over the period (for the trend chart)."""
    operator_id = _operator_scope(user, operator_id)
    return _rows(
        """
        SELECT s.day, sum(s.received) AS received, sum(s.verified) AS verified,
               sum(s.invalid) AS invalid
        FROM spam_reports_dailystat s
        WHERE s.day >= %(start)s AND s.day < %(end)s
          AND (%(op)s::bigint IS NULL OR s.operator_id = %(op)s)
          AND (%(channel)s::text IS NULL OR s.channel = %(channel)s)
        GROUP BY s.day ORDER BY s.day
        """,
        {"start": per.start, "end": per.end, "op": operator_id, "channel": channel},
    )


def handling(user, per, operator_id=None):
    """Per operator: cases confirmed, assignments made / answered / within the SLA / overdue,
    numbers blocked and brandnames suspended, median and 95th percentile handling hours."""
    operator_id = _operator_scope(user, operator_id)
    params = {"start": per.start_at, "end": per.end_at, "op": operator_id}
    confirmed = {
        r["operator_id"]: r["confirmed"]
        for r in _rows(
            """
            SELECT operator_id, count(*) AS confirmed FROM spam_reports_spamcase
            WHERE confirmed_at >= %(start)s AND confirmed_at < %(end)s
              AND (%(op)s::bigint IS NULL OR operator_id = %(op)s)
            GROUP BY operator_id
            """,
            params,
        )
    }
    rows = _rows(
        """
        SELECT a.operator_id, o.short_name, o.name AS operator_name,
               count(*) AS assigned,
               count(*) FILTER (WHERE a.outcome <> '') AS answered,
               count(*) FILTER (WHERE a.outcome <> '' AND a.responded_at <= a.deadline) AS on_time,
               count(*) FILTER (WHERE (a.outcome = '' AND a.deadline < now())
                                   OR a.responded_at > a.deadline) AS late,
               count(*) FILTER (WHERE a.outcome IN ('blocked_number', 'suspended_brandname'))
                   AS blocked,
               percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY extract(epoch FROM a.responded_at - a.assigned_at) / 3600
               ) FILTER (WHERE a.outcome <> '') AS median_hours,
               percentile_cont(0.95) WITHIN GROUP (
                   ORDER BY extract(epoch FROM a.responded_at - a.assigned_at) / 3600
               ) FILTER (WHERE a.outcome <> '') AS p95_hours
        FROM spam_reports_operatoraction a JOIN core_organization o ON o.id = a.operator_id
        WHERE a.assigned_at >= %(start)s AND a.assigned_at < %(end)s
          AND (%(op)s::bigint IS NULL OR a.operator_id = %(op)s)
        GROUP BY a.operator_id, o.short_name, o.name
        ORDER BY assigned DESC
        """,
        params,
    )
    seen = set()
    for row in rows:
        seen.add(row["operator_id"])
        row["confirmed"] = confirmed.get(row["operator_id"], 0)
        row["on_time_pct"] = (
            round(100 * row["on_time"] / row["answered"], 1) if row["answered"] else None
        )
    for op, count in confirmed.items():
        if op not in seen and op is not None:
            rows.append(
                {
                    "operator_id": op,
                    "short_name": None,
                    "operator_name": None,
                    "assigned": 0,
                    "answered": 0,
                    "on_time": 0,
                    "late": 0,
                    "blocked": 0,
                    "median_hours": None,
                    "p95_hours": None,
                    "confirmed": count,
                    "on_time_pct": None,
                }
            )
    return rows


def top_senders(user, per, limit=20, operator_id=None):
    """The senders with most reports in the period: a day from its reports, longer periods from
    the CaseMonth rollup (an index on (month, reports) makes a month's top N a short scan)."""
    operator_id = _operator_scope(user, operator_id)
    if per.kind == "day":
        sql = """
            SELECT c.id, c.public_id, c.sender, c.sender_kind, c.status, c.flags, c.operator_id,
                   t.reports
            FROM (SELECT case_id, count(*) AS reports FROM spam_reports_spamreport
                  WHERE received_at >= %(start_at)s AND received_at < %(end_at)s
                    AND (%(op)s::bigint IS NULL OR sender_operator_id = %(op)s)
                  GROUP BY case_id ORDER BY reports DESC LIMIT %(limit)s) t
            JOIN spam_reports_spamcase c ON c.id = t.case_id
            ORDER BY t.reports DESC, c.id
        """
    elif len(per.months) == 1 and operator_id is None:
        sql = """
            SELECT c.id, c.public_id, c.sender, c.sender_kind, c.status, c.flags, c.operator_id,
                   m.reports
            FROM spam_reports_casemonth m JOIN spam_reports_spamcase c ON c.id = m.case_id
            WHERE m.month = %(month)s
            ORDER BY m.reports DESC, c.id LIMIT %(limit)s
        """
    else:
        sql = """
            SELECT c.id, c.public_id, c.sender, c.sender_kind, c.status, c.flags, c.operator_id,
                   t.reports
            FROM (SELECT m.case_id, sum(m.reports) AS reports FROM spam_reports_casemonth m
                  WHERE m.month = ANY(%(months)s) GROUP BY m.case_id) t
            JOIN spam_reports_spamcase c ON c.id = t.case_id
            WHERE (%(op)s::bigint IS NULL OR c.operator_id = %(op)s)
            ORDER BY t.reports DESC, c.id LIMIT %(limit)s
        """
    return _rows(
        sql,
        {
            "start_at": per.start_at,
            "end_at": per.end_at,
            "month": per.start.replace(day=1),
            "months": per.months,
            "op": operator_id,
            "limit": limit,
        },
    )


def statistics(user, per, operator_id=None, channel=None):
    """Everything the statistics page and its export show, for one period."""
    counts = report_counts(user, per, operator_id, channel)
    handled = handling(user, per, operator_id)
    totals = {
        "received": sum(r["received"] for r in counts),
        "verified": sum(r["verified"] for r in counts),
        "invalid": sum(r["invalid"] for r in counts),
        "confirmed": sum(r["confirmed"] for r in handled),
        "blocked": sum(r["blocked"] for r in handled),
        "assigned": sum(r["assigned"] for r in handled),
        "answered": sum(r["answered"] for r in handled),
        "on_time": sum(r["on_time"] for r in handled),
    }
    totals["on_time_pct"] = (
        round(100 * totals["on_time"] / totals["answered"], 1) if totals["answered"] else None
    )
    return {
        "period": per,
        "counts": counts,
        "handling": handled,
        "trend": daily_trend(user, per, operator_id, channel),
        "top_senders": top_senders(user, per, operator_id=operator_id),
        "totals": totals,
    }
