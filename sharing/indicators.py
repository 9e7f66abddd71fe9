"""Measures of the sharing app, registered in core's indicator registry. Tenancies are dated (since,
until) and requests have a dated timeline, so past figures stay the same."""

from django.utils.translation import gettext_lazy as _

from core.indicators import grouped, indicator, rows, share_sql

# Towers in use on the day: tenancies that had started and not ended (since ≤ day ≤ until).
_TOWERS_ON = """
    (SELECT t.asset_id, t.operator_id, count(*) OVER (PARTITION BY t.asset_id) AS operators
     FROM (SELECT DISTINCT t.asset_id, t.operator_id FROM sharing_tenancy t
           JOIN sharing_infrastructureasset a ON a.id = t.asset_id
           WHERE a.kind = 'tower' AND t.since <= %(day)s
             AND (t.until IS NULL OR t.until >= %(day)s)) t) users
"""
OPERATOR = ("o.code", "o.short_name", "JOIN core_organization o ON o.id = users.operator_id")


@indicator(
    "sharing.shared_site_pct",
    _("Share of shared tower sites"),
    "percent",
    _(
        "Of the towers in use on the cut-off day, the share used by two or more operators "
        "(by operator: of the towers the operator uses)."
    ),
    dimensions=("operator",),
    tags=("headline",),
)
def shared_site_pct(window, by=None):
    if by == "operator":
        return grouped(
            _TOWERS_ON,
            "",
            {"day": window.as_of},
            by,
            {"operator": OPERATOR},
            value=share_sql("users.operators >= 2"),
        )
    sites, shared = rows(
        f"""SELECT count(DISTINCT asset_id), count(DISTINCT asset_id) FILTER (WHERE operators >= 2)
            FROM {_TOWERS_ON}""",
        {"day": window.as_of},
    )[0]
    return round(100.0 * shared / sites, 1) if sites else None


# --- Requests, from their dated timeline --------------------------------------------------------------

_EVENTS = "sharing_sharingevent e JOIN sharing_sharingrequest r ON r.id = e.request_id"
_WINDOW = """
    WHERE e.created_at <= %(end)s AND (%(start)s::timestamptz IS NULL OR e.created_at >= %(start)s)
"""
PARTIES = {
    "operator": ("o.code", "o.short_name", "JOIN core_organization o ON o.id = r.owner_id"),
    "requester": ("q.code", "q.short_name", "JOIN core_organization q ON q.id = r.requester_id"),
}


def _requests(window, by, condition):
    return grouped(
        _EVENTS,
        _WINDOW + f" AND {condition}",
        {"end": window.end_at, "start": window.start_at},
        by,
        PARTIES,
        value="count(DISTINCT r.id)",
    )


def _declare(key, label, description, condition):
    @indicator(key, label, "count", description, dimensions=("operator", "requester"))
    def measure(window, by=None):
        return _requests(window, by, condition)

    measure.__name__ = key.split(".")[1]
    return measure


_declare(
    "sharing.requests_received",
    _("Sharing requests received"),
    _("Requests submitted in the period (by the asset's owner, or by requester)."),
    "e.kind = 'status' AND e.to_status = 'submitted'",
)
_declare(
    "sharing.requests_accepted",
    _("Sharing requests accepted"),
    _("Requests accepted (as asked or after a counter-offer) in the period."),
    "e.kind = 'status' AND e.to_status = 'accepted'",
)
_declare(
    "sharing.requests_refused",
    _("Sharing requests refused"),
    _("Requests refused by the owner in the period."),
    "e.kind = 'status' AND e.to_status = 'refused'",
)
_declare(
    "sharing.requests_disputed",
    _("Sharing requests disputed"),
    _("Requests escalated to the regulator in the period."),
    "e.kind = 'status' AND e.to_status = 'disputed'",
)
_declare(
    "sharing.requests_turned_overdue",
    _("Sharing requests that went unanswered past the deadline"),
    _("Requests whose response deadline passed without an answer in the period."),
    "e.kind = 'overdue'",
)


@indicator(
    "sharing.requests_overdue",
    _("Sharing requests past their response deadline"),
    "count",
    _("Requests still awaiting the owner's answer after the deadline (today)."),
    dimensions=("operator",),
    tags=("overdue",),
    link="/sharing/requests/?overdue=true",
)
def requests_overdue(window, by=None):
    return grouped(
        "sharing_sharingrequest r",
        "WHERE r.overdue AND r.status IN ('submitted', 'countered')",
        {},
        by,
        PARTIES,
    )
