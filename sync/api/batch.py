"""Sync writes, many records in one call: a serializer's related-record lookups done once per
call (BatchLookups) and each record's state through a bulk write (Entry). Used by
sync.api.mixin."""

import math
from dataclasses import dataclass, field

from django.contrib.gis.geos import Point
from rest_framework.exceptions import ValidationError
from rest_framework.relations import RelatedField

from core.api.fields import GeoJSONGeometryField
from sync.api.records import (
    ERROR,
    TEXT_FIELDS,
    _value_in,
)


class BatchLookups:
    """A serializer made fit for checking many records in one call: each related record (an
    operator, a commune, an owner …) is looked up once per call, not once per record: the records'
    codes are fetched together in one query per field (``prefetch``), and any other value's result
    (or error) is remembered. A GeoJSON Point field reads a plain valid Point directly (a tenth of
    the cost of GDAL's parser); anything else goes through the fields as usual."""

    def __init__(self, serializer):
        self.serializer = serializer
        self.caches = {}
        for name, bound in serializer.fields.items():
            if bound.read_only:
                continue
            if isinstance(bound, GeoJSONGeometryField):
                bound.to_internal_value = _fast_point(bound)
            elif isinstance(bound, RelatedField):
                cache = self.caches[name] = {}
                bound.to_internal_value = self._remembered(bound.to_internal_value, cache)

    @staticmethod
    def _remembered(original, cache):
        def to_internal_value(data):
            try:
                key = (type(data), data)
                hash(key)
            except TypeError:
                return original(data)
            if key not in cache:
                try:
                    cache[key] = (True, original(data))
                except ValidationError as exc:
                    cache[key] = (False, exc)
            ok, value = cache[key]
            if not ok:
                raise value
            return value

        return to_internal_value

    def prefetch(self, bodies):
        """Fetch the records the bodies name by code, one query per field."""
        for name, cache in self.caches.items():
            bound = self.serializer.fields[name]
            slug = getattr(bound, "slug_field", None)
            if slug is None:
                continue
            queryset = bound.get_queryset()
            try:
                internal = queryset.model._meta.get_field(slug).get_internal_type()
            except Exception:  # noqa: BLE001 - a path, not a field: looked up one by one
                continue
            if internal not in TEXT_FIELDS:
                continue
            values = {_value_in(body, name) for body in bodies}
            values = {v for v in values if type(v) is str and (str, v) not in cache}
            if not values:
                continue
            for obj in queryset.filter(**{f"{slug}__in": values}):
                cache[(str, getattr(obj, slug))] = (True, obj)


def _fast_point(bound):
    original = bound.to_internal_value
    if "Point" not in bound.geometry_types:
        return original

    def to_internal_value(value):
        if type(value) is dict and value.get("type") == "Point" and len(value) == 2:
            coords = value.get("coordinates")
            if type(coords) is list and len(coords) in (2, 3):
                x, y = coords[0], coords[1]
                if (
                    type(x) in (int, float)
                    and type(y) in (int, float)
                    and math.isfinite(x)
                    and math.isfinite(y)
                    and -180 <= x <= 180
                    and -90 <= y <= 90
                ):
                    return Point(float(x), float(y), srid=4326)
        return original(value)

    return to_internal_value


@dataclass
class Entry:
    """One record of a batch: its key, its validated data, and what became of it."""

    index: int
    source: object = None
    external_id: object = None
    data: dict | None = None
    errors: dict = field(default_factory=dict)
    status: str | None = None
    public_id: object = None

    def fail(self, errors):
        for name, messages in errors.items():
            self.errors.setdefault(name, []).extend(messages)

    def result(self):
        return {
            "index": self.index,
            "source": self.source if isinstance(self.source, str) else None,
            "external_id": self.external_id if isinstance(self.external_id, str) else None,
            "status": ERROR if self.errors else self.status,
            "id": str(self.public_id) if self.public_id else None,
            "errors": self.errors,
        }
