from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core import selectors, services
from core.api.serializers import (
    AdministrativeUnitSerializer,
    AdministrativeUnitSummarySerializer,
    OrganizationSerializer,
    ResolvedAddressSerializer,
    SearchResultSerializer,
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


class SearchView(APIView):
    """The portal's search box over the API: every register the caller may see, by kind."""

    @extend_schema(
        summary=gettext_lazy("Search every register"),
        description=gettext_lazy(
            "Stations, public sites, applications, assets, sharing requests, cable projects, "
            "spam cases (by sender), agreements and units whose code, name, number or address "
            "holds every word of `q` (accents and case do not count), among the records the "
            "caller may see, at most 10 a kind (`more` says there are others)."
        ),
        parameters=[OpenApiParameter("q", str, required=True, description=gettext_lazy("Words"))],
        responses={200: SearchResultSerializer, 400: OpenApiResponse(description="no `q`")},
    )
    def get(self, request):
        from core.search import MAX_QUERY, search

        query = request.query_params.get("q", "")
        if not query.strip():
            raise ValidationError({"q": [_("Type what to search for.")]})
        if len(query) > MAX_QUERY:
            raise ValidationError({"q": [_("At most %(n)d characters.") % {"n": MAX_QUERY}]})
        return Response({"q": query, "groups": search(request.user, query, request=request)})
