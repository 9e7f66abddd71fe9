"""Measures of the spam_reports app, registered in core's indicator registry.

Report counts read the reports received in the period AND stored by the cut-off (a report imported
later for an earlier day does not change a past period); verification counts those verified by the
cut-off. Cases confirmed, numbers blocked and handling times are read from their dated fields.
"""

from django.utils.translation import gettext_lazy as _

from core.indicators import grouped, indicator, share_sql

_REPORTS = "spam_reports_spamreport r"
_IN_WINDOW = """
    WHERE r.received_at <= %(end)s AND r.created_at <= %(end)s
      AND (%(start)s::timestamptz IS NULL OR r.received_at >= %(start)s)
"""
REPORT_DIMENSIONS = {
    "operator": (
        "o.code",
        "o.short_name",
        "LEFT JOIN core_organization o ON o.id = r.sender_operator_id",
    ),
    "channel": ("r.channel", "r.channel", ""),
}
ACTION_DIMENSIONS = {
    "operator": ("o.code", "o.short_name", "JOIN core_organization o ON o.id = a.operator_id"),
}


def _params(window):
    return {"end": window.end_at, "start": window.start_at}


@indicator(
    "spam_reports.reports_received",
    _("Spam reports received"),
    "count",
    _("Complaints received in the period, by the sender's operator or channel."),
    dimensions=("operator", "channel"),
    tags=("headline",),
)
def reports_received(window, by=None):
    return grouped(_REPORTS, _IN_WINDOW, _params(window), by, REPORT_DIMENSIONS)


@indicator(
    "spam_reports.reports_verified",
    _("Spam reports verified"),
    "count",
    _("Of the complaints received in the period, those verified by the cut-off."),
    dimensions=("operator", "channel"),
)
def reports_verified(window, by=None):
    return grouped(
        _REPORTS,
        _IN_WINDOW + " AND r.status = 'verified' AND r.status_changed_at <= %(end)s",
        _params(window),
        by,
        REPORT_DIMENSIONS,
    )


@indicator(
    "spam_reports.cases_confirmed",
    _("Spam cases confirmed"),
    "count",
    _("Cases (offending senders) confirmed as spam in the period."),
    dimensions=("operator", "channel"),
)
def cases_confirmed(window, by=None):
    return grouped(
        "spam_reports_spamcase r",
        "WHERE r.confirmed_at <= %(end)s"
        " AND (%(start)s::timestamptz IS NULL OR r.confirmed_at >= %(start)s)",
        _params(window),
        by,
        {
            "operator": (
                "o.code",
                "o.short_name",
                "LEFT JOIN core_organization o ON o.id = r.operator_id",
            ),
            "channel": ("r.channel", "r.channel", ""),
        },
    )


_ANSWERED = """
    WHERE a.outcome <> '' AND a.responded_at <= %(end)s
      AND (%(start)s::timestamptz IS NULL OR a.responded_at >= %(start)s)
"""


@indicator(
    "spam_reports.numbers_blocked",
    _("Numbers blocked and brandnames suspended"),
    "count",
    _("Operators' answers in the period that blocked the number or suspended the brandname."),
    dimensions=("operator",),
)
def numbers_blocked(window, by=None):
    return grouped(
        "spam_reports_operatoraction a",
        _ANSWERED + " AND a.outcome IN ('blocked_number', 'suspended_brandname')",
        _params(window),
        by,
        ACTION_DIMENSIONS,
    )


@indicator(
    "spam_reports.handled_within_sla_pct",
    _("Spam cases handled within the deadline"),
    "percent",
    _(
        "Of the assignments to operators answered in the period, the share answered by their deadline."
    ),
    dimensions=("operator",),
    tags=("headline",),
)
def handled_within_sla_pct(window, by=None):
    return grouped(
        "spam_reports_operatoraction a",
        _ANSWERED,
        _params(window),
        by,
        ACTION_DIMENSIONS,
        value=share_sql("a.responded_at <= a.deadline"),
    )


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
    return grouped(
        "spam_reports_operatoraction a",
        "WHERE a.outcome = '' AND a.deadline < now()",
        {},
        by,
        ACTION_DIMENSIONS,
    )
