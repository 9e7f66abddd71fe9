"""Measures of the sharing app, registered in core's indicator registry."""

from django.db import connection
from django.utils.translation import gettext_lazy as _

from core.indicators import indicator, percent

# Towers in use on the day: tenancies that had started and not ended (since ≤ day ≤ until).
_TOWERS_ON = """
    WITH users AS (
        SELECT t.asset_id, t.operator_id FROM sharing_tenancy t
        JOIN sharing_infrastructureasset a ON a.id = t.asset_id
        WHERE a.kind = 'tower' AND t.since <= %(day)s AND (t.until IS NULL OR t.until >= %(day)s)
        GROUP BY t.asset_id, t.operator_id
    ), towers AS (SELECT asset_id, count(*) AS operators FROM users GROUP BY asset_id)
"""


@indicator(
    "sharing.shared_site_pct",
    _("Share of shared tower sites"),
    "percent",
    _("Of the towers in use on the day, the share used by two or more operators (tenancies)."),
    dimensions=("operator",),
)
def shared_site_pct(window, by=None):
    with connection.cursor() as cursor:
        if by == "operator":
            cursor.execute(
                _TOWERS_ON
                + """
                SELECT o.code, o.short_name, count(*),
                       count(*) FILTER (WHERE towers.operators >= 2)
                FROM users JOIN towers USING (asset_id)
                JOIN core_organization o ON o.id = users.operator_id
                GROUP BY o.code, o.short_name ORDER BY o.code
                """,
                {"day": window.as_of},
            )
            return [
                {"key": code, "label": name or code, "value": percent(shared, sites)}
                for code, name, sites, shared in cursor.fetchall()
            ]
        cursor.execute(
            _TOWERS_ON + "SELECT count(*), count(*) FILTER (WHERE operators >= 2) FROM towers",
            {"day": window.as_of},
        )
        sites, shared = cursor.fetchone()
    return percent(shared, sites)


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
    where = "WHERE r.overdue AND r.status IN ('submitted', 'countered')"
    with connection.cursor() as cursor:
        if by == "operator":
            cursor.execute(
                f"""SELECT o.code, o.short_name, count(*) FROM sharing_sharingrequest r
                    JOIN core_organization o ON o.id = r.owner_id {where}
                    GROUP BY o.code, o.short_name ORDER BY o.code"""
            )
            return [{"key": c, "label": n or c, "value": v} for c, n, v in cursor.fetchall()]
        cursor.execute(f"SELECT count(*) FROM sharing_sharingrequest r {where}")
        return cursor.fetchone()[0]
