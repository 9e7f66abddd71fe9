"""Writes for machine clients on any synced register's API: delete, upsert by the sender's id, bulk.

A viewset that mixes in ``SyncWriteMixin`` and names its registered resource (``sync_resource =
"stations"``, see core.sync) gets:

- ``DELETE <prefix>/<id>/``: through the resource's ``delete`` service, guarded by If-Match (a
  stale ETag gets 412 with the record as it is now);
- ``GET / PUT / DELETE <prefix>/by-source/<source>/<external_id>/``: the record another system
  knows by (source, its id there). PUT creates or updates it from the same body as a POST create
  and answers 201 / 200 with ``Sync-Result: created | updated | unchanged``. A PUT that changes
  nothing writes nothing (no history, no change-feed event), so repeating it is harmless. The
  first PUTs of a new key racing each other end as one create and one update, never a 500.
- ``POST <prefix>/bulk/``: up to ``SYNC_BULK_MAX`` records, each validated, with a result per
  record; ``mode`` "atomic" applies all or none, "partial" the valid ones, in one transaction. The
  resource's ``bulk`` service does the work when it has one (a batched upsert); otherwise each
  record goes through its ``save`` service in a savepoint of its own.

A token client writes only its own organisation's source (``source_not_owned``), and so do people
signed in for an operator (core.sync.services.may_use_source; city officials may use any).
Permission, scope and business rules stay in the services.
"""

import logging
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.relations import RelatedField
from rest_framework.response import Response
from rest_framework.settings import api_settings

from core import sync
from core.api.fields import GeoJSONGeometryField
from core.api.mixins import IF_MATCH, check_if_match
from core.exceptions import DomainError, InvalidInput, PermissionDenied
from core.sync import services as sync_services

logger = logging.getLogger("core.api")

SOURCE_RE = r"[A-Za-z0-9_.-]{1,64}"
EXTERNAL_ID_RE = r"[^/]{1,128}"
SYNC_RESULT = "Sync-Result"
GEOMETRY_TOLERANCE = 1e-9  # degrees: a geometry sent again as read back is "unchanged"

CREATED, UPDATED, UNCHANGED, ERROR, NOT_APPLIED = (
    "created",
    "updated",
    "unchanged",
    "error",
    "not_applied",
)
ATOMIC, PARTIAL = "atomic", "partial"
NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY
KEY_FIELDS = ("source", "external_id")
SOURCE_RULE = gettext_lazy("Use 1 to 64 letters, digits, '_', '.' or '-'.")
EXTERNAL_ID_RULE = gettext_lazy("Use 1 to 128 characters, without '/'.")


