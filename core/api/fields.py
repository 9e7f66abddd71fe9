"""Serializer fields every app's API shares: records by code, GeoJSON geometries, GeoJSON Features.

They check types only (codes that exist, GeoJSON of the right type, coordinates in range); whether a
place is acceptable (in Vietnam, in its commune) and who may do what is the services' business.
(Taken from stations.api.serializers, where they were first written, so that other apps need not
copy them.)
"""

import math
import uuid
from datetime import UTC

from django.contrib.gis.geos import LineString, Point
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_gis import (
    GeoFeatureModelSerializerExtension,
    _inject_enum_collision_fix,
)
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from core.models import AdministrativeUnit, Organization

PRECISION = 6  # decimal places of coordinates (~0.1 m), the same as the lists PostgreSQL writes


class CodeField(serializers.SlugRelatedField):
    """A related record given and shown by its code, with a message that names the code."""

    default_error_messages = {
        "does_not_exist": _("Unknown code “{value}”."),
        "invalid": _("Give the code as text."),
    }

    def __init__(self, queryset=None, slug_field="code", **kwargs):
        super().__init__(slug_field=slug_field, queryset=queryset, **kwargs)


class ScopedCodeField(serializers.RelatedField):
    """A record among those the user may see (``selector(user)``), given by its code or its public
    id (and, with ``accept_pk``, its id); shown by its code. Subclasses set ``model``,
    ``selector`` (a staticmethod) and their messages."""

    model = None
    selector = None
    accept_pk = False
    default_error_messages = {
        "does_not_exist": _("Unknown code “{value}”."),
        "invalid": _("Give the code or the id."),
    }

    def __init__(self, **kwargs):
        super().__init__(queryset=self.model.objects.none(), **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.selector(request.user if request else None)

    def to_internal_value(self, data):
        allowed = (str, int) if self.accept_pk else (str,)
        if not isinstance(data, allowed) or isinstance(data, bool) or not str(data).strip():
            self.fail("invalid")
        text = str(data).strip()
        queryset = self.get_queryset()
        if self.accept_pk and text.isdigit():
            found = queryset.filter(pk=int(text)).first()
        else:
            try:
                found = queryset.filter(public_id=uuid.UUID(text)).first()
            except ValueError:
                found = queryset.filter(code=text).first()
        if found is None:
            self.fail("does_not_exist", value=text)
        return found

    def to_representation(self, value):
        return value.code


class OrganizationField(CodeField):
    default_error_messages = {"does_not_exist": _("Unknown organisation code “{value}”.")}

    def __init__(self, **kwargs):
        super().__init__(queryset=Organization.objects.all(), **kwargs)


class OperatorField(CodeField):
    default_error_messages = {"does_not_exist": _("Unknown operator code “{value}”.")}

    def __init__(self, **kwargs):
        super().__init__(
            queryset=Organization.objects.filter(kind=Organization.Kind.OPERATOR), **kwargs
        )


class CommuneField(CodeField):
    default_error_messages = {
        "does_not_exist": _("Unknown commune code “{value}”: not one of Hanoi's units.")
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(
            queryset=AdministrativeUnit.objects.defer("boundary", "map_boundary"), **kwargs
        )


def _points(coords):
    """Every (x, y[, z]) tuple of a GEOS ``coords`` value, however deeply nested."""
    if coords and isinstance(coords[0], (int, float)):
        yield coords
        return
    for part in coords:
        yield from _points(part)


def _has_extra_coordinates(value):
    """Whether a GeoJSON dict's ``coordinates`` hold a position of more than two numbers."""
    if not isinstance(value, dict):
        return False
    stack = [value.get("coordinates")]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            if item and all(isinstance(n, int | float) for n in item):
                if len(item) > 2:
                    return True
            else:
                stack.extend(item)
    return False


class GeoJSONGeometryField(GeometryField):
    """A GeoJSON geometry of the type(s) in ``geometry_type`` in WGS 84 (lon, lat); rounded to
    ``PRECISION`` on output. A third coordinate (a height, or 1e308) is refused with a field error:
    the register keeps no heights in its geometries, and dropping it silently would store something
    other than what was sent."""

    geometry_type: str | tuple = "Point"
    default_error_messages = {
        "wrong_type": _("Give a GeoJSON {expected}, not a {found}."),
        "not_geometry": _(
            'Give a GeoJSON geometry, e.g. {{"type": "Point", "coordinates": [105.83, 21.03]}}.'
        ),
        "srid": _("Give the coordinates in WGS 84 (longitude, latitude)."),
        "range": _("Longitude must be within -180..180 and latitude within -90..90."),
        "empty": _("The geometry has no coordinates."),
        "z": _(
            "Give two coordinates per position (longitude, latitude): a third coordinate (height) "
            "is not stored."
        ),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("precision", PRECISION)
        super().__init__(**kwargs)

    @property
    def geometry_types(self):
        kinds = self.geometry_type
        return (kinds,) if isinstance(kinds, str) else tuple(kinds)

    def to_internal_value(self, value):
        if not isinstance(value, (dict, str)):
            self.fail("not_geometry")
        geometry = super().to_internal_value(value)
        if geometry is None:
            return None
        if geometry.srid not in (None, 4326):
            self.fail("srid")
        if geometry.geom_type not in self.geometry_types:
            self.fail(
                "wrong_type", expected=" / ".join(self.geometry_types), found=geometry.geom_type
            )
        if geometry.empty:
            self.fail("empty")
        if geometry.hasz or _has_extra_coordinates(value):
            self.fail("z")
        for x, y, *_z in _points(geometry.coords):
            if not (math.isfinite(x) and math.isfinite(y)):
                self.fail("range")
            if not (-180 <= x <= 180 and -90 <= y <= 90):
                self.fail("range")
        geometry = self.normalise(geometry)
        geometry.srid = 4326
        return geometry

    def normalise(self, geometry):
        if geometry.geom_type == "Point":
            return Point(geometry.x, geometry.y, srid=4326)
        if geometry.geom_type == "LineString" and geometry.hasz:
            return LineString([(x, y) for x, y, *_z in geometry.coords], srid=4326)
        return geometry


class PointGeometryField(GeoJSONGeometryField):
    geometry_type = "Point"


class UTCDateTimeField(serializers.DateTimeField):
    """A timestamp in UTC, as the lists PostgreSQL writes give it."""

    def to_representation(self, value):
        return value.astimezone(UTC).isoformat() if value else None


class FeatureInputMixin:
    """Input as a GeoJSON Feature (geometry + properties) or as plain JSON with the geometry under
    its field name."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": [_("Send a JSON object (a GeoJSON Feature or plain fields).")]}
            )
        if data.get("type") == "Feature" or "properties" in data:
            properties = data.get("properties") if data.get("properties") is not None else {}
            if not isinstance(properties, dict):
                raise serializers.ValidationError(
                    {"properties": [_("A Feature's properties must be an object.")]}
                )
            # rest_framework_gis moves the geometry into the properties: work on a copy.
            data = {**data, "properties": dict(properties)}
        return super().to_internal_value(data)


class FeatureSerializer(FeatureInputMixin, GeoFeatureModelSerializer):
    """A record as a GeoJSON Feature whose ``id`` is its public UUID, repeated in the properties."""

    def get_properties(self, instance, fields):
        return {"id": str(instance.public_id), **super().get_properties(instance, fields)}


class FeatureSerializerExtension(GeoFeatureModelSerializerExtension):
    """OpenAPI for FeatureSerializer: the request is a Feature without an id; the response's
    properties repeat the id."""

    target_class = "core.api.fields.FeatureSerializer"
    match_subclasses = True
    priority = 1

    def map_serializer(self, auto_schema, direction):
        _inject_enum_collision_fix(collection=False)
        base = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        id_schema = base["properties"].get("id", {"type": "string", "format": "uuid"})
        base["properties"]["id"] = id_schema
        schema = self.map_geo_feature_model_serializer(self.target, base)
        if direction == "request":
            del schema["properties"]["id"]
        else:
            properties = schema["properties"]["properties"]["properties"]
            schema["properties"]["properties"]["properties"] = {"id": id_schema, **properties}
        return schema


def refuse_booleans_as_numbers():
    """JSON ``true``/``false`` is not a number: DRF's FloatField reads it as 1.0/0.0 (``float(True)``),
    so "a boolean as metres of duct" was stored. Every number field of every serializer (model,
    GeoJSON or plain, whoever declares it) refuses a boolean with the field's own "invalid" message.
    Called once from CoreConfig.ready()."""
    for cls in (serializers.IntegerField, serializers.FloatField, serializers.DecimalField):
        if getattr(cls.to_internal_value, "refuses_booleans", False):
            continue
        parse = cls.to_internal_value

        def to_internal_value(self, data, _parse=parse):
            if isinstance(data, bool):
                self.fail("invalid")
            return _parse(self, data)

        to_internal_value.refuses_booleans = True
        cls.to_internal_value = to_internal_value
