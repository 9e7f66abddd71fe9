"""Measures of the agreements app, registered in core's indicator registry."""

from django.db import connection
from django.utils.translation import gettext_lazy as _

from core.indicators import indicator


def _count(sql, params, by):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if by:
        return [{"key": k, "label": label or k, "value": v} for k, label, v in rows]
    return rows[0][0] if rows else 0


@indicator(
    "agreements.tasks_overdue",
    _("Coordination tasks overdue"),
    "count",
    _("Tasks of the coordination programmes past their due date and not done (today)."),
    dimensions=("agreement", "party"),
    tags=("overdue",),
    link="/agreements/?status=in_force",
)
def tasks_overdue(window, by=None):
    key = {"agreement": "g.code, g.title", "party": "o.code, o.short_name"}.get(by)
    sql = f"""
        SELECT {key + "," if key else ""} count(*)
        FROM agreements_task t JOIN agreements_contentarea a ON a.id = t.area_id
        JOIN agreements_agreement g ON g.id = a.agreement_id
        JOIN core_organization o ON o.id = t.responsible_id
        WHERE t.status = 'overdue'
        {"GROUP BY " + key + " ORDER BY 1" if key else ""}
    """
    return _count(sql, {}, by)


@indicator(
    "agreements.tasks_done",
    _("Coordination tasks done"),
    "count",
    _("Tasks of the coordination programmes marked done by the day."),
    dimensions=("agreement", "party"),
)
def tasks_done(window, by=None):
    key = {"agreement": "g.code, g.title", "party": "o.code, o.short_name"}.get(by)
    sql = f"""
        SELECT {key + "," if key else ""} count(*)
        FROM agreements_task t JOIN agreements_contentarea a ON a.id = t.area_id
        JOIN agreements_agreement g ON g.id = a.agreement_id
        JOIN core_organization o ON o.id = t.responsible_id
        WHERE t.status = 'done' AND (t.updated_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= %(day)s
        {"GROUP BY " + key + " ORDER BY 1" if key else ""}
    """
    return _count(sql, {"day": window.as_of}, by)
