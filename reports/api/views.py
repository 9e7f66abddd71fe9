"""The reports API: report definitions (administrators edit them) and their runs (officials ask for
one, watch its progress, approve and submit it; the recipient agency's API client downloads what was
submitted to it).

Reads come from reports.selectors (officials see every report; the recipient agency sees only the
runs submitted to it; operators see nothing), writes go through reports.services (permission, state
and the rules of sections and periods; their domain errors become 400/403/409 in
core.api.exceptions). A run is computed by the Celery worker: asking for it answers 202 at once, and
asking again for the same report and period returns the same run.
"""

import django_filters
from django.http import FileResponse, Http404
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from core.api.geojson import UUID_PATTERN
from core.api.mixins import IF_MATCH, RecordViewSet
from core.exceptions import PermissionDenied
from core.models import Organization
from reports import selectors, services
from reports.api.serializers import (
    NewReportRunSerializer,
    ReportDefinitionSerializer,
    ReportRunDetailSerializer,
    ReportRunSerializer,
    RunStepSerializer,
)
from reports.models import PeriodType, ReportDefinition, ReportRun

ERRORS = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description=_("Field errors.")),
    403: OpenApiResponse(OpenApiTypes.OBJECT, description=_("Not allowed for you.")),
    404: OpenApiResponse(OpenApiTypes.OBJECT, description=_("No such report for you.")),
}
CONFLICT = OpenApiResponse(
    OpenApiTypes.OBJECT, description=_("Not allowed in the run's current status.")
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"


# --- Filters ------------------------------------------------------------------------------------------


class DefinitionFilter(django_filters.FilterSet):
    recipient = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.filter(kind=Organization.Kind.AGENCY),
        to_field_name="code",
        label=_("Recipient agency (code)"),
    )
    period_type = django_filters.ChoiceFilter(choices=PeriodType.choices, label=_("Period"))
    active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = ReportDefinition
        fields = ["recipient", "period_type", "active"]


class RunFilter(django_filters.FilterSet):
    definition = django_filters.CharFilter(
        field_name="definition__code", label=_("Report (its code)")
    )
    status = django_filters.MultipleChoiceFilter(
        choices=ReportRun.Status.choices, label=_("Status")
    )
    period = django_filters.CharFilter(
        field_name="period_key", label=_("Period (e.g. 2026-11, 2026-Q4, 2026-H2, 2026)")
    )

    class Meta:
        model = ReportRun
        fields = ["definition", "status", "period"]


# --- Definitions ----------------------------------------------------------------------------------------


def _administrators_only(user):
    if not services.can_administer(user):
        raise PermissionDenied()


