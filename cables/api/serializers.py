"""Serializers of the cables API.

They check types only (codes and ids that exist, GeoJSON of the right type, choices, dates); the
business rules (a simple route inside Vietnam, progress within the segment's length, no date in the
future, who may report) live in cables.services, which every write goes through.

The segment and notice lists are written by PostgreSQL (``SEGMENT_API_PROPERTIES``,
``NOTICE_API_PROPERTIES`` and core.geojson); their detail serializers give the same properties.
"""

from django.db.models import OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cables import selectors
from cables.models import (
    CableProject,
    CableSegment,
    CivilWorksNotice,
    CivilWorksRegistration,
    ProgressPhoto,
    ProgressUpdate,
)
from core.api.fields import (
    CommuneField,
    FeatureSerializer,
    GeoJSONGeometryField,
    OperatorField,
    OrganizationField,
    ScopedCodeField,
    UTCDateTimeField,
)

METRICS = ("duct_built_m", "cable_pulled_m", "overhead_removed_m")


def done_expression(metric):
    """Metres of ``metric`` reported on the segment (``OuterRef("pk")``) by the updates in force
    today: a corrected update no longer counts. One correlated subquery, no query per row."""
    in_force = (
        ProgressUpdate.objects.filter(segment=OuterRef("pk"), corrected_by__isnull=True)
        .order_by()
        .values("segment")
        .annotate(total=Sum(metric))
        .values("total")
    )
    return Coalesce(Subquery(in_force), Value(0.0))


# The list (built by PostgreSQL) and SegmentSerializer give the same properties.
SEGMENT_API_PROPERTIES = {
    **selectors.SEGMENT_PROPERTIES,
    **{metric: done_expression(metric) for metric in METRICS},
}

NOTICE_API_PROPERTIES = {
    "id": "public_id",
    "title": "title",
    "owner": "owner__code",
    "commune": "commune__code",
    "description": "description",
    "effective_from": "effective_from",
    "effective_to": "effective_to",
    "registration_deadline": "registration_deadline",
    "status": "status",
}


class LineStringField(GeoJSONGeometryField):
    geometry_type = "LineString"


@extend_schema_field(
    {
        "type": "string",
        "description": "One of: " + ", ".join(CableProject.Status.values) + ".",
    }
)
class ProjectStatusField(serializers.ChoiceField):
    """The project's status. Documented as a string listing its values: as an enum it would
    collide with other apps' ``status`` enums until settings.ENUM_NAME_OVERRIDES names it."""

    def __init__(self, **kwargs):
        super().__init__(choices=CableProject.Status.choices, **kwargs)


@extend_schema_field(OpenApiTypes.STR)
class ProjectField(ScopedCodeField):
    """A project among those the user may see, given by its code, its public id or its id; shown
    by its code."""

    model = CableProject
    selector = staticmethod(selectors.projects)
    accept_pk = True
    default_error_messages = {
        "does_not_exist": _("Unknown project “{value}”."),
        "invalid": _("Give the project's code or id."),
    }


# --- Projects ------------------------------------------------------------------------------------------


class ProjectTotalsSerializer(serializers.Serializer):
    km_planned = serializers.FloatField()
    km_duct_built = serializers.FloatField()
    km_cable_pulled = serializers.FloatField()
    km_overhead_removed = serializers.FloatField()
    poles_removed = serializers.IntegerField()


class CommuneTotalsSerializer(serializers.Serializer):
    commune = serializers.CharField(help_text=_("Unit code."))
    name = serializers.CharField()
    km_planned = serializers.FloatField()
    km_duct_built = serializers.FloatField()
    km_cable_pulled = serializers.FloatField()
    km_overhead_removed = serializers.FloatField()


class OperatorTotalsSerializer(serializers.Serializer):
    operator = serializers.CharField(help_text=_("Operator code."))
    name = serializers.CharField()
    km_duct_built = serializers.FloatField()
    km_cable_pulled = serializers.FloatField()
    km_overhead_removed = serializers.FloatField()


