"""The sharing API: the shared-asset register, tenancies and sharing requests between operators.

Reads come from sharing.selectors (the register is open to every portal role; tenancies and requests
are scoped: a third operator's request is a 404), writes go through sharing.services (permission,
state and business rules; the request's steps through its workflow, sharing.workflows.SHARING;
their domain errors become 400/403/409 in core.api.exceptions). The asset
list is a GeoJSON page written by PostgreSQL (core.api.geojson); asset updates are guarded with
ETag / If-Match (core.api.mixins), request steps with the request's ``version``.
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

from core.api.geojson import UUID_PATTERN, api_filterset
from core.api.mixins import IF_MATCH, CaseViewSet, FeatureViewSet, Step
from core.api.parsers import SafeFormParser, SafeMultiPartParser
from sharing import filters, selectors, services
from sharing.api.serializers import (
    ASSET_API_PROPERTIES,
    AssetSerializer,
    EndTenancySerializer,
    RequestDocumentSerializer,
    RequestDocumentUploadSerializer,
    SharingAcceptSerializer,
    SharingCounterSerializer,
    SharingDecideSerializer,
    SharingEventSerializer,
    SharingMessageSerializer,
    SharingNoteSerializer,
    SharingRefuseSerializer,
    SharingRequestDetailSerializer,
    SharingRequestSerializer,
    SharingVersionSerializer,
    TenancySerializer,
)
from sharing.models import AssetKind, InfrastructureAsset
from sharing.workflows import SHARING
from sync.api.mixin import SyncWriteMixin
from sync.api.schema import sync_write_schema

ERRORS = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description=_("Field errors.")),
    403: OpenApiResponse(OpenApiTypes.OBJECT, description=_("Not your step.")),
    404: OpenApiResponse(OpenApiTypes.OBJECT, description=_("No such record for you.")),
    409: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description=_("Not possible in this status, the request is closed, or a stale version."),
    ),
}

# --- Assets ------------------------------------------------------------------------------------------

ASSET_EXAMPLE = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [105.8345, 21.036]},
    "properties": {
        "name": "Cột Ba Đình 01",
        "code": "VT-T-0001",
        "kind": "tower",
        "owner": "VIETTEL",
        "capacity": 4,
    },
}


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "kind",
                OpenApiTypes.STR,
                many=True,
                enum=AssetKind.values,
                explode=True,
                description=_("Any of these kinds (repeat the parameter)."),
            ),
            OpenApiParameter(
                "owner",
                OpenApiTypes.STR,
                many=True,
                explode=True,
                description=_("Owner code(s), e.g. VIETTEL (repeat the parameter)."),
            ),
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                many=True,
                enum=InfrastructureAsset.Status.values,
                explode=True,
                description=_("Any of these statuses (repeat the parameter)."),
            ),
        ],
        summary=_("Infrastructure assets (GeoJSON page)"),
        description=_(
            "A FeatureCollection page of the shared-asset register (towers, poles, duct routes, "
            "manholes, cabinets, equipment rooms); follow `next` until it is null. "
            "`has_free=true&near=lon,lat,metres` finds free capacity near a place."
        ),
    ),
    retrieve=extend_schema(summary=_("One asset (GeoJSON Feature)")),
    create=extend_schema(
        summary=_("Register an asset (its owner's staff or city officials)"),
        description=_(
            "Send a GeoJSON Feature (geometry + properties) or plain JSON with `geometry`: a "
            "Point, or a LineString for a duct route. `owner` and `commune` are codes; without "
            "`commune` it is found from the geometry."
        ),
    ),
    update=extend_schema(summary=_("Replace an asset's data"), parameters=[IF_MATCH]),
    partial_update=extend_schema(
        summary=_("Change some of an asset's data"), parameters=[IF_MATCH]
    ),
    **sync_write_schema(
        AssetSerializer,
        summaries={
            "destroy": _("Delete an asset (its owner or officials)"),
            "get": _("One asset by its source and id"),
            "put": _("Create or update an asset by its source and id (upsert)"),
            "delete": _("Delete an asset by its source and id"),
            "bulk": _("Create or update up to 1,000 assets (bulk upsert)"),
        },
        example=ASSET_EXAMPLE,
    ),
)
class AssetViewSet(SyncWriteMixin, FeatureViewSet):
    """The shared-asset register: every portal role reads it; owners and officials write (also
    delete, upsert by source and bulk: sync.api.mixin)."""

    serializer_class = AssetSerializer
    filterset_class = api_filterset(filters.AssetFilter)
    geojson_geometry = "geometry"
    geojson_properties = ASSET_API_PROPERTIES
    sync_resource = "assets"

    def get_queryset(self):
        return selectors.assets(self.request.user)

    def may_write(self, user, instance):
        return services.can_edit_asset(user, instance.owner_id)

    def perform_save(self, data, instance=None):
        return services.save_asset(self.request.user, instance, **data)


# --- Tenancies ------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("Tenancies"),
        description=_(
            "Who uses which asset. An operator sees the tenancies it holds and those on its own "
            "assets."
        ),
    ),
    retrieve=extend_schema(summary=_("One tenancy")),
    create=extend_schema(
        summary=_("Record a tenancy (the asset's owner or city officials)"),
        description=_("Refused when the asset has not that much free capacity."),
        responses={201: TenancySerializer, **ERRORS},
    ),
)
class TenancyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = TenancySerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = api_filterset(filters.TenancyFilter)
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATTERN
    cursor_ordering = "-id"

    def get_queryset(self):
        return selectors.tenancies(self.request.user)

    def answer(self, tenancy, status_code=status.HTTP_200_OK):
        shown = self.get_queryset().filter(pk=tenancy.pk).first() or tenancy
        return Response(self.get_serializer(shown).data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        tenancy = services.create_tenancy(
            request.user,
            data["asset"],
            data["operator"],
            data["units"],
            since=data.get("since"),
            occupies=data.get("occupies", ""),
            terms_reference=data.get("terms_reference", ""),
        )
        return self.answer(tenancy, status.HTTP_201_CREATED)

    @extend_schema(
        request=EndTenancySerializer,
        responses={200: TenancySerializer, **ERRORS},
        summary=_("End a tenancy (the owner, the tenant or city officials)"),
    )
    @action(detail=True, methods=["post"])
    def end(self, request, public_id=None):
        """Frees the capacity the tenancy used."""
        tenancy = self.get_object()
        serializer = EndTenancySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tenancy = services.end_tenancy(
            request.user, tenancy, until=serializer.validated_data.get("until")
        )
        return self.answer(tenancy)


# --- Sharing requests ----------------------------------------------------------------------------------

DETAIL = SharingRequestDetailSerializer


@extend_schema_view(
    list=extend_schema(
        summary=_("Sharing requests"),
        description=_(
            "Newest first. An operator sees the requests it made and those addressed to it; "
            "officials see all. `?number=` finds one."
        ),
    ),
    retrieve=extend_schema(
        summary=_("One request with its timeline, documents and tenancies"), responses=DETAIL
    ),
    create=extend_schema(
        summary=_("Ask to share (operators)"),
        description=_(
            "Name an asset (`asset`, its public id), or an owner with a point and a radius "
            "(`owner`, `point`, `radius_m`) to ask for anything of theirs near there. The owner "
            "must answer by `response_due` (working days)."
        ),
        responses={201: DETAIL, **ERRORS},
    ),
)
class SharingRequestViewSet(CaseViewSet):
    """Sharing requests and their workflow: each step is a POST action on the request."""

    serializer_class = SharingRequestSerializer
    filterset_class = api_filterset(filters.SharingRequestFilter)
    detail_serializer_class = DETAIL

    def get_queryset(self):
        return selectors.requests(self.request.user)

    def detail_object(self, pk):
        return selectors.request_detail(self.request.user, pk)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        req = services.create_request(
            request.user,
            units=data["units"],
            needs=data["needs"],
            asset=data.get("asset"),
            owner=data.get("owner"),
            point=data.get("point"),
            radius_m=data.get("radius_m"),
        )
        return self.detail_response(req.pk, status.HTTP_201_CREATED)

    workflow = SHARING
    step_errors = ERRORS
    steps = {
        "accept": Step(
            SharingAcceptSerializer,
            _("Accept (owner): the tenancy is created"),
            "The tenancy is created on the terms stated here: `location` (where on the asset), "
            "`contract_number` (the request number if left out), `start_date` (today if left "
            "out), `end_date` (open-ended if left out). For an area request, `asset` names the "
            "owner's asset the requester may use.",
        ),
        "refuse": Step(SharingRefuseSerializer, _("Refuse with a reason (owner)")),
        "counter": Step(
            SharingCounterSerializer,
            _("Counter-offer (owner)"),
            "Offers `units` and the tenancy's terms (`location`, `contract_number`, `start_date` "
            "— left out: the day the requester accepts —, `end_date`), kept on the request as "
            "`counter_*`; `terms` is a free-text note. Accepting the counter-offer grants "
            "exactly these terms.",
        ),
        "accept_counter": Step(
            SharingVersionSerializer,
            _("Accept the counter-offer (requester)"),
            "The tenancy is created on the offered terms: `counter_units`, `counter_location`, "
            "`counter_contract_number` (the request number if empty), `counter_start_date` "
            "(today if empty), `counter_end_date`.",
        ),
        "withdraw": Step(SharingNoteSerializer, _("Withdraw (requester)")),
        "escalate": Step(
            SharingNoteSerializer,
            _("Escalate to the regulator (either party)"),
            "A refusal, or an unanswered request past its deadline, becomes a dispute.",
        ),
        "decide": Step(
            SharingDecideSerializer,
            _("Record the regulator's decision (city officials)"),
            "Binds both parties; `share` creates the tenancy.",
        ),
    }

    @extend_schema(
        request=SharingMessageSerializer,
        responses={201: SharingEventSerializer, **ERRORS},
        summary=_("Write to the other side"),
    )
    @action(detail=True, methods=["post"])
    def messages(self, request, pk=None):
        req = self.get_object()
        serializer = SharingMessageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = services.post_message(request.user, req, serializer.validated_data["text"])
        return Response(SharingEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request={"multipart/form-data": RequestDocumentUploadSerializer},
        responses={201: RequestDocumentSerializer, **ERRORS},
        summary=_("Upload a document (either party)"),
    )
    @action(detail=True, methods=["post"], parser_classes=[SafeMultiPartParser, SafeFormParser])
    def documents(self, request, pk=None):
        """A PDF, JPEG or PNG, checked by its content."""
        req = self.get_object()
        serializer = RequestDocumentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        document = services.upload_document(request.user, req, serializer.validated_data["file"])
        return Response(RequestDocumentSerializer(document).data, status=status.HTTP_201_CREATED)
