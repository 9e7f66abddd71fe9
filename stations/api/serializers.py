"""Serializers of the stations API.

They check types only (codes that exist, GeoJSON points, choices, numbers); the business rules
(inside Vietnam, the commune contains the point, heights 0-300 m, who may do what, which status
change) live in stations.services, which every write goes through.

Lists of stations and public sites are written by PostgreSQL (see ``*_PROPERTIES`` below and
core.geojson); the detail serializers give the same properties, so a feature looks the same in a
list page and on its own.
"""

import math
from datetime import UTC

from django.contrib.gis.geos import Point, Polygon
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_gis import (
    GeoFeatureModelSerializerExtension,
    _inject_enum_collision_fix,
)
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from core.geojson import Geometry
from core.models import AdministrativeUnit, Organization
from stations import services
from stations.models import (
    ApplicationDocument,
    ApplicationEvent,
    ApplicationType,
    DocumentType,
    LandCategory,
    PermitApplication,
    PublicSite,
    Station,
    StructureType,
    Technology,
)

PRECISION = 6  # decimal places of coordinates (~0.1 m), the same as the lists PostgreSQL writes

# --- Fields ------------------------------------------------------------------------------------------


class CodeField(serializers.SlugRelatedField):
    """A related record given and shown by its code, with a message that names the code."""

    default_error_messages = {
        "does_not_exist": _("Unknown code “{value}”."),
        "invalid": _("Give the code as text."),
    }

    def __init__(self, queryset, slug_field="code", **kwargs):
        super().__init__(slug_field=slug_field, queryset=queryset, **kwargs)


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


