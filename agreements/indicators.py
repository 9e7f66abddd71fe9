"""Measures of the agreements app, registered in core's indicator registry: tasks of the
coordination programmes done or overdue as they stood on the cut-off (read from the history)."""

from django.utils.translation import gettext_lazy as _

from agreements.models import Task
from core.history import state_as_of
from core.indicators import grouped, indicator

DIMENSIONS = {
    "agreement": (
        "g.code",
        "g.title",
        "JOIN agreements_contentarea a ON a.id = t.area_id "
        "JOIN agreements_agreement g ON g.id = a.agreement_id",
    ),
    "party": ("o.code", "o.short_name", "JOIN core_organization o ON o.id = t.responsible_id"),
}


def _tasks(window, by, status):
    return grouped(
        state_as_of(Task, alias="t"),
        "WHERE t.status = %(status)s",
        {"moment": window.end_at, "status": status},
        by,
        DIMENSIONS,
    )


@indicator(
    "agreements.tasks_done",
    _("Coordination tasks done"),
    "count",
    _("Tasks of the coordination programmes done on the cut-off day."),
    dimensions=("agreement", "party"),
)
def tasks_done(window, by=None):
    return _tasks(window, by, "done")


@indicator(
    "agreements.tasks_overdue",
    _("Coordination tasks overdue"),
    "count",
    _("Tasks of the coordination programmes past their due date and not done on the cut-off day."),
    dimensions=("agreement", "party"),
    tags=("overdue",),
    link="/agreements/",
)
def tasks_overdue(window, by=None):
    return _tasks(window, by, "overdue")