EMPTY_TOTALS = {
    "km_planned": 0.0,
    "km_duct_built": 0.0,
    "km_cable_pulled": 0.0,
    "km_overhead_removed": 0.0,
    "poles_removed": 0,
}


class ProjectSerializer(serializers.ModelSerializer):
    """An undergrounding project; ``totals`` (km, for today or ``?as_of=``) come with each one."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    lead_agency = OrganizationField(help_text=_("Code of the lead agency or operator."))
    participants = OperatorField(
        many=True, required=False, help_text=_("Codes of the participating operators.")
    )
    status = ProjectStatusField(required=False)
    totals = serializers.SerializerMethodField()
    created_at = UTCDateTimeField(read_only=True)
    updated_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = CableProject
        fields = [
            "id",
            "code",
            "name",
            "lead_agency",
            "participants",
            "programme",
            "year",
            "streets",
            "planned_start",
            "planned_end",
            "budget_source",
            "status",
            "totals",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "code": {"validators": []},  # uniqueness is the service's business
            "programme": {"required": False},
            "streets": {"required": False},
            "budget_source": {"required": False},
        }
        validators = []

    @extend_schema_field(ProjectTotalsSerializer)
    def get_totals(self, obj):
        totals = self.context.get("totals")
        if totals is None:
            totals = selectors.project_totals([obj.pk], self.context.get("as_of"))
        row = totals.get(obj.pk)
        if row is None:
            return dict(EMPTY_TOTALS)
        return {k: row[k] for k in EMPTY_TOTALS}


class ProjectDetailSerializer(ProjectSerializer):
    """A project with its totals per commune (clipped to the boundaries) and per operator."""

    by_commune = serializers.SerializerMethodField()
    by_operator = serializers.SerializerMethodField()

    class Meta(ProjectSerializer.Meta):
        fields = [*ProjectSerializer.Meta.fields, "by_commune", "by_operator"]

    @extend_schema_field(CommuneTotalsSerializer(many=True))
    def get_by_commune(self, obj):
        return selectors.totals_by_commune(self.context.get("as_of"), [obj.pk])

    @extend_schema_field(OperatorTotalsSerializer(many=True))
    def get_by_operator(self, obj):
        return selectors.totals_by_operator(self.context.get("as_of"), [obj.pk])


class AsOfSerializer(serializers.Serializer):
    as_of = serializers.DateField(
        required=False, allow_null=True, help_text=_("Totals on this date (today if left out).")
    )


class TotalsQuerySerializer(AsOfSerializer):
    by = serializers.ChoiceField(choices=[("commune", _("Commune")), ("operator", _("Operator"))])
    project = serializers.CharField(required=False, help_text=_("Only this project (its code)."))


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=_(
            "GeoJSON (LineString features), KML (placemarks) or CSV with a `wkt` column; "
            "properties or columns name, method, operator (code), bores."
        )
    )


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()


# --- Segments ------------------------------------------------------------------------------------------


class SegmentSerializer(FeatureSerializer):
    """A street section as a GeoJSON Feature (``id`` = its public UUID); its length (m) and the
    communes it crosses follow from the route; progress is the metres reported so far."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    project = ProjectField(help_text=_("The project's code, public id or id."))
    project_status = serializers.CharField(source="project.status", read_only=True)
    operator = OperatorField(
        required=False, allow_null=True, help_text=_("Code of the responsible operator.")
    )
    route = LineStringField(help_text=_("GeoJSON LineString in WGS 84 (longitude, latitude)."))
    length_m = serializers.FloatField(read_only=True, help_text=_("Computed from the route."))
    bores = serializers.IntegerField(min_value=1, max_value=200, required=False)
    duct_built_m = serializers.FloatField(read_only=True, help_text=_("Reported so far (m)."))
    cable_pulled_m = serializers.FloatField(read_only=True, help_text=_("Reported so far (m)."))
    overhead_removed_m = serializers.FloatField(read_only=True, help_text=_("Reported so far (m)."))
    updated_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = CableSegment
        geo_field = "route"
        id_field = "id"
        fields = [*SEGMENT_API_PROPERTIES, "updated_at", "route"]


