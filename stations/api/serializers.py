"""Serializers of the stations API.

They check types only (codes that exist, GeoJSON points, choices, numbers); the business rules
(inside Vietnam, the commune contains the point, heights 0-300 m, who may do what, which status
change) live in stations.services, which every write goes through.

Lists of stations and public sites are written by PostgreSQL (see ``*_PROPERTIES`` below and
core.geojson); the detail serializers give the same properties, so a feature looks the same in a
list page and on its own.
"""

from django.contrib.gis.geos import Polygon
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import (
    PRECISION,
    CodeField,
    CommuneField,
    FeatureSerializer,
    GeoJSONGeometryField,
    OperatorField,
    PointGeometryField,
    UTCDateTimeField,
)
from core.geojson import Geometry
from core.models import Organization
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
from stations.workflows import PERMIT

# --- Fields ------------------------------------------------------------------------------------------


class PolygonGeometryField(GeoJSONGeometryField):
    geometry_type = "Polygon"
    default_error_messages = {"invalid_polygon": _("The polygon is not valid: {reason}.")}

    def normalise(self, geometry):
        if geometry.hasz:
            geometry = Polygon(*[[(x, y) for x, y, *_z in ring] for ring in geometry.coords])
        if not geometry.valid:
            self.fail("invalid_polygon", reason=geometry.valid_reason)
        return geometry


class OwnStationField(CodeField):
    """A station given by its public id, among the stations the requesting user may see."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Station.objects.none(), slug_field="public_id", **kwargs)

    def get_queryset(self):
        from stations import selectors

        request = self.context.get("request")
        return selectors.stations(request.user if request else None)


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
    "source": "source",
    "external_id": "external_id",
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
        return PERMIT.allowed_actions(request.user if request else None, obj)


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


class StepSerializer(serializers.Serializer):
    """Every step may name the version its caller read (as If-Match may name the ETag)."""

    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)


class SubmitSerializer(StepSerializer):
    sharing_justification = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=_("Why not share a structure of another operator nearby (needed when any)."),
    )


class NoteSerializer(StepSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class DecisionNoteSerializer(NoteSerializer):
    pass


class ApproveSerializer(DecisionNoteSerializer):
    decision_number = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=100
    )


class RejectSerializer(StepSerializer):
    reasons = serializers.CharField(required=False, allow_blank=True, default="")


class DocumentUploadSerializer(serializers.Serializer):
    document_type = CodeField(queryset=DocumentType.objects.all(), help_text=_("e.g. drawings."))
    file = serializers.FileField(help_text=_("PDF, JPEG or PNG (checked by content)."))


class MessageSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)
