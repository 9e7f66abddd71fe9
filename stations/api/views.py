"""The stations API: the register, the public-site catalogue and permit applications.

Reads come from stations.selectors (scoped to the user: another operator's record is a 404), writes
go through stations.services (permission, state and business rules; their domain errors become
400/403/409 in core.api.exceptions). Lists of stations and sites are GeoJSON pages written by
PostgreSQL (core.api.geojson); writes are guarded with ETag / If-Match (core.api.mixins).
"""

from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.geojson import UUID_PATTERN, GeoJSONListMixin, api_filterset
from core.api.mixins import (
    IF_MATCH,
    CaseViewSet,
    FeatureViewSet,
    FeatureWriteMixin,
    Step,
)
from core.api.parsers import SafeFormParser, SafeMultiPartParser
from core.permissions import is_city_official
from stations import filters, selectors, services
from stations.api.serializers import (
    SITE_PROPERTIES,
    STATION_PROPERTIES,
    ApplicationDetailSerializer,
    ApplicationSerializer,
    ApproveSerializer,
    DecisionNoteSerializer,
    DocumentSerializer,
    DocumentUploadSerializer,
    EventSerializer,
    MessageSerializer,
    NoteSerializer,
    PublicSiteSerializer,
    RejectSerializer,
    StationSerializer,
    SubmitSerializer,
)
from stations.models import Technology
from stations.workflows import PERMIT
from sync.api.mixin import SyncWriteMixin
from sync.api.schema import sync_write_schema

# --- Stations ------------------------------------------------------------------------------------------

STATION_EXAMPLE = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [105.8345, 21.036]},
    "properties": {
        "name": "Trạm Ba Đình 01",
        "operator": "VIETTEL",
        "code": "HN-BD-0001",
        "structure_type": "monopole",
        "structure_height_m": 30,
        "land_category": "public_land",
        "technologies": ["4G", "5G"],
        "status": "operating",
    },
}
SITE_EXAMPLE = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [105.8345, 21.036]},
    "properties": {
        "name": "Trụ sở UBND phường Ba Đình",
        "owner": "UBND_HN",
        "address": "Phường Ba Đình",
        "land_category": "public_building",
        "building_height_m": 24,
        "capacity": 2,
    },
}


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "technology",
                OpenApiTypes.STR,
                many=True,
                enum=Technology.values,
                explode=True,
                description=_("Any of these technologies (repeat the parameter)."),
            ),
            OpenApiParameter(
                "operator",
                OpenApiTypes.STR,
                many=True,
                explode=True,
                description=_("Operator code(s), e.g. VIETTEL (repeat the parameter)."),
            ),
        ],
        summary=_("Stations (GeoJSON page)"),
        description=_(
            "A FeatureCollection page of stations, filtered like the station list page; follow "
            "`next` until it is null. An operator sees only its own stations."
        ),
    ),
    retrieve=extend_schema(summary=_("One station (GeoJSON Feature)")),
    create=extend_schema(
        summary=_("Register a station"),
        description=_(
            "Send a GeoJSON Feature (geometry + properties) or plain JSON with `location` as a "
            "GeoJSON Point. `operator` and `commune` are codes; without `commune` it is found "
            "from the point."
        ),
    ),
    update=extend_schema(summary=_("Replace a station's data"), parameters=[IF_MATCH]),
    partial_update=extend_schema(
        summary=_("Change some of a station's data"), parameters=[IF_MATCH]
    ),
    **sync_write_schema(
        StationSerializer,
        summaries={
            "destroy": _("Delete a station"),
            "get": _("One station by its source and id"),
            "put": _("Create or update a station by its source and id (upsert)"),
            "delete": _("Delete a station by its source and id"),
            "bulk": _("Create or update up to 1,000 stations (bulk upsert)"),
        },
        example=STATION_EXAMPLE,
    ),
)
class StationViewSet(SyncWriteMixin, FeatureViewSet):
    """The base-station register: also delete, upsert by source and bulk (sync.api.mixin)."""

    serializer_class = StationSerializer
    filterset_class = api_filterset(filters.StationFilter)
    geojson_properties = STATION_PROPERTIES
    sync_resource = "stations"

    def get_queryset(self):
        return selectors.stations(self.request.user)

    def may_write(self, user, instance):
        return services.can_edit_station(user, instance.operator_id)

    def perform_save(self, data, instance=None):
        if instance is None:
            return services.create_station(self.request.user, **data)
        return services.update_station(self.request.user, instance, **data)