@extend_schema_view(
    list=extend_schema(
        summary=_("Report definitions"),
        description=_(
            "The periodic reports the portal computes: officials see all of them, an agency the "
            "ones addressed to it."
        ),
    ),
    retrieve=extend_schema(summary=_("One report definition")),
    create=extend_schema(
        summary=_("Create a report definition (administrators)"),
        description=_(
            "Each section names registered indicators and, optionally, a breakdown (`by`) that "
            "every one of them offers; an unknown indicator or breakdown is a 400 naming it."
        ),
        responses={201: ReportDefinitionSerializer, **ERRORS},
    ),
    update=extend_schema(
        summary=_("Replace a report definition (administrators)"),
        parameters=[IF_MATCH],
        responses={200: ReportDefinitionSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary=_("Change some of a report definition (administrators)"),
        parameters=[IF_MATCH],
        responses={200: ReportDefinitionSerializer, **ERRORS},
    ),
)
class ReportDefinitionViewSet(RecordViewSet):
    serializer_class = ReportDefinitionSerializer
    filterset_class = DefinitionFilter
    cursor_ordering = "code"

    def get_queryset(self):
        return selectors.definitions(self.request.user)

    def create(self, request, *args, **kwargs):
        _administrators_only(request.user)  # 403 before any field error
        return super().create(request, *args, **kwargs)

    def update(self, request, *args, **kwargs):
        self.get_object()  # 404 for a report the user does not see
        _administrators_only(request.user)
        return super().update(request, *args, **kwargs)

    def perform_save(self, data, instance=None):
        return services.save_definition(self.request.user, instance, **data)


# --- Runs ---------------------------------------------------------------------------------------------------


class FileRenderer(BaseRenderer):
    """Lets a client ask for the file's own media type; an error still comes as JSON text."""

    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return JSONRenderer().render(data)


class XLSXRenderer(FileRenderer):
    media_type = XLSX
    format = "xlsx"


class PDFRenderer(FileRenderer):
    media_type = PDF
    format = "pdf"


def _download(kind, media_type):
    return extend_schema(
        summary=_("Download the report as %(kind)s") % {"kind": kind.upper()},
        responses={
            (200, media_type): OpenApiResponse(OpenApiTypes.BINARY),
            404: OpenApiResponse(
                OpenApiTypes.OBJECT, description=_("No such report for you, or not computed yet.")
            ),
        },
    )


@extend_schema_view(
    list=extend_schema(
        summary=_("Report runs"),
        description=_(
            "Each report's runs, newest first (without their values: read a run for them). "
            "Officials see every run; an agency sees the runs submitted to it; operators none."
        ),
    ),
    retrieve=extend_schema(
        summary=_("One report run with its values"),
        responses={200: ReportRunDetailSerializer, 404: ERRORS[404]},
    ),
)
class ReportRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ReportRunSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = RunFilter
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATTERN
    cursor_ordering = "-id"

    def get_queryset(self):
        queryset = selectors.runs(self.request.user)
        if self.action == "list":
            queryset = queryset.defer("snapshot")
        return queryset

    def get_serializer_class(self):
        if self.action == "list":
            return ReportRunSerializer
        return ReportRunDetailSerializer

    def respond(self, run, status_code=status.HTTP_200_OK):
        run = self.get_queryset().get(pk=run.pk)
        return Response(
            ReportRunDetailSerializer(run, context=self.get_serializer_context()).data,
            status=status_code,
        )

    @extend_schema(
        summary=_("Ask for a report's run for a period (officials)"),
        description=_(
            "Queues the run on the worker and answers 202 with it; follow its `status` and "
            "`progress`. There is one run per report and period: asking again returns the same "
            "run (200 once it is computed), and asking for a failed run queues it again. A period "
            "whose data cut-off has not passed is refused (400)."
        ),
        request=NewReportRunSerializer,
        responses={
            202: ReportRunDetailSerializer,
            200: ReportRunDetailSerializer,
            400: ERRORS[400],
            403: ERRORS[403],
        },
    )
    def create(self, request, *args, **kwargs):
        if not services.is_report_official(request.user):
            raise PermissionDenied()
        serializer = NewReportRunSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        run = services.request_run(request.user, data["definition"], data["period"])
        return self.respond(run, status.HTTP_200_OK if run.finished else status.HTTP_202_ACCEPTED)

    def step(self, request, move, status_code=status.HTTP_200_OK):
        """One of the run's moves (reports.workflows.REPORT_RUN), with the body's ``version`` when
        it names one (409 when stale)."""
        run = self.get_object()
        serializer = RunStepSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = serializer.validated_data.get("version")
        return self.respond(move(request.user, run, expected_version=version), status_code)

    @extend_schema(
        request=RunStepSerializer,
        responses={200: ReportRunDetailSerializer, **ERRORS, 409: CONFLICT},
        summary=_("Approve a run ready for review (officials)"),
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, public_id=None):
        return self.step(request, services.approve)

    @extend_schema(
        request=RunStepSerializer,
        responses={200: ReportRunDetailSerializer, **ERRORS, 409: CONFLICT},
        summary=_("Submit an approved run to its recipient agency (officials)"),
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, public_id=None):
        return self.step(request, services.submit)

    @extend_schema(
        request=RunStepSerializer,
        responses={202: ReportRunDetailSerializer, **ERRORS, 409: CONFLICT},
        summary=_("Compute a run again (ready for review or failed; officials)"),
    )
    @action(detail=True, methods=["post"])
    def recompute(self, request, public_id=None):
        return self.step(request, services.recompute, status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=RunStepSerializer,
        responses={202: ReportRunDetailSerializer, **ERRORS, 409: CONFLICT},
        summary=_("Retry a failed run (officials)"),
        description=_(
            "A run that failed (an error, or its worker was lost and the sweeper marked it) is "
            "queued again; any other state answers 409."
        ),
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, public_id=None):
        return self.step(request, services.retry, status.HTTP_202_ACCEPTED)

    def _file(self, kind, media_type):
        run = self.get_object()
        document = getattr(run, kind)
        if not document:
            raise Http404(_("This report has not been computed yet."))
        return FileResponse(
            document.open("rb"),
            as_attachment=True,
            filename=f"{run.definition.code}-{run.period_key}.{kind}",
            content_type=media_type,
        )

    @_download("xlsx", XLSX)
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, XLSXRenderer])
    def xlsx(self, request, public_id=None):
        return self._file("xlsx", XLSX)

    @_download("pdf", PDF)
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PDFRenderer])
    def pdf(self, request, public_id=None):
        return self._file("pdf", PDF)
