"""Sync writes, one record at a time: the result names, comparing what is sent with what is
stored (an upsert that changes nothing writes nothing), the errors of one record and the
(source, external_id) key. Used by sync.api.mixin (the endpoints are described there)."""

import re
from decimal import Decimal, InvalidOperation

from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.settings import api_settings

from core.exceptions import DomainError, InvalidInput

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
