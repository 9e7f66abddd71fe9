from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core import selectors, services
from core.api.serializers import (
    AdministrativeUnitSerializer,
    AdministrativeUnitSummarySerializer,
    OrganizationSerializer,
    ResolvedAddressSerializer,
    UnitMatchSerializer,
)
from core.filters import AdministrativeUnitFilter, OrganizationFilter


class OrganizationViewSet(viewsets.ReadOnlyModelViewSet):
    """Agencies and operators, with their dated succession."""

    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilter
    lookup_field = "code"
    cursor_ordering = "code"

    def get_queryset(self):
        return selectors.organizations()


class AdministrativeUnitViewSet(viewsets.ReadOnlyModelViewSet):
    """Hanoi's 126 commune-level units as GeoJSON (boundary included unless ``boundary=false``).

    The set is small and bounded, so the list is one FeatureCollection, not paginated.
    """

    serializer_class = AdministrativeUnitSerializer
    filterset_class = AdministrativeUnitFilter
    lookup_field = "code"
    pagination_class = None
    geojson_actions = ("list",)  # documented as application/geo+json (core.api.schema)

    def with_boundary(self):
        if self.request is None:  # schema generation
            return True
        value = self.request.query_params.get("boundary", "true").lower()
        return value not in ("false", "0", "no")

    def get_queryset(self):
        return selectors.units(with_boundary=self.with_boundary())

    def get_serializer_class(self):
        if self.action in ("list", "retrieve") and not self.with_boundary():
            return AdministrativeUnitSummarySerializer
        return AdministrativeUnitSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "boundary",
                OpenApiTypes.BOOL,
                default=True,
                description="false: features without geometry (much lighter).",
            ),
        ]
    )
    def list(self, request, *args, **kwargs):
        """The filtered units as one FeatureCollection, written by PostgreSQL."""
        queryset = self.filter_queryset(self.get_queryset())
        shape = "full" if self.with_boundary() else None
        return HttpResponse(
            selectors.units_geojson(queryset, shape=shape), content_type="application/geo+json"
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "address",
                OpenApiTypes.STR,
                required=True,
                description="An address, old (with district) or new.",
            ),
        ],
        responses={
            200: ResolvedAddressSerializer,
            400: OpenApiResponse(OpenApiTypes.OBJECT, description=gettext_lazy("Field errors.")),
        },
    )
    @action(detail=False, methods=["get"])
    def resolve(self, request):
        """Resolve an old or new address to today's unit(s) through the 2025 crosswalk."""
        address = request.query_params.get("address", "").strip()
        if not address:
            raise ValidationError({"address": [_("This field is required.")]})
        matches = services.resolve_address(address)
        return Response(
            {"address": address, "matches": UnitMatchSerializer(matches, many=True).data}
        )
