"""Serializers of the sharing API.

They check types only (codes and public ids that exist, GeoJSON, choices, numbers); the business rules
(inside Vietnam, a point for a tower and a line for a duct, free capacity, who may do what, which
status change) live in sharing.services, which every write goes through.

The asset list is written by PostgreSQL (``ASSET_API_PROPERTIES`` and core.geojson); AssetSerializer
gives the same properties, so an asset looks the same in a list page and on its own.
"""

import uuid

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.api.fields import (
    CodeField,
    CommuneField,
    FeatureSerializer,
    GeoJSONGeometryField,
    OperatorField,
    OrganizationField,
    PointGeometryField,
    UTCDateTimeField,
)
from sharing import selectors, services
from sharing.models import (
    CONTRACT_NUMBER_MAX_LENGTH,
    LOCATION_MAX_LENGTH,
    AssetKind,
    InfrastructureAsset,
    RequestDocument,
    SharingEvent,
    SharingRequest,
    Tenancy,
)

# --- Fields ------------------------------------------------------------------------------------------


class AssetField(CodeField):
    """An asset given and shown by its public id, among the assets the user may see."""

    default_error_messages = {"does_not_exist": _("Unknown asset “{value}”.")}

    def __init__(self, **kwargs):
        super().__init__(
            queryset=InfrastructureAsset.objects.none(), slug_field="public_id", **kwargs
        )

    def get_queryset(self):
        request = self.context.get("request")
        return selectors.assets(request.user if request else None)

    def to_internal_value(self, data):
        try:
            uuid.UUID(str(data))
        except ValueError:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)


class AssetGeometryField(GeoJSONGeometryField):
    """A Point, or a LineString for a duct route: which one fits the kind is checked by the service."""

    geometry_type = ("Point", "LineString")


# --- Assets ------------------------------------------------------------------------------------------

# The list (built by PostgreSQL) and AssetSerializer give the same properties.
ASSET_API_PROPERTIES = {
    **selectors.ASSET_PROPERTIES,
    "address": "address",
    "source": "source",
    "external_id": "external_id",
}


class AssetSerializer(FeatureSerializer):
    """An infrastructure asset as a GeoJSON Feature (``id`` = its public UUID)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    kind = serializers.ChoiceField(choices=AssetKind.choices)
    owner = OrganizationField(
        help_text=_("Code of the owning organisation (an operator, EVN_HANOI, UBND_HN …).")
    )
    commune = CommuneField(
        help_text=_("Five-digit unit code; left out, it is found from the geometry.")
    )
    geometry = AssetGeometryField(
        help_text=_("GeoJSON Point in WGS 84; a LineString for a duct route.")
    )
    capacity = serializers.IntegerField(
        min_value=1, max_value=10_000, help_text=_("Antenna slots, bores, positions …")
    )
    used_capacity = serializers.IntegerField(
        read_only=True, help_text=_("Taken by active tenancies.")
    )
    free_capacity = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(choices=InfrastructureAsset.Status.choices, required=False)
    condition = serializers.ChoiceField(
        choices=InfrastructureAsset.Condition.choices, required=False
    )
    shareable = serializers.BooleanField(required=False)
    length_m = serializers.FloatField(
        read_only=True, allow_null=True, help_text=_("Length of a route, in metres.")
    )
    updated_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = InfrastructureAsset
        geo_field = "geometry"
        id_field = "id"
        fields = list(ASSET_API_PROPERTIES) + ["geometry"]
        extra_kwargs = {
            "address": {"required": False},
            "source": {"required": False},
            "external_id": {"required": False},
        }
        validators = []  # (owner, code) and (source, external_id) are checked by the service


# --- Tenancies -----------------------------------------------------------------------------------------


class TenancySerializer(serializers.ModelSerializer):
    """An operator's use of an asset."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    asset = AssetField(help_text=_("Public id of the asset."))
    asset_code = serializers.CharField(source="asset.code", read_only=True)
    owner = serializers.CharField(source="asset.owner.code", read_only=True)
    operator = OperatorField(help_text=_("Code of the operator using the asset."))
    units = serializers.IntegerField(min_value=1, max_value=10_000)
    since = serializers.DateField(required=False, help_text=_("Today if left out."))
    sharing_request = serializers.PrimaryKeyRelatedField(
        source="request", read_only=True, help_text=_("The sharing request that created it.")
    )

    class Meta:
        model = Tenancy
        fields = [
            "id",
            "asset",
            "asset_code",
            "owner",
            "operator",
            "units",
            "occupies",
            "since",
            "until",
            "terms_reference",
            "status",
            "sharing_request",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["until", "status", "created_at", "updated_at"]
        extra_kwargs = {"occupies": {"required": False}, "terms_reference": {"required": False}}


class EndTenancySerializer(serializers.Serializer):
    until = serializers.DateField(required=False, help_text=_("Today if left out."))


class RequestTenancySerializer(serializers.ModelSerializer):
    """A tenancy inside its request (asset and operator are the request's)."""

    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Tenancy
        fields = ["id", "units", "occupies", "since", "until", "terms_reference", "status"]


# --- Sharing requests ------------------------------------------------------------------------------------


class SharingRequestSerializer(serializers.ModelSerializer):
    """A sharing request (plain JSON; ``point`` is a GeoJSON Point).

    Ask for one asset (``asset``), or for anything of ``owner``'s within ``radius_m`` of ``point``.
    """

    requester = serializers.SlugRelatedField(slug_field="code", read_only=True)
    owner = OrganizationField(
        required=False,
        help_text=_("Code of the owner asked, for an area request; left out with an asset."),
    )
    asset = AssetField(
        required=False, allow_null=True, help_text=_("Public id of the asset asked for.")
    )
    point = PointGeometryField(
        required=False, allow_null=True, help_text=_("GeoJSON Point, for an area request.")
    )
    radius_m = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=5000
    )
    units = serializers.IntegerField(min_value=1, max_value=10_000)
    needs = serializers.CharField(allow_blank=True, help_text=_("What is needed."))
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = SharingRequest
        fields = [
            "id",
            "number",
            "status",
            "version",
            "requester",
            "owner",
            "asset",
            "point",
            "radius_m",
            "units",
            "needs",
            "submitted_on",
            "response_due",
            "overdue",
            "counter_units",
            "counter_location",
            "counter_contract_number",
            "counter_start_date",
            "counter_end_date",
            "counter_terms",
            "refusal_reason",
            "outcome",
            "decision_number",
            "decision_text",
            "decided_at",
            "allowed_actions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "number",
            "status",
            "version",
            "submitted_on",
            "response_due",
            "overdue",
            "counter_units",
            "counter_location",
            "counter_contract_number",
            "counter_start_date",
            "counter_end_date",
            "counter_terms",
            "refusal_reason",
            "outcome",
            "decision_number",
            "decision_text",
            "decided_at",
            "created_at",
            "updated_at",
        ]

    def get_allowed_actions(self, obj) -> list[str]:
        request = self.context.get("request")
        return services.allowed_actions(request.user if request else None, obj)


class RequestDocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = RequestDocument
        fields = ["id", "original_name", "content_type", "size", "uploaded_at"]


class SharingEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = SharingEvent
        fields = ["id", "kind", "from_status", "to_status", "actor", "note", "created_at"]

    def get_actor(self, obj) -> str | None:
        if obj.actor_id is None:
            return None
        return obj.actor.get_full_name() or obj.actor.username


class SharingRequestDetailSerializer(SharingRequestSerializer):
    """One request with its timeline (messages included), documents and tenancies."""

    timeline = SharingEventSerializer(many=True, read_only=True)
    documents = RequestDocumentSerializer(many=True, read_only=True)
    tenancies = RequestTenancySerializer(many=True, read_only=True)

    class Meta(SharingRequestSerializer.Meta):
        fields = [*SharingRequestSerializer.Meta.fields, "timeline", "documents", "tenancies"]


# --- Sharing request actions (input only) ----------------------------------------------------------------

VERSION_HELP = _(
    "The request's version as you last read it: if someone changed it since, the answer is 409."
)


class SharingVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)


class SharingNoteSerializer(SharingVersionSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class TenancyTermsSerializer(SharingVersionSerializer):
    """The terms of the tenancy the owner grants (accept) or offers (counter-offer), all optional
    (checked by sharing.services.clean_terms: field errors, 400)."""

    location = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=LOCATION_MAX_LENGTH,
        help_text=_(
            "Where on the asset, e.g. “Tầng ăng-ten 2, hướng Đông”: the tenancy's `occupies`."
        ),
    )
    contract_number = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=CONTRACT_NUMBER_MAX_LENGTH,
        help_text=_(
            "The tenancy's `terms_reference`; left out or empty, the request number (CS-…)."
        ),
    )
    start_date = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_(
            "The tenancy's `since`; left out: today (accept), the day the requester accepts "
            "(counter-offer)."
        ),
    )
    end_date = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("The tenancy's `until`; not before the start date. Left out: open-ended."),
    )


class SharingAcceptSerializer(TenancyTermsSerializer):
    """The tenancy is created on the terms stated here. A client that sends none gets what it
    always got: no location, the request number as the contract number, a start today, no end.
    The end may not be before the start; dates lie within 1900–2100."""

    note = serializers.CharField(required=False, allow_blank=True, default="")
    terms = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=CONTRACT_NUMBER_MAX_LENGTH,
        help_text=_("Deprecated: the older name of `contract_number`."),
    )
    asset = AssetField(
        required=False,
        allow_null=True,
        help_text=_("For an area request: public id of the owner's asset the requester may use."),
    )


class SharingRefuseSerializer(SharingVersionSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class SharingCounterSerializer(TenancyTermsSerializer):
    """The capacity and the tenancy's terms offered, kept on the request as `counter_*`: accepting
    the counter-offer grants exactly them. The end may not be before the start (or, with no start,
    before today); dates lie within 1900–2100."""

    units = serializers.IntegerField(min_value=1, max_value=10_000, help_text=_("Units offered."))
    terms = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "A free-text note to the requester (price, conditions), kept as `counter_terms`; it "
            "never becomes a tenancy field."
        ),
    )
    asset = AssetField(
        required=False,
        allow_null=True,
        help_text=_("For an area request: public id of the asset offered."),
    )


class SharingDecideSerializer(SharingVersionSerializer):
    outcome = serializers.ChoiceField(choices=SharingRequest.Outcome.choices)
    decision_number = serializers.CharField(max_length=100, allow_blank=True)
    text = serializers.CharField(required=False, allow_blank=True, default="")
    units = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=10_000,
        help_text=_("Units the owner must lease; the requested units if left out."),
    )
    asset = AssetField(
        required=False,
        allow_null=True,
        help_text=_("For an area request: public id of the asset to share."),
    )


class RequestDocumentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("PDF, JPEG or PNG (checked by content)."))


class SharingMessageSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)
