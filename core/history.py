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
        client = getattr(user, "sync_client", None)
        if client is not None:  # a write through the API by a machine client
            context["api_client"] = client.name
            context["api_client_id"] = str(client.public_id)
    return pghistory.context(**context)


def events_for(obj):
    """The recorded events of one object, oldest first: label, data, diff and context (user, url)."""
    return pghistory.models.Events.objects.tracks(obj).order_by("pgh_created_at", "pgh_id")


def state_as_of(model, alias="s"):
    """SQL (a sub-select usable as ``FROM (…) alias``) of ``model``'s rows as they stood at the
    moment ``%(moment)s``, read from the change history, not from today's table: the last recorded
    state of each row at or before the moment, rows deleted by then left out. Rows that have no
    recorded event (loaded with triggers off) are taken from the table if created by then.

    The sub-select has the model's columns (as in the table) and is parametrised by ``moment``.
    """
    event = _event_model(model)
    table = model._meta.db_table
    columns = [f.column for f in model._meta.concrete_fields]
    cols = ", ".join(f'"{c}"' for c in columns)
    obj_cols = ", ".join(f'e."{c}"' for c in columns)
    return f"""(
        SELECT {cols} FROM (
            SELECT DISTINCT ON (e.pgh_obj_id) e.pgh_label AS pgh_label, {obj_cols}
            FROM {event._meta.db_table} e
            WHERE e.pgh_created_at <= %(moment)s
            ORDER BY e.pgh_obj_id, e.pgh_created_at DESC, e.pgh_id DESC
        ) last WHERE last.pgh_label <> 'delete'
        UNION ALL
        SELECT {cols} FROM {table} t
        WHERE t.created_at <= %(moment)s
          AND NOT EXISTS (SELECT 1 FROM {event._meta.db_table} x WHERE x.pgh_obj_id = t.id)
    ) {alias}"""


def _event_model(model):
    """The event model pghistory made for ``model`` (``<Model>Event`` in the same app)."""
    from django.apps import apps

    return apps.get_model(model._meta.app_label, f"{model.__name__}Event")