class GeoJSONGeometryField(GeometryField):
    """A GeoJSON geometry of one type in WGS 84 (lon, lat); rounded to ``PRECISION`` on output.

    Only the shape is checked here; whether the place is acceptable (in Vietnam, in its commune) is
    the service's business.
    """

    geometry_type = "Point"
    default_error_messages = {
        "wrong_type": _("Give a GeoJSON {expected}, not a {found}."),
        "not_geometry": _(
            'Give a GeoJSON geometry, e.g. {{"type": "Point", "coordinates": [105.83, 21.03]}}.'
        ),
        "srid": _("Give the coordinates in WGS 84 (longitude, latitude)."),
        "range": _("Longitude must be within -180..180 and latitude within -90..90."),
        "empty": _("The geometry has no coordinates."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("precision", PRECISION)
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, (dict, str)):
            self.fail("not_geometry")
        geometry = super().to_internal_value(value)
        if geometry is None:
            return None
        if geometry.srid not in (None, 4326):
            self.fail("srid")
        if geometry.geom_type != self.geometry_type:
            self.fail("wrong_type", expected=self.geometry_type, found=geometry.geom_type)
        if geometry.empty:
            self.fail("empty")
        geometry = self.normalise(geometry)
        geometry.srid = 4326
        for x, y, *_z in _points(geometry.coords):
            if not (math.isfinite(x) and math.isfinite(y)):
                self.fail("range")
            if not (-180 <= x <= 180 and -90 <= y <= 90):
                self.fail("range")
        return geometry

    def normalise(self, geometry):
        return geometry


class PointGeometryField(GeoJSONGeometryField):
    geometry_type = "Point"

    def normalise(self, geometry):
        # Two dimensions: a height given as a third coordinate is dropped (the column is 2D).
        return Point(geometry.x, geometry.y, srid=4326)


class PolygonGeometryField(GeoJSONGeometryField):
    geometry_type = "Polygon"
    default_error_messages = {"invalid_polygon": _("The polygon is not valid: {reason}.")}

    def normalise(self, geometry):
        if geometry.hasz:
            geometry = Polygon(*[[(x, y) for x, y, *_z in ring] for ring in geometry.coords])
        if not geometry.valid:
            self.fail("invalid_polygon", reason=geometry.valid_reason)
        return geometry


def _points(coords):
    """Every (x, y[, z]) tuple of a GEOS ``coords`` value, however deeply nested."""
    if coords and isinstance(coords[0], (int, float)):
        yield coords
        return
    for part in coords:
        yield from _points(part)


class OwnStationField(CodeField):
    """A station given by its public id, among the stations the requesting user may see."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Station.objects.none(), slug_field="public_id", **kwargs)

    def get_queryset(self):
        from stations import selectors

        request = self.context.get("request")
        return selectors.stations(request.user if request else None)


class UTCDateTimeField(serializers.DateTimeField):
    """A timestamp in UTC, as the lists PostgreSQL writes give it."""

    def to_representation(self, value):
        return value.astimezone(UTC).isoformat() if value else None


class HeightField(serializers.DecimalField):
    """A height in metres: a number with at most two decimals. The plausible range (0-300 m) is
    the model's rule, applied by the service."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=6, decimal_places=2, **kwargs)


class TechnologiesField(serializers.ListField):
    def __init__(self, **kwargs):
        super().__init__(child=serializers.ChoiceField(choices=Technology.choices), **kwargs)

    def to_internal_value(self, data):
        return sorted(set(super().to_internal_value(data)))


class FeatureInputMixin:
    """Input as a GeoJSON Feature (geometry + properties) or as plain JSON with the geometry under
    its field name (``location``)."""

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

    target_class = "stations.api.serializers.FeatureSerializer"
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


# --- Stations ------------------------------------------------------------------------------------------

# The list (built by PostgreSQL) and StationSerializer give the same properties.
STATION_PROPERTIES = {
    "id": "public_id",
    "code": "code",
    "name": "name",
    "operator": "operator__code",
    "commune": "commune__code",
    "address": "address",
    "status": "status",
    "structure_type": "structure_type",
    "structure_height_m": "structure_height_m",
    "building_height_m": "building_height_m",
    "technologies": "technologies",
    "land_category": "land_category",
    "non_bulky": "non_bulky",
    "permit_reference": "permit_reference",
    "commissioned_on": "commissioned_on",
    "source": "source",
    "external_id": "external_id",
    "updated_at": "updated_at",
}


class StationSerializer(FeatureSerializer):
    """A station as a GeoJSON Feature (``id`` = its public UUID, geometry = its location)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    operator = OperatorField(help_text=_("Operator code, e.g. VIETTEL."))
    commune = CommuneField(
        help_text=_("Five-digit unit code; left out, it is found from the location.")
    )
    location = PointGeometryField(help_text=_("GeoJSON Point in WGS 84."))
    structure_type = serializers.ChoiceField(choices=StructureType.choices)
    structure_height_m = HeightField()
    building_height_m = HeightField(required=False, allow_null=True)
    technologies = TechnologiesField(required=False)
    land_category = serializers.ChoiceField(choices=LandCategory.choices)
    status = serializers.ChoiceField(choices=Station.Status.choices, required=False)
    non_bulky = serializers.BooleanField(
        read_only=True,
        help_text=_(
            "No construction permit needed: a camouflaged mast, or a rooftop mast at most 3 m "
            "high and at most a fifth of its building's height."
        ),
    )
    updated_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = Station
        geo_field = "location"
        id_field = "id"
        fields = list(STATION_PROPERTIES) + ["location"]
        extra_kwargs = {
            "address": {"required": False},
            "permit_reference": {"required": False},
            "source": {"required": False},
            "external_id": {"required": False},
        }
        validators = []  # (operator, code) and (source, external_id) are checked by the service


# --- Public sites ----------------------------------------------------------------------------------------

SITE_PROPERTIES = {
    "id": "public_id",
    "name": "name",
    "owner": "owner__code",
    "address": "address",
    "commune": "commune__code",
    "land_category": "land_category",
    "area": Geometry("area", PRECISION),
    "building_height_m": "building_height_m",
    "capacity": "capacity",
    "taken": "taken",
    "conditions": "conditions",
    "status": "status",
    "updated_at": "updated_at",
}


class PublicSiteSerializer(FeatureSerializer):
    """A public site the city offers for stations, as a GeoJSON Feature (geometry = its point)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    owner = CodeField(
        queryset=Organization.objects.all(), help_text=_("Code of the agency owning the site.")
    )
    commune = CommuneField(
        help_text=_("Five-digit unit code; left out, it is found from the location.")
    )
    location = PointGeometryField(help_text=_("GeoJSON Point in WGS 84."))
    area = PolygonGeometryField(
        required=False, allow_null=True, help_text=_("GeoJSON Polygon of the site, if known.")
    )
    land_category = serializers.ChoiceField(choices=LandCategory.choices)
    building_height_m = HeightField(required=False, allow_null=True)
    capacity = serializers.IntegerField(
        required=False, help_text=_("How many stations the site can take (1-50).")
    )
    taken = serializers.IntegerField(read_only=True, help_text=_("Stations approved on the site."))
    status = serializers.ChoiceField(choices=PublicSite.Status.choices, required=False)
    updated_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = PublicSite
        geo_field = "location"
        id_field = "id"
        fields = list(SITE_PROPERTIES) + ["location"]
        extra_kwargs = {"conditions": {"required": False}}

    def get_properties(self, instance, fields):
        properties = super().get_properties(instance, fields)
        properties["taken"] = getattr(instance, "taken", 0) or 0
        return properties


# --- Permit applications ---------------------------------------------------------------------------------


class ApplicationSerializer(serializers.ModelSerializer):
    """A permit application (plain JSON; ``location`` is a GeoJSON Point)."""

    applicant = serializers.SlugRelatedField(slug_field="code", read_only=True)
    application_type = CodeField(
        queryset=ApplicationType.objects.all(), help_text=_("e.g. public_station.")
    )
    public_site = CodeField(
        queryset=PublicSite.objects.all(),
        slug_field="public_id",
        required=False,
        allow_null=True,
        help_text=_("Public id of the site applied for; fills the place in."),
    )
    station = OwnStationField(
        required=False,
        allow_null=True,
        help_text=_("Public id of one of your stations the application changes."),
    )
    commune = CommuneField(
        help_text=_("Five-digit unit code; left out, it is found from the location.")
    )
    location = PointGeometryField(
        required=False, help_text=_("GeoJSON Point; left out when a public site is given.")
    )
    address = serializers.CharField(max_length=500, required=False)
    structure_type = serializers.ChoiceField(choices=StructureType.choices)
    structure_height_m = HeightField()
    building_height_m = HeightField(required=False, allow_null=True)
    technologies = TechnologiesField(required=False)
    land_category = serializers.ChoiceField(choices=LandCategory.choices, required=False)
    non_bulky = serializers.BooleanField(source="non_bulky_now", read_only=True)
    days_used = serializers.SerializerMethodField()
    days_left = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()
    colocation_candidates = serializers.JSONField(read_only=True)

    class Meta:
        model = PermitApplication
        fields = [
            "id",
            "number",
            "status",
            "version",
            "applicant",
            "application_type",
            "public_site",
            "station",
            "station_code",
            "station_name",
            "address",
            "commune",
            "location",
            "structure_type",
            "structure_height_m",
            "building_height_m",
            "technologies",
            "land_category",
            "non_bulky",
            "sharing_justification",
            "colocation_candidates",
            "submitted_at",
            "completeness_due",
            "decision_due",
            "overdue",
            "days_used",
            "days_left",
            "decided_at",
            "decision_number",
            "decision_reason",
            "allowed_actions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "number",
            "status",
            "version",
            "submitted_at",
            "completeness_due",
            "decision_due",
            "overdue",
            "decided_at",
            "decision_number",
            "decision_reason",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"sharing_justification": {"required": False}}

    def get_days_used(self, obj) -> int:
        return services.days_used(obj)

    def get_days_left(self, obj) -> int | None:
        return services.days_left(obj)

    def get_allowed_actions(self, obj) -> list[str]:
        request = self.context.get("request")
        return services.allowed_actions(request.user if request else None, obj)


class DocumentSerializer(serializers.ModelSerializer):
    document_type = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = ApplicationDocument
        fields = [
            "id",
            "document_type",
            "original_name",
            "content_type",
            "size",
            "uploaded_at",
        ]


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = ApplicationEvent
        fields = ["id", "kind", "from_status", "to_status", "actor", "note", "created_at"]

    def get_actor(self, obj) -> str | None:
        if obj.actor_id is None:
            return None
        return obj.actor.get_full_name() or obj.actor.username


class ChecklistItemSerializer(serializers.Serializer):
    document_type = serializers.CharField(source="type.code")
    name = serializers.CharField(source="type.name")
    done = serializers.BooleanField()


class ApplicationDetailSerializer(ApplicationSerializer):
    """One application with its documents, checklist and timeline (messages included)."""

    documents = DocumentSerializer(many=True, read_only=True)
    checklist = serializers.SerializerMethodField()
    timeline = EventSerializer(many=True, read_only=True)

    class Meta(ApplicationSerializer.Meta):
        fields = [*ApplicationSerializer.Meta.fields, "documents", "checklist", "timeline"]

    @extend_schema_field(ChecklistItemSerializer(many=True))
    def get_checklist(self, obj):
        from stations import selectors

        return ChecklistItemSerializer(selectors.checklist(obj), many=True).data


# --- Permit application actions (input only) --------------------------------------------------------------

VERSION_HELP = _(
    "The application's version as you last read it: if someone changed it since, the answer is 409."
)


class SubmitSerializer(serializers.Serializer):
    sharing_justification = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=_("Why not share a structure of another operator nearby (needed when any)."),
    )


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class DecisionNoteSerializer(NoteSerializer):
    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)


class ApproveSerializer(DecisionNoteSerializer):
    decision_number = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=100
    )


class RejectSerializer(serializers.Serializer):
    reasons = serializers.CharField(required=False, allow_blank=True, default="")
    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)


class DocumentUploadSerializer(serializers.Serializer):
    document_type = CodeField(queryset=DocumentType.objects.all(), help_text=_("e.g. drawings."))
    file = serializers.FileField(help_text=_("PDF, JPEG or PNG (checked by content)."))


class MessageSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)