# --- Public sites ----------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("Public sites (GeoJSON page)"),
        description=_("The public land, buildings and places the city offers for stations."),
    ),
    retrieve=extend_schema(summary=_("One public site (GeoJSON Feature)")),
    create=extend_schema(summary=_("Add a public site (city officials)")),
    update=extend_schema(
        summary=_("Replace a public site's data (city officials)"), parameters=[IF_MATCH]
    ),
    partial_update=extend_schema(
        summary=_("Change some of a public site's data (city officials)"), parameters=[IF_MATCH]
    ),
    **sync_write_schema(
        PublicSiteSerializer,
        summaries={
            "destroy": _("Withdraw a public site (city officials)"),
            "get": _("One public site by its source and id"),
            "put": _("Create or update a public site by its source and id (city officials)"),
            "delete": _("Withdraw a public site by its source and id (city officials)"),
            "bulk": _("Create or update up to 1,000 public sites (city officials)"),
        },
        example=SITE_EXAMPLE,
    ),
)
class PublicSiteViewSet(
    SyncWriteMixin,
    GeoJSONListMixin,
    FeatureWriteMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The public-site catalogue."""

    serializer_class = PublicSiteSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.PublicSiteFilter
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATTERN
    cursor_ordering = "id"
    geojson_properties = SITE_PROPERTIES
    sync_resource = "public-sites"

    def get_queryset(self):
        return selectors.public_sites(self.request.user)

    def may_write(self, user, instance):
        return is_city_official(user)

    def perform_save(self, data, instance=None):
        return services.save_public_site(self.request.user, instance, **data)


# --- Permit applications -----------------------------------------------------------------------------------

DETAIL = ApplicationDetailSerializer
ERRORS = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description=_("Field errors.")),
    403: OpenApiResponse(OpenApiTypes.OBJECT, description=_("Not your step.")),
    404: OpenApiResponse(OpenApiTypes.OBJECT, description=_("No such application for you.")),
    409: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description=_("Not possible in this status, already decided, or a stale version."),
    ),
}


@extend_schema_view(
    list=extend_schema(
        summary=_("Permit applications"),
        description=_("Newest first; an operator sees only its own. `?number=` finds one."),
    ),
    retrieve=extend_schema(
        summary=_("One application with its documents, checklist and timeline"),
        responses=DETAIL,
    ),
    create=extend_schema(
        summary=_("Start a draft application (operators)"), responses={201: DETAIL, **ERRORS}
    ),
    update=extend_schema(summary=_("Edit a draft"), responses={200: DETAIL, **ERRORS}),
    partial_update=extend_schema(
        summary=_("Edit part of a draft"), responses={200: DETAIL, **ERRORS}
    ),
)
class PermitApplicationViewSet(mixins.UpdateModelMixin, CaseViewSet):
    """Permit applications and their workflow: each step is a POST action on the application."""

    serializer_class = ApplicationSerializer
    filterset_class = api_filterset(filters.PermitApplicationFilter)
    detail_serializer_class = DETAIL

    def get_queryset(self):
        if self.action == "list":  # as the page lists them: officials do not list drafts
            return selectors.application_list(self.request.user)
        return selectors.applications(self.request.user)

    def detail_object(self, pk):
        return selectors.application_detail(self.request.user, pk)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        application = services.save_draft(request.user, **serializer.validated_data)
        return self.detail_response(application.pk, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        application = self.get_object()
        serializer = self.get_serializer(application, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "location" in data and "commune" not in data:
            data["commune"] = None
        services.save_draft(request.user, application, **data)
        return self.detail_response(application.pk)

    workflow = PERMIT
    step_errors = ERRORS
    steps = {
        "submit": Step(
            SubmitSerializer,
            _("Submit a draft (applicant)"),
            "Numbers the application, runs the co-location check and starts the clock. When "
            "other operators' structures stand within the radius, `sharing_justification` is "
            "required.",
        ),
        "resubmit": Step(NoteSerializer, _("Resubmit after a return (applicant)")),
        "withdraw": Step(NoteSerializer, _("Withdraw (applicant)")),
        "return": Step(
            DecisionNoteSerializer,
            _("Return for supplement (officials)"),
            "`note` says what is missing; the clock stops until the applicant resubmits.",
        ),
        "accept": Step(DecisionNoteSerializer, _("Accept as complete (officials)")),
        "approve": Step(
            ApproveSerializer,
            _("Approve (officials)"),
            "Creates or updates the station (status permitted) and occupies the public site.",
        ),
        "reject": Step(RejectSerializer, _("Reject with reasons (officials)")),
    }

    @extend_schema(
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: DocumentSerializer, **ERRORS},
        summary=_("Upload a document (applicant)"),
    )
    @action(detail=True, methods=["post"], parser_classes=[SafeMultiPartParser, SafeFormParser])
    def documents(self, request, pk=None):
        """A PDF, JPEG or PNG, checked by its content (a JPEG named .pdf is refused)."""
        application = self.get_object()
        serializer = DocumentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        document = services.upload_document(
            request.user,
            application,
            serializer.validated_data["document_type"],
            serializer.validated_data["file"],
        )
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=MessageSerializer,
        responses={201: EventSerializer, **ERRORS},
        summary=_("Write to the other side"),
    )
    @action(detail=True, methods=["post"])
    def messages(self, request, pk=None):
        application = self.get_object()
        serializer = MessageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = services.post_message(request.user, application, serializer.validated_data["text"])
        return Response(EventSerializer(event).data, status=status.HTTP_201_CREATED)
