"""Machine-to-machine sync: the registry of synced resources.

Each domain app declares in its own ``sync.py`` which of its records other agencies sync (a register
such as stations or shareable assets) with ``register(Resource(...))``; the sync app imports every app's
module at start-up (SyncConfig.ready), so the change feed, the upsert and bulk endpoints, the nightly
downloads, the webhooks and ``sync_pull`` find them here by name and import no domain app.

A resource names:
- ``name``: its URL segment and its type in the change feed ("stations");
- ``model``, ``geometry`` and ``properties``: the same GeoJSON Feature its API gives (the change feed
  stores that Feature, written by PostgreSQL when the row changes);
- ``org_field``: the organisation a record belongs to (an operator's client sees its own changes);
- ``state_queryset``: the unscoped queryset (with the annotations the properties need);
- ``selector``: the records a user may see (the app's selector);
- ``serializer``: the API serializer that checks a record's input;
- ``save(user, instance_or_None, data)`` and ``delete(user, instance)``: the app's services;
- ``bulk(user, records, atomic)``: optional, a batched upsert in the app's services;
- ``public``: whether the nightly public download includes it;
- ``open_to_all``: every role reads all of it (the public-site catalogue), whatever its org;
- ``feed_scope(resource)``: for a record seen by several organisations (a cable segment: the
  project's participants and lead agency), an SQL condition on the change's ``object_id`` with
  ``%(org)s`` (the reader's organisation) that the feed and the webhooks add to ``org_field``'s,
  so the feed shows an operator what the API shows it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_REGISTRY: dict[str, "Resource"] = {}


@dataclass(frozen=True)
class Resource:
    name: str
    model: Any
    label: Any
    properties: dict
    state_queryset: Callable
    selector: Callable
    geometry: str | None = None
    org_field: str | None = None
    serializer: Any = None
    save: Callable | None = None
    delete: Callable | None = None
    bulk: Callable | None = None
    public: bool = False
    open_to_all: bool = False
    feed_scope: Callable | None = None
    csv_columns: tuple = field(default=())

    @property
    def table(self):
        return self.model._meta.db_table

    @property
    def writable(self):
        return self.save is not None

    def get_serializer_class(self):
        if isinstance(self.serializer, str):
            from django.utils.module_loading import import_string

            return import_string(self.serializer)
        return self.serializer


def register(resource):
    if not resource.name.replace("-", "").isalnum():
        raise ValueError(f"Not a plain resource name: {resource.name!r}")
    _REGISTRY[resource.name] = resource
    return resource


def resources():
    """Every synced resource, by name (in registration order)."""
    return dict(_REGISTRY)


def get(name):
    return _REGISTRY[name]


def for_model(model):
    for resource in _REGISTRY.values():
        if resource.model is model:
            return resource
    return None