class BatchTooLarge(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = gettext_lazy("Too many records in one call.")
    default_code = "batch_too_large"


# --- Comparing what is sent with what is stored ---------------------------------------------------


def same_value(current, value):
    """Whether ``value`` (validated input) equals ``current`` (stored): geometries within
    GEOMETRY_TOLERANCE, numbers as decimals, lists whatever their order, records by key."""
    if isinstance(current, GEOSGeometry) or isinstance(value, GEOSGeometry):
        if current is None or value is None:
            return current is value
        return current.geom_type == value.geom_type and current.equals_exact(
            value, GEOMETRY_TOLERANCE
        )
    if hasattr(value, "_meta") and hasattr(value, "pk"):
        value = value.pk
    if hasattr(current, "_meta") and hasattr(current, "pk"):
        current = current.pk
    if isinstance(value, (list, tuple)) or isinstance(current, (list, tuple)):
        try:
            return sorted(current or []) == sorted(value or [])
        except TypeError:
            return list(current or []) == list(value or [])
    if isinstance(value, (Decimal, float)) or isinstance(current, (Decimal, float)):
        if current is None or value is None:
            return current is value
        try:
            return Decimal(str(current)) == Decimal(str(value))
        except (InvalidOperation, ValueError):
            return False
    return current == value


def unchanged(instance, data, derived=()):
    """True when every field of ``data`` already holds its value in ``instance``. A field of
    ``derived`` sent as None (e.g. the commune, found from the geometry) is not compared."""
    for name, value in data.items():
        if name in derived and value is None:
            continue
        model_field = instance._meta.get_field(name)
        if model_field.is_relation and model_field.many_to_one:
            current = getattr(instance, model_field.attname)
        else:
            current = getattr(instance, name)
        if not same_value(current, value):
            return False
    return True


# --- Errors of one record ---------------------------------------------------------------------------


def _messages(value):
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            out += _messages(item)
        return out
    if isinstance(value, dict):
        return [f"{k}: {m}" for k, v in value.items() for m in _messages(v)]
    return [str(value)]


def field_errors(detail):
    """DRF or domain error detail as {field: [message, …]} ("__all__" -> non_field_errors)."""
    if isinstance(detail, dict):
        errors = {}
        for name, value in detail.items():
            key = NON_FIELD if name == "__all__" else str(name)
            errors.setdefault(key, []).extend(_messages(value))
        return errors
    return {NON_FIELD: _messages(detail)}


def error_of(exc):
    """The per-record errors of an exception raised while saving one record."""
    if isinstance(exc, InvalidInput) and exc.errors:
        return field_errors(exc.errors)
    if isinstance(exc, DomainError):
        return {NON_FIELD: [str(exc.message)]}
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return field_errors(exc.message_dict)
        return {NON_FIELD: [str(m) for m in exc.messages]}
    if isinstance(exc, ValidationError):
        return field_errors(exc.detail)
    if isinstance(exc, APIException):
        return {NON_FIELD: [str(exc.detail)]}
    constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
    if constraint:
        return {
            NON_FIELD: [
                _("The database refused this record (%(constraint)s).") % {"constraint": constraint}
            ]
        }
    return {NON_FIELD: [_("The database refused this record.")]}


SAVE_ERRORS = (DomainError, DjangoValidationError, ValidationError, DatabaseError)
UNEXPECTED = gettext_lazy(
    "This record could not be saved (an error on our side, logged); nothing of it was stored."
)


# --- Keys -------------------------------------------------------------------------------------------


CONFLICTING = object()  # a key named twice in one record with different values


def split_key(body):
    """(source, external_id, body without them) of a record given as a Feature or plain JSON: the
    key may be top-level or among a Feature's properties (None: not given; CONFLICTING: given
    twice with different values)."""
    body = dict(body)
    found = {name: [] for name in KEY_FIELDS}
    properties = body.get("properties")
    if isinstance(properties, dict):
        properties = dict(properties)
        for name in KEY_FIELDS:
            if name in properties:
                found[name].append(properties.pop(name))
        body["properties"] = properties
    for name in KEY_FIELDS:
        if name in body:
            found[name].append(body.pop(name))
    key = {}
    for name, values in found.items():
        if not values:
            key[name] = None
        elif all(v == values[0] for v in values):
            key[name] = values[0]
        else:
            key[name] = CONFLICTING
    return key["source"], key["external_id"], body


def key_errors(source, external_id):
    errors = {}
    for name, value, pattern, rule in (
        ("source", source, SOURCE_RE, SOURCE_RULE),
        ("external_id", external_id, EXTERNAL_ID_RE, EXTERNAL_ID_RULE),
    ):
        if value is CONFLICTING:
            errors[name] = [_("Given twice with different values.")]
        elif value in (None, ""):
            errors[name] = [_("This field is required.")]
        elif not isinstance(value, str) or not re.fullmatch(pattern, value):
            errors[name] = [str(rule)]
    return errors


TEXT_FIELDS = ("CharField", "TextField", "SlugField")


def _value_in(body, name):
    """The raw value of field ``name`` in a record (among a Feature's properties, or top-level)."""
    properties = body.get("properties")
    if isinstance(properties, dict) and name in properties:
        return properties[name]
    return body.get(name)


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


# --- The mixin --------------------------------------------------------------------------------------


class SyncWriteMixin:
    """Delete, upsert by (source, external_id) and bulk writes for a registered resource.

    The viewset sets ``sync_resource`` (its name in core.sync) and may override ``may_write(user,
    instance)`` (the service's own "may change this record" rule, applied when nothing is saved
    because nothing changed). It must be a FeatureWriteMixin (``respond``, ``lock``,
    ``geojson_geometry``).
    """

    sync_resource: str | None = None
    sync_derived = ("commune",)  # sent as null (or left out): the service finds it again

    @property
    def resource(self):
        return sync.get(self.sync_resource)

    def may_write(self, user, instance):
        return True

    # --- helpers ---

    def check_source_owned(self, source):
        sync_services.ensure_source_owned(self.request.user, source)

    def source_error(self, source):
        if not isinstance(source, str):
            return {}
        try:
            sync_services.ensure_source_owned(self.request.user, source)
        except sync_services.SourceNotOwned as exc:
            return {"source": [str(exc.message)]}
        return {}

    def get_object(self):
        """On a by-source URL, the record of (source, external_id): what OPTIONS (DRF's metadata)
        and the permission checks ask for there, where there is no public id."""
        if "source" in self.kwargs and "external_id" in self.kwargs:
            instance = self.find_by_source(self.kwargs["source"], self.kwargs["external_id"])
            if instance is None:
                raise NotFound()
            self.check_object_permissions(self.request, instance)
            return instance
        return super().get_object()

    def find_by_source(self, source, external_id, lock=False):
        queryset = self.get_queryset()
        instance = queryset.filter(source=source, external_id=external_id).first()
        if instance is None or not lock:
            return instance
        try:
            return self.lock(instance, lambda: queryset.get(pk=instance.pk))
        except instance.DoesNotExist:
            return None

    def update_data(self, data):
        """An update that moves the geometry without naming a commune: the service finds it."""
        data = dict(data)
        if self.geojson_geometry in data and "commune" not in data:
            data["commune"] = None
        return data

    def upsert(self, instance, data):
        """Create (``instance`` None) or update one record from validated ``data``; returns
        (result, saved instance). Runs inside the caller's transaction. A create that loses the
        race for a new key to another writer (unique constraint) is retried as an update."""
        user = self.request.user
        if instance is None:
            try:
                with transaction.atomic():
                    return CREATED, self.resource.save(user, None, dict(data))
            except (IntegrityError, InvalidInput):
                instance = self.find_by_source(data["source"], data["external_id"], lock=True)
                if instance is None:
                    raise
        return self.change(instance, data)

    def change(self, instance, data):
        if not self.may_write(self.request.user, instance):
            raise PermissionDenied()
        if unchanged(instance, data, derived=self.sync_derived):
            return UNCHANGED, instance
        return UPDATED, self.resource.save(self.request.user, instance, self.update_data(data))

    def current_state(self, instance):
        return lambda: self.get_serializer(instance).data

    def sync_response(self, instance, result):
        response = self.respond(
            instance, status.HTTP_201_CREATED if result == CREATED else status.HTTP_200_OK
        )
        response[SYNC_RESULT] = result
        return response

    # --- DELETE <prefix>/<id>/ ---

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            instance = self.locked_object()
            check_if_match(request, instance, current=self.current_state(instance))
            self.resource.delete(request.user, instance)
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- <prefix>/by-source/<source>/<external_id>/ ---

    @action(
        detail=False,
        methods=["get", "put", "delete"],
        url_path=rf"by-source/(?P<source>{SOURCE_RE})/(?P<external_id>{EXTERNAL_ID_RE})",
        url_name="by-source",
    )
    def by_source(self, request, source=None, external_id=None):
        if request.method in ("GET", "HEAD"):
            instance = self.find_by_source(source, external_id)
            if instance is None:
                raise NotFound()
            return self.respond(instance)
        self.check_source_owned(source)
        if request.method == "DELETE":
            with transaction.atomic():
                instance = self.find_by_source(source, external_id, lock=True)
                if instance is None:
                    raise NotFound()
                check_if_match(request, instance, current=self.current_state(instance))
                self.resource.delete(request.user, instance)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = self.validated_put(request.data, source, external_id)
        with transaction.atomic():
            instance = self.find_by_source(source, external_id, lock=True)
            if instance is not None:
                check_if_match(request, instance, current=self.current_state(instance))
            result, saved = self.upsert(instance, data)
        return self.sync_response(saved, result)

    def validated_put(self, body, source, external_id):
        if not isinstance(body, dict):
            raise ValidationError(
                {NON_FIELD: [_("Send a JSON object (a GeoJSON Feature or plain fields).")]}
            )
        sent_source, sent_id, body = split_key(body)
        errors = {}
        for name, sent, expected in (
            ("source", sent_source, source),
            ("external_id", sent_id, external_id),
        ):
            if sent is not None and sent != expected:
                errors[name] = [
                    _("It is “%(value)s” in the URL; leave it out or send the same.")
                    % {"value": expected}
                ]
        if errors:
            raise ValidationError(errors)
        serializer = self.get_serializer(data=body)
        serializer.is_valid(raise_exception=True)
        return {**serializer.validated_data, "source": source, "external_id": external_id}

    # --- POST <prefix>/bulk/ ---

    @action(detail=False, methods=["post"], url_path="bulk", url_name="bulk")
    def bulk(self, request):
        mode, records = self.batch_of(request.data)
        entries = self.validate_batch(records)
        valid = [e for e in entries if not e.errors]
        atomic = mode == ATOMIC
        if atomic and len(valid) < len(entries):
            applied = False
        elif self.resource.bulk is not None:
            applied = self.apply_bulk(valid, atomic)
        else:
            applied = self.apply_each(valid, atomic)
        if not applied:
            for entry in entries:
                if not entry.errors:
                    entry.status, entry.public_id = NOT_APPLIED, None
        results = [e.result() for e in entries]
        counts = dict.fromkeys((CREATED, UPDATED, UNCHANGED, ERROR, NOT_APPLIED), 0)
        for result in results:
            counts[result["status"]] += 1
        body = {"mode": mode, "applied": applied, "counts": counts, "results": results}
        if applied:
            return Response(body)
        response = Response(
            {
                "detail": _("Some records are not valid; nothing was applied."),
                "code": "batch_rejected",
                **body,
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
        response["Error-Code"] = "batch_rejected"
        return response

    def batch_of(self, body):
        if not isinstance(body, dict):
            raise ValidationError(
                {NON_FIELD: [_('Send a JSON object: {"mode": "atomic", "records": [ … ]}.')]}
            )
        mode = body.get("mode", ATOMIC)
        if mode not in (ATOMIC, PARTIAL):
            raise ValidationError({"mode": [_('Use "atomic" or "partial".')]})
        records = body.get("records")
        if records is None or records == []:
            raise ValidationError({"records": [_("Send at least one record.")]})
        if not isinstance(records, list):
            raise ValidationError({"records": [_("Send the records as a JSON list.")]})
        limit = settings.SYNC_BULK_MAX
        if len(records) > limit:
            raise BatchTooLarge(
                _("%(count)d records; at most %(limit)d in one call.")
                % {"count": len(records), "limit": limit}
            )
        return mode, records

    def validate_batch(self, records):
        """Each record checked by the viewset's serializer (built once; lookups remembered), its
        key checked, and a key seen earlier in the batch refused."""
        lookups = BatchLookups(self.get_serializer())
        serializer = lookups.serializer
        entries, bodies, seen = [], {}, {}
        for index, raw in enumerate(records):
            entry = Entry(index=index)
            entries.append(entry)
            if not isinstance(raw, dict):
                entry.fail(
                    {NON_FIELD: [_("A record is a JSON object (a GeoJSON Feature or fields).")]}
                )
                continue
            entry.source, entry.external_id, bodies[index] = split_key(raw)
        lookups.prefetch(bodies.values())
        for entry in entries:
            index = entry.index
            if index not in bodies:
                continue
            body = bodies[index]
            entry.fail(key_errors(entry.source, entry.external_id))
            entry.fail(self.source_error(entry.source))
            try:
                data = serializer.run_validation(body)
            except ValidationError as exc:
                entry.fail(field_errors(exc.detail))
            else:
                entry.data = {**data, "source": entry.source, "external_id": entry.external_id}
            if not isinstance(entry.source, str) or not isinstance(entry.external_id, str):
                continue
            key = (entry.source, entry.external_id)
            if key in seen:
                entry.fail(
                    {
                        "external_id": [
                            _("Record %(index)d of this batch has the same source and id.")
                            % {"index": seen[key]}
                        ]
                    }
                )
            else:
                seen[key] = index
        return entries

    def apply_bulk(self, entries, atomic):
        """The resource's batched upsert: it returns one outcome per record, in order."""
        if not entries:
            return True
        outcomes = self.resource.bulk(self.request.user, [e.data for e in entries], atomic)
        failed = False
        for entry, outcome in zip(entries, outcomes, strict=True):
            entry.status = outcome["status"]
            entry.public_id = outcome.get("id")
            if outcome.get("errors"):
                entry.fail(field_errors(outcome["errors"]))
                failed = True
        return not (atomic and failed)

    def apply_each(self, entries, atomic):
        """Each record through the resource's save service, in a savepoint of its own, all in one
        transaction (rolled back whole in atomic mode when one fails)."""
        if not entries:
            return True
        failed = False
        with transaction.atomic():
            existing = self.existing(entries)
            for entry in entries:
                instance = existing.get((entry.source, entry.external_id))
                try:
                    with transaction.atomic():
                        entry.status, saved = self.upsert(instance, entry.data)
                    entry.public_id = saved.public_id
                except SAVE_ERRORS as exc:
                    entry.fail(error_of(exc))
                    failed = True
                except Exception as exc:
                    # Partial mode: an unexpected failure is this record's error (its savepoint
                    # rolled back), not a 500 for the others. Atomic mode: a 500, all rolled back.
                    if atomic:
                        raise
                    logger.error(
                        "Bulk %s: record %d failed", self.sync_resource, entry.index, exc_info=exc
                    )
                    entry.fail({NON_FIELD: [str(UNEXPECTED)]})
                    failed = True
            if atomic and failed:
                transaction.set_rollback(True)
        return not (atomic and failed)

    def existing(self, entries):
        """{(source, external_id): record in scope, its row locked} for the entries' keys."""
        sources = {e.source for e in entries}
        ids = {e.external_id for e in entries}
        keys = {(e.source, e.external_id) for e in entries}
        found = {
            (obj.source, obj.external_id): obj
            for obj in self.get_queryset().filter(source__in=sources, external_id__in=ids)
            if (obj.source, obj.external_id) in keys
        }
        if found:
            model = self.get_queryset().model
            stamps = dict(
                model._default_manager.select_for_update()
                .filter(pk__in=[o.pk for o in found.values()])
                .order_by("pk")
                .values_list("pk", "updated_at")
            )
            stale = [k for k, o in found.items() if stamps.get(o.pk) != o.updated_at]
            if stale:
                fresh = self.get_queryset().in_bulk([found[k].pk for k in stale])
                for key in stale:
                    if found[key].pk in fresh:
                        found[key] = fresh[found[key].pk]
                    else:
                        del found[key]
        return found


# --- OpenAPI ------------------------------------------------------------------------------------------

ERROR_BODY = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail", "code"],
}
FIELD_ERRORS = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "description": "Field errors: {field: [message, …]} (the Error-Code header says `invalid`).",
}
PRECONDITION = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string", "enum": ["precondition_failed"]},
        "current": {"type": "object", "description": "The record as it is now (its Feature)."},
    },
    "required": ["detail", "code"],
}
RESULT = {
    "type": "object",
    "properties": {
        "index": {"type": "integer", "description": "The record's place in `records` (from 0)."},
        "source": {"type": "string", "nullable": True},
        "external_id": {"type": "string", "nullable": True},
        "status": {
            "type": "string",
            "enum": [CREATED, UPDATED, UNCHANGED, ERROR, NOT_APPLIED],
        },
        "id": {
            "type": "string",
            "format": "uuid",
            "nullable": True,
            "description": "The record's public id (null when not written).",
        },
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["index", "source", "external_id", "status", "id", "errors"],
}
COUNTS = {
    "type": "object",
    "properties": {
        name: {"type": "integer"} for name in (CREATED, UPDATED, UNCHANGED, ERROR, NOT_APPLIED)
    },
}
BULK_RESULT = {
    "type": "object",
    "properties": {
        "mode": {"type": "string", "enum": [ATOMIC, PARTIAL]},
        "applied": {"type": "boolean"},
        "counts": COUNTS,
        "results": {"type": "array", "items": RESULT},
    },
    "required": ["mode", "applied", "counts", "results"],
}
BULK_REJECTED = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "code": {
            "type": "string",
            "enum": [
                "batch_rejected",
                "batch_too_large",
                "invalid",
                "parse_error",
                "idempotency_key_invalid",
            ],
        },
        **BULK_RESULT["properties"],
    },
    "required": ["detail", "code"],
}
BULK_REQUEST = {
    "type": "object",
    "properties": {
        "mode": {
            "type": "string",
            "enum": [ATOMIC, PARTIAL],
            "default": ATOMIC,
            "description": "atomic: all records or none; partial: the valid ones.",
        },
        "records": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1000,
            "items": {
                "type": "object",
                "description": (
                    "A create body (GeoJSON Feature or plain JSON) with `source` and "
                    "`external_id`, top-level or among the Feature's properties."
                ),
            },
        },
    },
    "required": ["records"],
}
AUTH_ERRORS = {
    401: OpenApiResponse(
        ERROR_BODY, description=gettext_lazy("`token_invalid`, `token_expired`, `client_disabled`.")
    ),
    429: OpenApiResponse(ERROR_BODY, description=gettext_lazy("`throttled`.")),
}
SOURCE_PARAMS = [
    OpenApiParameter(
        "source",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        pattern=SOURCE_RE,
        description=gettext_lazy(
            "The system the record comes from: a token client's organisation code, e.g. VIETTEL."
        ),
    ),
    OpenApiParameter(
        "external_id",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        pattern=EXTERNAL_ID_RE,
        description=gettext_lazy("The record's id in that system (up to 128 characters, no /)."),
    ),
]


