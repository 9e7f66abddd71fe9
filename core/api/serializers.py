from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from core.models import AdministrativeUnit, Organization


class OrganizationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    successor = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    current = serializers.SerializerMethodField(
        help_text=_("Code of the organisation that carries this one's duties today.")
    )

    class Meta:
        model = Organization
        fields = [
            "id",
            "code",
            "kind",
            "name",
            "short_name",
            "name_en",
            "parent",
            "successor",
            "current",
            "effective_from",
            "effective_to",
            "updated_at",
        ]

    def get_current(self, obj) -> str:
        return obj.current.code


UNIT_FIELDS = (
    "id",
    "code",
    "name",
    "short_name",
    "name_en",
    "kind",
    "province_code",
    "area_km2",
    "effective_from",
    "effective_to",
    "updated_at",
)


class AdministrativeUnitSerializer(GeoFeatureModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = AdministrativeUnit
        geo_field = "boundary"
        id_field = "code"
        fields = list(UNIT_FIELDS)


class AdministrativeUnitSummarySerializer(AdministrativeUnitSerializer):
    """The same features without their boundary (``geometry: null``)."""

    class Meta(AdministrativeUnitSerializer.Meta):
        geo_field = None
        fields = list(
            UNIT_FIELDS
        )  # rest_framework_gis appends the geo field to Meta.fields in place


class UnitRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = AdministrativeUnit
        fields = ["code", "name", "kind"]


class UnitMatchSerializer(serializers.Serializer):
    unit = UnitRefSerializer()
    via = serializers.ChoiceField(choices=["current", "legacy"])
    legacy_unit = serializers.SerializerMethodField()
    whole = serializers.BooleanField()

    def get_legacy_unit(self, obj) -> dict | None:
        if obj.legacy_unit is None:
            return None
        lu = obj.legacy_unit
        return {"code": lu.code, "name": lu.name, "district": lu.district}


class ResolvedAddressSerializer(serializers.Serializer):
    address = serializers.CharField(help_text=_("The address as asked (trimmed)."))
    matches = UnitMatchSerializer(many=True, help_text=_("Today's units it may be; empty if none."))


class SearchHitSerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    detail = serializers.CharField()
    url = serializers.CharField(help_text="The record's page in the portal")


class SearchGroupSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    more = serializers.BooleanField()
    results = SearchHitSerializer(many=True)


class SearchResultSerializer(serializers.Serializer):
    """The search's answer (documentation: the view builds it)."""

    q = serializers.CharField()
    groups = SearchGroupSerializer(many=True)
