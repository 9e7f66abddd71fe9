"""Change history kept by database triggers (django-pghistory).

Every domain model is decorated with ``@track()``: inserts, updates (when a value changes) and deletes
are written by PostgreSQL triggers into an event table beside the model, so bulk ``update()`` and
``delete()`` are recorded too. A delete leaves a snapshot of the last state (a tombstone) that the sync
API can hand out. The acting user and the request path are attached by
``pghistory.middleware.HistoryMiddleware``; commands and tasks attach theirs with ``acting_as``.
"""

import pghistory
import pghistory.models


def track(*trackers, **kwargs):
    """Record inserts, updates and deletes of the decorated model (or only the ``trackers`` given,
    e.g. for a table of millions of append-only rows whose insert is the record itself)."""
    trackers = trackers or (
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
    )
    return pghistory.track(*trackers, **kwargs)


def acting_as(user=None, **context):
    """Attach who acts (and any other context) to the history written inside the block.

    Usage: ``with acting_as(user, command="import_boundaries"): ...``
    """
    if user is not None and getattr(user, "pk", None) is not None:
        context["user"] = user.pk
    return pghistory.context(**context)


def events_for(obj):
    """The recorded events of one object, oldest first: label, data, diff and context (user, url)."""
    return pghistory.models.Events.objects.tracks(obj).order_by("pgh_created_at", "pgh_id")