def sync_write_schema(serializer_class, summaries, example):
    """``extend_schema_view`` arguments documenting SyncWriteMixin's endpoints for a register whose
    Feature is ``serializer_class``. ``summaries`` has a whole sentence for each of "destroy",
    "get", "put", "delete" and "bulk" (translated whole, not pieced together); ``example`` is a
    create body (a Feature) the examples use."""
    stale = OpenApiResponse(
        PRECONDITION,
        description=gettext_lazy(
            "`precondition_failed`: If-Match names an older version; `current` is the record now "
            "and the ETag header its version."
        ),
    )
    not_found = OpenApiResponse(
        ERROR_BODY, description=gettext_lazy("`not_found` (no such record for you).")
    )
    forbidden = OpenApiResponse(
        ERROR_BODY,
        description=gettext_lazy(
            "`permission_denied`, `scope_missing`, `source_not_owned` (a client writes only its "
            "organisation's source)."
        ),
    )
    conflict = OpenApiResponse(
        ERROR_BODY, description=gettext_lazy("`conflict`: other records still refer to it.")
    )
    too_large = OpenApiResponse(
        ERROR_BODY,
        description=gettext_lazy("`payload_too_large`: over the body size limit."),
    )
    sync_result = OpenApiParameter(
        SYNC_RESULT,
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200, 201],
        enum=[CREATED, UPDATED, UNCHANGED],
        description=gettext_lazy("What the call did."),
    )
    etag_header = OpenApiParameter(
        "ETag",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200, 201],
        description=gettext_lazy("The record's version, for If-Match."),
    )
    properties = example.get("properties", {})
    keyed = [
        {
            **example,
            "properties": {**properties, "source": "VIETTEL", "external_id": f"A-{n}"},
        }
        for n in (1, 2)
    ]
    keyed[1]["properties"].pop(next(iter(properties)), None)  # the second one lacks a field
    return {
        "destroy": extend_schema(
            summary=summaries["destroy"],
            description=gettext_lazy(
                "Send the ETag of your last read as If-Match to be sure you delete what you saw. "
                "The change feed keeps a tombstone."
            ),
            parameters=[IF_MATCH],
            responses={
                204: OpenApiResponse(description=gettext_lazy("Deleted.")),
                403: forbidden,
                404: not_found,
                409: conflict,
                412: stale,
                **AUTH_ERRORS,
            },
        ),
        "by_source": [
            extend_schema(
                methods=["GET"],
                summary=summaries["get"],
                description=gettext_lazy(
                    "The record another system knows by (source, its id there), with its ETag."
                ),
                parameters=[*SOURCE_PARAMS, etag_header],
                responses={
                    200: OpenApiResponse(serializer_class, description=gettext_lazy("Found.")),
                    404: not_found,
                    **AUTH_ERRORS,
                },
            ),
            extend_schema(
                methods=["PUT"],
                summary=summaries["put"],
                description=gettext_lazy(
                    "The body is the same as a create's (a GeoJSON Feature or plain JSON); "
                    "`source` and `external_id` come from the URL (a body naming others is a "
                    "400). 201 when created, 200 when updated or unchanged; the `Sync-Result` "
                    "header says which. When every field already holds the value sent, nothing "
                    "is written (no history, no change-feed event): repeating a call is "
                    "harmless and returns the same body. With If-Match, an existing record "
                    "changed since is not overwritten (412 with its present state). A token "
                    "client writes only its own organisation's source."
                ),
                parameters=[*SOURCE_PARAMS, IF_MATCH, sync_result, etag_header],
                request=serializer_class,
                responses={
                    200: OpenApiResponse(
                        serializer_class, description=gettext_lazy("Updated or unchanged.")
                    ),
                    201: OpenApiResponse(serializer_class, description=gettext_lazy("Created.")),
                    400: OpenApiResponse(
                        FIELD_ERRORS,
                        description=gettext_lazy("`invalid` (field errors), `parse_error`."),
                    ),
                    403: forbidden,
                    412: stale,
                    413: too_large,
                    **AUTH_ERRORS,
                },
                examples=[
                    OpenApiExample("A record", request_only=True, value=example),
                    OpenApiExample(
                        "412",
                        response_only=True,
                        status_codes=["412"],
                        value={
                            "detail": "Someone else changed this record first. Reload it and "
                            "try again.",
                            "code": "precondition_failed",
                            "current": example,
                        },
                    ),
                ],
            ),
            extend_schema(
                methods=["DELETE"],
                summary=summaries["delete"],
                parameters=[*SOURCE_PARAMS, IF_MATCH],
                responses={
                    204: OpenApiResponse(description=gettext_lazy("Deleted.")),
                    403: forbidden,
                    404: not_found,
                    409: conflict,
                    412: stale,
                    **AUTH_ERRORS,
                },
            ),
        ],
        "bulk": extend_schema(
            summary=summaries["bulk"],
            description=gettext_lazy(
                "Up to 1,000 records, each a create body with `source` and `external_id` "
                "(top-level or among a Feature's properties). Every record is validated and gets "
                "a result (created, updated, unchanged or error with its field messages). Mode "
                "`atomic` (the default) applies all or none: with any error nothing is written "
                "and the answer is 400 `batch_rejected` with the results (valid records say "
                "`not_applied`). Mode `partial` writes the valid ones in one transaction and "
                "answers 200. A key twice in one batch is an error on the later record. Send an "
                "Idempotency-Key header to retry a call safely."
            ),
            request={"application/json": BULK_REQUEST},
            responses={
                200: OpenApiResponse(BULK_RESULT, description=gettext_lazy("Applied.")),
                400: OpenApiResponse(
                    {"anyOf": [BULK_REJECTED, FIELD_ERRORS]},
                    description=gettext_lazy(
                        "`batch_rejected` (atomic, with the results), `batch_too_large`, "
                        "`invalid`, `parse_error`, `idempotency_key_invalid` (an Idempotency-Key "
                        "header is 1 to 255 printable characters)."
                    ),
                ),
                403: forbidden,
                409: OpenApiResponse(
                    ERROR_BODY,
                    description=gettext_lazy(
                        "`idempotency_in_progress`: the first call with this key still runs."
                    ),
                ),
                413: too_large,
                422: OpenApiResponse(
                    ERROR_BODY,
                    description=gettext_lazy(
                        "`idempotency_key_reused`: the key was used for another request."
                    ),
                ),
                **AUTH_ERRORS,
            },
            parameters=[
                OpenApiParameter(
                    "Idempotency-Key",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description=gettext_lazy(
                        "Any unique text (e.g. a UUID): a retry with the same key gets the first "
                        "answer again (Idempotent-Replayed: true)."
                    ),
                )
            ],
            examples=[
                OpenApiExample(
                    "Two records",
                    request_only=True,
                    value={"mode": PARTIAL, "records": keyed},
                ),
                OpenApiExample(
                    "Results",
                    response_only=True,
                    status_codes=["200"],
                    value={
                        "mode": PARTIAL,
                        "applied": True,
                        "counts": {
                            CREATED: 1,
                            UPDATED: 0,
                            UNCHANGED: 0,
                            ERROR: 1,
                            NOT_APPLIED: 0,
                        },
                        "results": [
                            {
                                "index": 0,
                                "source": "VIETTEL",
                                "external_id": "A-1",
                                "status": CREATED,
                                "id": "0b6c2f0e-3f1a-4c36-9d0e-6a1d1b2c3d4e",
                                "errors": {},
                            },
                            {
                                "index": 1,
                                "source": "VIETTEL",
                                "external_id": "A-2",
                                "status": ERROR,
                                "id": None,
                                "errors": {
                                    next(iter(properties), "name"): ["This field is required."]
                                },
                            },
                        ],
                    },
                ),
            ],
        ),
    }
