"""Measures of the stations app, registered in core's indicator registry.

The register's figures are read as of the cut-off from the change history (core.history.state_as_of),
so a station decommissioned or moved after the cut-off still counts where it stood; the permit
figures are read from the applications' dated timeline events.
"""

from django.utils.translation import gettext_lazy as _

from core.history import state_as_of
from core.indicators import grouped, indicator, share_sql
from stations.models import Station

ACTIVE = "('permitted', 'operating', 'suspended')"
STATION_DIMENSIONS = {
    "operator": ("o.code", "o.short_name", "JOIN core_organization o ON o.id = s.operator_id"),
    "commune": ("u.code", "u.name", "JOIN core_administrativeunit u ON u.id = s.commune_id"),
    "technology": ("t.tech", "t.tech", "CROSS JOIN LATERAL unnest(s.technologies) AS t(tech)"),
}
APPLICANT = ("o.code", "o.short_name", "JOIN core_organization o ON o.id = a.applicant_id")


@indicator(
    "stations.count",
    _("BTS stations"),
    "count",
    _(
        "Stations standing on the cut-off day (permitted, operating or suspended), as recorded then."
    ),
    dimensions=("operator", "technology", "commune", "operator,technology", "operator,commune"),
    tags=("headline",),
)
def station_count(window, by=None):
    return grouped(
        state_as_of(Station),
        f"WHERE s.status IN {ACTIVE}",
        {"moment": window.end_at},
        by,
        STATION_DIMENSIONS,
    )


@indicator(
    "stations.sites_5g",
    _("5G sites"),
    "count",
    _("Stations standing on the cut-off day that carry 5G."),
    dimensions=("operator", "commune"),
)
def sites_5g(window, by=None):
    return grouped(
        state_as_of(Station),
        f"WHERE s.status IN {ACTIVE} AND '5G' = ANY(s.technologies)",
        {"moment": window.end_at},
        by,
        STATION_DIMENSIONS,
    )


@indicator(
    "stations.new",
    _("New stations"),
    "count",
    _("Stations registered in the period and standing on the cut-off day."),
    dimensions=("operator", "commune", "technology"),
)
def new_stations(window, by=None):
    return grouped(
        state_as_of(Station),
        f"WHERE s.status IN {ACTIVE}"
        " AND (%(start)s::timestamptz IS NULL OR s.created_at >= %(start)s)",
        {"moment": window.end_at, "start": window.start_at},
        by,
        STATION_DIMENSIONS,
    )


# --- Permits, from the applications' timeline -------------------------------------------------------

_EVENTS = """
    stations_applicationevent e JOIN stations_permitapplication a ON a.id = e.application_id
"""
_IN_WINDOW = """
    WHERE e.kind = 'status' AND e.created_at <= %(end)s
      AND (%(start)s::timestamptz IS NULL OR e.created_at >= %(start)s)
"""


def _window(window):
    return {"end": window.end_at, "start": window.start_at}


def _events(window, by, statuses, value="count(DISTINCT a.id)"):
    return grouped(
        _EVENTS,
        _IN_WINDOW + f" AND e.to_status IN {statuses}",
        _window(window),
        by,
        {"operator": APPLICANT},
        value=value,
    )


@indicator(
    "stations.permits_received",
    _("Permit applications received"),
    "count",
    _("Applications submitted in the period (first submissions)."),
    dimensions=("operator",),
)
def permits_received(window, by=None):
    return _events(window, by, "('submitted')")


@indicator(
    "stations.permits_decided",
    _("Permit applications decided"),
    "count",
    _("Applications approved, rejected or deemed approved in the period."),
    dimensions=("operator",),
)
def permits_decided(window, by=None):
    return _events(window, by, "('approved', 'rejected', 'deemed_approved')")


@indicator(
    "stations.permits_deemed_approved",
    _("Permit applications deemed approved"),
    "count",
    _("Applications approved by the passing of the deadline (tacit approval) in the period."),
    dimensions=("operator",),
)
def permits_deemed_approved(window, by=None):
    return _events(window, by, "('deemed_approved')")


@indicator(
    "stations.permits_on_time_pct",
    _("Permit applications decided on time"),
    "percent",
    _(
        "Of the applications decided in the period, the share decided by their decision deadline "
        "(a tacit approval is not on time)."
    ),
    dimensions=("operator",),
)
def permits_on_time_pct(window, by=None):
    on_time = """e.to_status <> 'deemed_approved' AND (a.decision_due IS NULL
        OR (e.created_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= a.decision_due)"""
    return _events(
        window, by, "('approved', 'rejected', 'deemed_approved')", value=share_sql(on_time)
    )


@indicator(
    "stations.permits_median_days",
    _("Median processing time of permits"),
    "days",
    _("Median working days the statutory clock ran for the applications decided in the period."),
    dimensions=("operator",),
)
def permits_median_days(window, by=None):
    value = _events(
        window,
        by,
        "('approved', 'rejected', 'deemed_approved')",
        value="percentile_cont(0.5) WITHIN GROUP (ORDER BY a.days_used_before)",
    )
    if by:
        return [{**r, "value": None if r["value"] is None else float(r["value"])} for r in value]
    return None if value is None else float(value)


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
    return grouped(
        "stations_permitapplication a",
        "WHERE a.overdue AND a.status IN ('submitted', 'resubmitted', 'under_review')",
        {},
        by,
        {"operator": APPLICANT},
    )