# --- Progress updates ------------------------------------------------------------------------------------


class PhotoSerializer(serializers.ModelSerializer):
    url = serializers.FileField(source="file", read_only=True, use_url=True)

    class Meta:
        model = ProgressPhoto
        fields = ["id", "url", "content_type", "size"]


class ProgressUpdateSerializer(serializers.ModelSerializer):
    """A progress update (read only: updates are appended through a segment's ``progress``)."""

    segment = serializers.UUIDField(source="segment.public_id", read_only=True)
    operator = serializers.SlugRelatedField(slug_field="code", read_only=True)
    corrected_by = serializers.SerializerMethodField()
    photos = PhotoSerializer(many=True, read_only=True)
    created_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = ProgressUpdate
        fields = [
            "id",
            "segment",
            "operator",
            "reported_on",
            *METRICS,
            "poles_removed",
            "note",
            "corrects",
            "corrected_by",
            "photos",
            "created_at",
        ]
        read_only_fields = fields

    def get_corrected_by(self, obj) -> int | None:
        try:
            return obj.corrected_by.pk
        except ProgressUpdate.DoesNotExist:
            return None


class ProgressInputSerializer(serializers.Serializer):
    """A progress report: metres done by kind since the last report (JSON or multipart)."""

    reported_on = serializers.DateField(help_text=_("Date of the work (not in the future)."))
    duct_built_m = serializers.FloatField(required=False, default=0.0)
    cable_pulled_m = serializers.FloatField(required=False, default=0.0)
    overhead_removed_m = serializers.FloatField(required=False, default=0.0)
    poles_removed = serializers.IntegerField(required=False, default=0)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    corrects = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=_("Id of the update of this segment that this one replaces."),
    )
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, help_text=_("JPEG or PNG.")
    )

    def validate_corrects(self, value):
        if value is None:
            return None
        segment = self.context["segment"]
        found = ProgressUpdate.objects.filter(pk=value, segment=segment).first()
        if found is None:
            raise serializers.ValidationError(
                _("No update %(id)s on this segment.") % {"id": value}
            )
        return found


# --- Civil works ------------------------------------------------------------------------------------------


class RegistrationSerializer(serializers.ModelSerializer):
    operator = serializers.SlugRelatedField(slug_field="code", read_only=True)
    created_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = CivilWorksRegistration
        fields = ["id", "operator", "need", "bores", "note", "created_at"]
        read_only_fields = ["id", "operator", "created_at"]
        extra_kwargs = {"note": {"required": False}, "bores": {"required": False}}


class NoticeSerializer(FeatureSerializer):
    """A civil-works notice as a GeoJSON Feature; operators register for joint use until the
    registration deadline."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    owner = OrganizationField(help_text=_("Code of the works owner."))
    commune = CommuneField(help_text=_("Five-digit unit code; left out, found from the route."))
    route = LineStringField(help_text=_("GeoJSON LineString in WGS 84 (longitude, latitude)."))
    status = serializers.CharField(read_only=True)
    updated_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = CivilWorksNotice
        geo_field = "route"
        id_field = "id"
        fields = [*NOTICE_API_PROPERTIES, "updated_at", "route"]
        extra_kwargs = {"description": {"required": False}}


class NoticeDetailSerializer(NoticeSerializer):
    """A notice with the registrations the user may see (its owner and officials see all)."""

    registrations = serializers.SerializerMethodField()

    class Meta(NoticeSerializer.Meta):
        fields = [*NOTICE_API_PROPERTIES, "registrations", "updated_at", "route"]

    @extend_schema_field(RegistrationSerializer(many=True))
    def get_registrations(self, obj):
        request = self.context.get("request")
        rows = (
            selectors.registrations(request.user if request else None)
            .filter(notice=obj)
            .order_by("id")
        )
        return RegistrationSerializer(rows, many=True).data
