"""The cables API: undergrounding projects, their segments (GeoJSON), progress updates, imports,
civil-works notices with joint-use registrations, and kilometre totals.

Reads come from cables.selectors (scoped to the user: a project an operator takes no part in is a
404), writes go through cables.services (permission, state and business rules; their domain errors
become 400/403/409 in core.api.exceptions). The segment and notice lists are GeoJSON pages written by
PostgreSQL (core.api.geojson); updates are guarded with ETag / If-Match (core.api.mixins). Progress
updates are append-only: there is no update or delete, a correction is a new update.
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

from cables import filters, selectors, services
from cables.api.serializers import (
    METRICS,
    NOTICE_API_PROPERTIES,
    SEGMENT_API_PROPERTIES,
    AsOfSerializer,
    CommuneTotalsSerializer,
    ImportResultSerializer,
    ImportSerializer,
    NoticeDetailSerializer,
    NoticeSerializer,
    OperatorTotalsSerializer,
    ProgressInputSerializer,
    ProgressUpdateSerializer,
    ProjectDetailSerializer,
    ProjectSerializer,
    RegistrationSerializer,
    SegmentSerializer,
    TotalsQuerySerializer,
    done_expression,
)
from cables.models import CableProject, ProgressUpdate
from core.api.geojson import GeoJSONKeysetPagination, api_filterset
from core.api.mixins import IF_MATCH, FeatureViewSet, RecordViewSet
from core.api.parsers import SafeFormParser, SafeJSONParser, SafeMultiPartParser
from core.exceptions import PermissionDenied
from core.permissions import acts_for, is_city_official
from core.scoping import sees_everything

ERRORS = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description=_("Field errors.")),
    403: OpenApiResponse(OpenApiTypes.OBJECT, description=_("Not allowed for you.")),
    404: OpenApiResponse(OpenApiTypes.OBJECT, description=_("No such record for you.")),
}
AS_OF = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATE,
    description=_("Totals on this date (YYYY-MM-DD): later updates and corrections are ignored."),
)


def parse_as_of(request):
    serializer = AsOfSerializer(data={"as_of": request.query_params.get("as_of") or None})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data.get("as_of")


# --- Projects ------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("Undergrounding projects"),
        description=_(
            "Projects with their kilometre totals, filtered like the project list page; an "
            "operator sees the projects it leads or takes part in."
        ),
        parameters=[AS_OF],
    ),
    retrieve=extend_schema(
        summary=_("One project with totals per commune and per operator"), parameters=[AS_OF]
    ),
    create=extend_schema(
        summary=_("Create a project (city officials or the lead agency's staff)"),
        responses={201: ProjectSerializer, **ERRORS},
    ),
    update=extend_schema(summary=_("Replace a project's data"), parameters=[IF_MATCH]),
    partial_update=extend_schema(
        summary=_("Change some of a project's data"), parameters=[IF_MATCH]
    ),
)
class ProjectViewSet(RecordViewSet):
    serializer_class = ProjectSerializer
    filterset_class = api_filterset(filters.ProjectFilter)

    def get_queryset(self):
        return selectors.projects(self.request.user)

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ProjectDetailSerializer
        return super().get_serializer_class()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.request is not None and self.request.method == "GET":
            context["as_of"] = parse_as_of(self.request)
        return context

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        context = self.get_serializer_context()
        # One query for the whole page's totals.
        context["totals"] = selectors.project_totals([p.pk for p in page], context.get("as_of"))
        data = self.get_serializer_class()(page, many=True, context=context).data
        return self.get_paginated_response(data)

    def perform_save(self, data, instance=None):
        participants = data.pop("participants", None)
        return services.save_project(self.request.user, instance, participants=participants, **data)

    @extend_schema(
        request={"multipart/form-data": ImportSerializer},
        responses={
            201: ImportResultSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description=_("The file was refused: `errors` lists each row, column and message."),
            ),
            403: ERRORS[403],
            404: ERRORS[404],
        },
        summary=_("Import segments from a file (all or nothing)"),
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="import",
        parser_classes=[SafeMultiPartParser, SafeFormParser],
    )
    def import_segments(self, request, public_id=None):
        """Every row is checked first; any error refuses the whole file and nothing is written."""
        project = self.get_object()
        serializer = ImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.import_segments(request.user, project, serializer.validated_data["file"])
        return Response({"created": result.created}, status=status.HTTP_201_CREATED)


# --- Segments ------------------------------------------------------------------------------------------


class SegmentPagination(GeoJSONKeysetPagination):
    """A bbox page of at most 500 routes stays well under 1 MB."""

    max_page_size = 500


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                many=True,
                enum=CableProject.Status.values,
                explode=True,
                description=_("Projects in any of these statuses (repeat the parameter)."),
            ),
        ],
        summary=_("Cable segments (GeoJSON page)"),
        description=_(
            "A FeatureCollection page of segment routes with the metres reported so far; follow "
            "`next` until it is null. `bbox=minlon,minlat,maxlon,maxlat` limits it to a map box; "
            "`page_size` is at most 500."
        ),
    ),
    retrieve=extend_schema(summary=_("One segment (GeoJSON Feature)")),
    create=extend_schema(
        summary=_("Add a segment (city officials or the lead agency's staff)"),
        description=_(
            "Send a GeoJSON Feature (geometry + properties) or plain JSON with `route` as a "
            "GeoJSON LineString. The length and the communes crossed follow from the route."
        ),
    ),
    update=extend_schema(summary=_("Replace a segment's data"), parameters=[IF_MATCH]),
    partial_update=extend_schema(
        summary=_("Change some of a segment's data"), parameters=[IF_MATCH]
    ),
)
class SegmentViewSet(FeatureViewSet):
    serializer_class = SegmentSerializer
    filterset_class = api_filterset(filters.SegmentFilter)
    pagination_class = SegmentPagination
    geojson_geometry = "route"
    geojson_properties = SEGMENT_API_PROPERTIES

    def get_queryset(self):
        queryset = selectors.segments(self.request.user)
        if self.action != "list":
            queryset = queryset.annotate(**{m: done_expression(m) for m in METRICS})
        return queryset

    def perform_save(self, data, instance=None):
        data.pop("commune", None)  # communes follow from the route
        project = data.pop("project", None) or instance.project
        return services.save_segment(self.request.user, project, instance, **data)

    @extend_schema(
        request={
            "application/json": ProgressInputSerializer,
            "multipart/form-data": ProgressInputSerializer,
        },
        responses={201: ProgressUpdateSerializer, **ERRORS},
        summary=_(
            "Report progress (duct and poles: the segment's responsible operator, a state lead "
            "agency, city officials; cable and overhead: also the participating operators)"
        ),
    )
    @action(
        detail=True,
        methods=["post"],
        parser_classes=[SafeJSONParser, SafeMultiPartParser, SafeFormParser],
    )
    def progress(self, request, public_id=None):
        """Metres done by kind; a correction names the update it replaces (`corrects`). The
        segment's totals may not exceed its length. Duct built and poles removed come from the
        segment's responsible operator alone: another operator's are refused (400, per field)."""
        segment = self.get_object()
        serializer = ProgressInputSerializer(
            data=request.data, context={**self.get_serializer_context(), "segment": segment}
        )
        serializer.is_valid(raise_exception=True)
        update = services.record_progress(request.user, segment, **serializer.validated_data)
        shown = progress_queryset(request.user).get(pk=update.pk)
        return Response(ProgressUpdateSerializer(shown).data, status=status.HTTP_201_CREATED)


# --- Progress updates ------------------------------------------------------------------------------------


def progress_queryset(user):
    return (
        ProgressUpdate.objects.filter(segment__in=selectors.segments(user).values("pk"))
        .select_related("segment", "operator", "corrected_by")
        .prefetch_related("photos")
    )


@extend_schema_view(
    list=extend_schema(
        summary=_("Progress updates"),
        description=_(
            "Append-only: report through a segment's `progress`; a correction is a new update "
            "naming the one it replaces (`corrects`), which then no longer counts."
        ),
    ),
    retrieve=extend_schema(summary=_("One progress update")),
)
class ProgressUpdateViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = ProgressUpdateSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.ProgressFilter
    lookup_value_regex = r"\d+"
    cursor_ordering = "id"

    def get_queryset(self):
        return progress_queryset(self.request.user)


# --- Civil works ---------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("Civil-works notices (GeoJSON page)"),
        description=_(
            "Planned road or utility digs open for joint use; every portal role sees them. "
            "Follow `next` until it is null."
        ),
    ),
    retrieve=extend_schema(
        summary=_("One notice with its registrations"), responses=NoticeDetailSerializer
    ),
    create=extend_schema(summary=_("Announce civil works (the works owner or city officials)")),
    update=extend_schema(summary=_("Replace a notice's data"), parameters=[IF_MATCH]),
    partial_update=extend_schema(
        summary=_("Change some of a notice's data"), parameters=[IF_MATCH]
    ),
)
class NoticeViewSet(FeatureViewSet):
    serializer_class = NoticeSerializer
    filterset_class = api_filterset(filters.NoticeFilter)
    geojson_geometry = "route"
    geojson_properties = NOTICE_API_PROPERTIES

    def get_queryset(self):
        return selectors.notices(self.request.user)

    def get_serializer_class(self):
        if self.action == "retrieve":
            return NoticeDetailSerializer
        return super().get_serializer_class()

    def perform_save(self, data, instance=None):
        user = self.request.user
        if instance is not None and not (
            is_city_official(user) or acts_for(user, instance.owner_id)
        ):
            raise PermissionDenied()  # only the current owner may change (or hand over) a notice
        return services.save_notice(user, instance, **data)

    @extend_schema(
        request=RegistrationSerializer,
        responses={
            201: RegistrationSerializer,
            **ERRORS,
            409: OpenApiResponse(OpenApiTypes.OBJECT, description=_("Registration is closed.")),
        },
        summary=_("Register for joint use (operators' staff)"),
    )
    @action(detail=True, methods=["post"])
    def register(self, request, public_id=None):
        notice = self.get_object()
        serializer = RegistrationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        registration = services.register_joint_use(
            request.user, notice, **serializer.validated_data
        )
        return Response(RegistrationSerializer(registration).data, status=status.HTTP_201_CREATED)


# --- Totals ----------------------------------------------------------------------------------------------


class TotalsViewSet(viewsets.ViewSet):
    """Kilometre totals per commune (clipped to the boundaries) or per reporting operator, for any
    date, over the projects the user may see."""

    pagination_class = None

    @extend_schema(
        parameters=[TotalsQuerySerializer],
        responses={
            200: OpenApiResponse(
                CommuneTotalsSerializer(many=True),
                description=_("Per commune, or per operator (OperatorTotals) with by=operator."),
            ),
            400: ERRORS[400],
        },
        summary=_("Kilometre totals per commune or per operator"),
    )
    def list(self, request):
        serializer = TotalsQuerySerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        projects = selectors.projects(request.user)
        if data.get("project"):
            projects = projects.filter(code=data["project"])
        ids = None
        if data.get("project") or not sees_everything(request.user):
            ids = list(projects.order_by().values_list("pk", flat=True).distinct())
        if data["by"] == "operator":
            rows = selectors.totals_by_operator(data.get("as_of"), ids)
            return Response(OperatorTotalsSerializer(rows, many=True).data)
        rows = selectors.totals_by_commune(data.get("as_of"), ids)
        return Response(CommuneTotalsSerializer(rows, many=True).data)
