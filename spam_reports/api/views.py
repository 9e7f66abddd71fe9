"""The spam_reports API: complaints (with evidence and the 5656 form), cases per offending sender and
their handling steps, operators' assignments, subscriber-information inspections, statistics, bulk
imports and the do-not-call list.

Reads come from spam_reports.selectors (scoped to the user: another operator's case or assignment is
a 404), writes go through spam_reports.services (permission, state and business rules; their domain
errors become 400/403/409 in core.api.exceptions). Lists are keyset pages (no COUNT over the
ten-million-row report table) and read a fixed number of queries whatever their size. A case's
detail carries an ETag; its steps honour If-Match (412 when the case changed since).
"""

from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone
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
from rest_framework.settings import api_settings

from core import imports
from core.api.geojson import UUID_PATTERN, api_filterset
from core.api.mixins import IF_MATCH, PreconditionFailed, RecordViewSet, etag
from core.api.parsers import SafeFormParser, SafeJSONParser, SafeMultiPartParser
from core.exceptions import InvalidInput, PermissionDenied
from core.models import ImportJob, Organization
from core.permissions import is_operator_user
from core.scoping import scope_queryset, sees_everything
from spam_reports import filters, selectors, senders, services
from spam_reports.api.serializers import (
    ActionSerializer,
    AssignSerializer,
    CaseDetailSerializer,
    CaseOperatorSerializer,
    CaseSerializer,
    CaseStatusSerializer,
    DoNotCallInputSerializer,
    DoNotCallResultSerializer,
    DoNotCallSerializer,
    EvidenceUploadSerializer,
    FollowUpInputSerializer,
    ImportJobSerializer,
    ImportUploadSerializer,
    InspectionSerializer,
    MarkReportSerializer,
    ReportDetailSerializer,
    ReportInputSerializer,
    ReportSerializer,
    RespondSerializer,
    StatisticsQuerySerializer,
    StatisticsSerializer,
    VersionSerializer,
)
from spam_reports.models import (
    DoNotCallEntry,
    InspectionFollowUp,
    Origin,
)
from spam_reports.workflows import SPAM_CASE

ERRORS = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description=_("Field errors.")),
    403: OpenApiResponse(OpenApiTypes.OBJECT, description=_("Not allowed for you.")),
    404: OpenApiResponse(OpenApiTypes.OBJECT, description=_("No such record for you.")),
    409: OpenApiResponse(
        OpenApiTypes.OBJECT, description=_("Not possible in the record's present status.")
    ),
}
PRECONDITION = {
    412: OpenApiResponse(
        OpenApiTypes.OBJECT, description=_("The case changed since your If-Match ETag.")
    )
}
IMPORT_KIND = "spam_reports.reports"


# A complaint sent twice at the same moment passes the service's check twice; the unique index
# refuses the second one, which gets the same answer as a later duplicate.
RACED_CONSTRAINTS = {
    "spamreport_fingerprint_uniq": "__all__",
    "spamreport_source_external_id_uniq": "external_id",
}


@contextmanager
def field_errors():
    """A service's errors about the whole input (``__all__``) under DRF's non-field key, and a
    duplicate caught by the database as a field error (not a 500)."""
    try:
        yield
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
        if constraint not in RACED_CONSTRAINTS:
            raise
        field = RACED_CONSTRAINTS[constraint]
        errors = {field: [_("This complaint was already received.")]}
        if field == "__all__":
            errors = {api_settings.NON_FIELD_ERRORS_KEY: errors.pop(field)}
        raise InvalidInput(errors) from exc
    except InvalidInput as exc:
        if "__all__" not in exc.errors:
            raise
        errors = dict(exc.errors)
        errors[api_settings.NON_FIELD_ERRORS_KEY] = errors.pop("__all__")
        raise InvalidInput(errors, message=exc.message) from exc


def check_if_match(request, instance):
    """412 unless If-Match (when sent) names the record's present version."""
    expected = request.headers.get("If-Match", "").strip()
    tags = {tag.strip().removeprefix("W/") for tag in expected.split(",")}
    if expected and expected != "*" and etag(instance) not in tags:
        raise PreconditionFailed()


# --- Reports -------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("Spam reports (keyset pages)"),
        description=_(
            "Newest first; follow `next` until it is null (there is no total count). An operator "
            "sees the reports naming senders on its network and those it filed. `sender` and "
            "`recipient` are read as typed (0912 345 678 finds +84912345678)."
        ),
    ),
    retrieve=extend_schema(
        summary=_("One report with its evidence"), responses=ReportDetailSerializer
    ),
    create=extend_schema(
        summary=_("File a complaint (officials, operators, agencies)"),
        description=_(
            "Either the fields (`channel`, `sender`, `recipient`, `content`, `received_at` …) or a "
            "5656 message (`message` “S <sender> <content>” / “V <sender> <content>”, `reporter`, "
            "`received_at`). Send multipart to attach `evidence` files. The report joins its "
            "sender's open case; the same complaint twice (same channel, sender, recipient, "
            "second and content), or the same `external_id` twice, is refused with 400."
        ),
        request={
            "application/json": ReportInputSerializer,
            "multipart/form-data": ReportInputSerializer,
        },
        responses={201: ReportDetailSerializer, **ERRORS},
    ),
)
class ReportViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ReportSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = api_filterset(filters.ReportFilter)
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATTERN
    cursor_ordering = ("-received_at", "-id")
    parser_classes = [SafeJSONParser, SafeMultiPartParser, SafeFormParser]

    def get_queryset(self):
        queryset = selectors.reports(self.request.user).select_related("reporting_organization")
        if self.action != "list":
            queryset = queryset.prefetch_related("evidence")
        return queryset

    def get_serializer_class(self):
        if self.action == "list":
            return ReportSerializer
        return ReportDetailSerializer

    def shown(self, report, status_code=status.HTTP_200_OK):
        instance = self.get_queryset().filter(pk=report.pk).first() or report
        return Response(ReportDetailSerializer(instance).data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = ReportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        common = {
            "received_at": data["received_at"],
            "recipient_operator": data.get("recipient_operator"),
            "external_id": data.get("external_id", ""),
            "evidence": data.get("evidence", []),
        }
        with field_errors():
            if "message" in data:
                report = services.submit_5656(
                    request.user,
                    reporter=data.get("reporter", ""),
                    message=data["message"],
                    **common,
                )
            else:
                report = services.submit_report(
                    request.user,
                    channel=data["channel"],
                    sender=data["sender"],
                    recipient=data.get("recipient", ""),
                    content=data.get("content", ""),
                    **common,
                )
        return self.shown(report, status.HTTP_201_CREATED)

    @extend_schema(
        request={"multipart/form-data": EvidenceUploadSerializer},
        responses={201: ReportDetailSerializer, **ERRORS},
        summary=_("Attach evidence (whoever filed the report, or officials)"),
    )
    @action(detail=True, methods=["post"], parser_classes=[SafeMultiPartParser, SafeFormParser])
    def evidence(self, request, public_id=None):
        """JPEG, PNG, PDF, MP3 or WAV, checked by content and size; all files or none are kept."""
        report = self.get_object()
        serializer = EvidenceUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.add_evidence(request.user, report, serializer.validated_data["evidence"])
        return self.shown(report, status.HTTP_201_CREATED)

    @extend_schema(
        request=MarkReportSerializer,
        responses={200: ReportDetailSerializer, **ERRORS},
        summary=_("Mark a report verified or invalid (officials)"),
    )
    @action(detail=True, methods=["post"])
    def mark(self, request, public_id=None):
        report = self.get_object()
        serializer = MarkReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.mark_report(request.user, report, data["valid"], data["reason"])
        return self.shown(report)


# --- Cases -----------------------------------------------------------------------------------------

CASE_ORDERINGS = {
    "last_seen_at": ("last_seen_at", "id"),
    "-last_seen_at": ("-last_seen_at", "-id"),
    "report_count": ("report_count", "id"),
    "-report_count": ("-report_count", "-id"),
    "first_seen_at": ("first_seen_at", "id"),
    "-first_seen_at": ("-first_seen_at", "-id"),
    "sender": ("sender", "id"),
    "-sender": ("-sender", "-id"),
}


def _case_step_schema(request, summary):
    return extend_schema(
        request=request,
        responses={200: CaseDetailSerializer, **ERRORS, **PRECONDITION},
        parameters=[IF_MATCH],
        summary=summary,
    )


@extend_schema_view(
    list=extend_schema(
        summary=_("Spam cases (keyset pages)"),
        description=_(
            "One case per offending sender. `ordering` (last_seen_at, report_count, "
            "first_seen_at, sender; prefix - for descending) sets the order of the pages; the "
            "default is the most recently seen first. An operator sees the cases of senders on "
            "its network."
        ),
    ),
    retrieve=extend_schema(
        summary=_("One case with its breakdown, rule flags and assignments"),
        description=_("The answer's ETag is the case's version, for If-Match on its steps."),
    ),
)
class SpamCaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Cases and their handling: each step is a POST action on the case, one transaction each
    (the services lock the case's row). Cases are not created here: reports open them."""

    serializer_class = CaseSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = filters.CaseFilter
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATTERN
    parser_classes = [SafeJSONParser, SafeFormParser, SafeMultiPartParser]

    @property
    def cursor_ordering(self):
        """The keyset order follows ``ordering`` (its first field), the id breaking ties."""
        value = ""
        if self.request is not None:
            value = self.request.query_params.get("ordering", "").split(",")[0].strip()
        return CASE_ORDERINGS.get(value, CASE_ORDERINGS["-last_seen_at"])

    def get_queryset(self):
        return selectors.cases(self.request.user)

    def get_serializer_class(self):
        if self.action == "list":
            return CaseSerializer
        return CaseDetailSerializer

    def answer(self, pk):
        """The case's detail (its assignments scoped to the user) with its ETag."""
        actions = selectors.actions(self.request.user).order_by("-assigned_at", "-id")
        case = (
            self.get_queryset()
            .prefetch_related(Prefetch("actions", queryset=actions))
            .filter(pk=pk)
            .first()
        )
        if case is None:
            raise Http404
        case.breakdown = selectors.case_breakdown(case)
        response = Response(CaseDetailSerializer(case, context=self.get_serializer_context()).data)
        response["ETag"] = etag(case)
        return response

    def retrieve(self, request, *args, **kwargs):
        return self.answer(self.get_object().pk)

    def step(self, serializer_class, call):
        """One step on the case in the request's transaction, its row locked by SPAM_CASE: If-Match
        is honoured (412 when stale) and so is the body's ``version`` (409 when stale); without
        either the step applies to the case as it is now."""
        case = self.get_object()
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        with transaction.atomic():
            current = SPAM_CASE.lock(case)
            check_if_match(self.request, current)
            call(self.request.user, current, data, version)
        return self.answer(case.pk)

    @_case_step_schema(CaseStatusSerializer, _("Change the status (officials)"))
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request, public_id=None):
        """Under verification, confirmed spam, not spam (with a note saying why), closed."""
        return self.step(
            CaseStatusSerializer,
            lambda user, case, data, version: services.change_status(
                user, case, data["status"], note=data["note"], expected_version=version
            ),
        )

    @_case_step_schema(CaseOperatorSerializer, _("Correct the sender's operator (officials)"))
    @action(detail=True, methods=["post"], url_path="operator")
    def set_operator(self, request, public_id=None):
        """Numbers move between networks: the case's reports follow."""
        return self.step(
            CaseOperatorSerializer,
            lambda user, case, data, version: services.set_case_operator(
                user, case, data["operator"], expected_version=version
            ),
        )

    @_case_step_schema(AssignSerializer, _("Assign to the sender's operator (officials)"))
    @action(detail=True, methods=["post"])
    def assign(self, request, public_id=None):
        """The operator must answer within `sla_hours`; one pending assignment per case."""
        return self.step(
            AssignSerializer,
            lambda user, case, data, version: services.assign(
                user,
                case,
                operator=data.get("operator"),
                sla_hours=data.get("sla_hours"),
                instructions=data["instructions"],
                expected_version=version,
            ),
        )


# --- Assignments -----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("Operators' assignments"),
        description=_(
            "Newest first; `state=pending|overdue|answered`. An operator sees only its own."
        ),
    ),
    retrieve=extend_schema(summary=_("One assignment")),
)
class ActionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ActionSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = api_filterset(filters.ActionFilter)
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATTERN
    cursor_ordering = ("-assigned_at", "-id")

    def get_queryset(self):
        return selectors.actions(self.request.user)

    @extend_schema(
        request=RespondSerializer,
        responses={200: ActionSerializer, **ERRORS},
        summary=_("Record what was done (the operator)"),
    )
    @action(detail=True, methods=["post"])
    def respond(self, request, public_id=None):
        """Verified, blocked the number, suspended the brandname, or declined (with the reason).
        Blocking moves the case to “blocked”."""
        assignment = self.get_object()
        serializer = RespondSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.respond(
            request.user,
            assignment,
            data["outcome"],
            note=data["note"],
            expected_version=data.get("version"),
        )
        return Response(ActionSerializer(self.get_queryset().get(pk=assignment.pk)).data)


# --- Inspections -----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("Subscriber-information inspections"),
        description=_("An operator sees the inspections of its own subscriber data."),
    ),
    retrieve=extend_schema(summary=_("One inspection with its follow-up")),
    create=extend_schema(
        summary=_("Record an inspection (officials)"),
        responses={201: InspectionSerializer, **ERRORS},
    ),
    update=extend_schema(summary=_("Replace an inspection's data"), parameters=[IF_MATCH]),
    partial_update=extend_schema(
        summary=_("Change some of an inspection's data"), parameters=[IF_MATCH]
    ),
)
class InspectionViewSet(RecordViewSet):
    serializer_class = InspectionSerializer
    filterset_class = api_filterset(filters.InspectionFilter)

    def get_queryset(self):
        follow_ups = InspectionFollowUp.objects.select_related("recorded_by")
        return selectors.inspections(self.request.user).prefetch_related(
            Prefetch("follow_ups", queryset=follow_ups)
        )

    def perform_save(self, data, instance=None):
        user = self.request.user
        organization = getattr(user, "organization", None)
        if (
            instance is None
            and "inspecting_agency" not in data
            and organization is not None
            and organization.kind == Organization.Kind.AGENCY
        ):
            data["inspecting_agency"] = organization
        return services.save_inspection(user, instance, **data)

    @extend_schema(
        request=FollowUpInputSerializer,
        responses={201: InspectionSerializer, **ERRORS},
        summary=_("Record a follow-up (the operator or officials)"),
    )
    @action(detail=True, methods=["post"], url_path="follow-ups")
    def follow_ups(self, request, public_id=None):
        """What was corrected; `close: true` marks the actions required done (“remedied”)."""
        inspection = self.get_object()
        serializer = FollowUpInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.setdefault("recorded_on", timezone.localdate())
        data["expected_version"] = data.pop("version", None)
        services.record_follow_up(request.user, inspection, **data)
        return self.respond(inspection, status.HTTP_201_CREATED)

    @extend_schema(
        request=VersionSerializer,
        responses={200: InspectionSerializer, **ERRORS},
        summary=_("Close an inspection (officials)"),
    )
    @action(detail=True, methods=["post"])
    def close(self, request, public_id=None):
        inspection = self.get_object()
        serializer = VersionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.close_inspection(
            request.user, inspection, expected_version=serializer.validated_data.get("version")
        )
        return self.respond(inspection)


# --- Statistics ------------------------------------------------------------------------------------


def _operators():
    return {
        pk: (code, short_name or name)
        for pk, code, short_name, name in Organization.objects.filter(
            kind=Organization.Kind.OPERATOR
        ).values_list("pk", "code", "short_name", "name")
    }


def statistics_data(user, per, operator=None, channel=None):
    """selectors.statistics() with operators named by their codes and cases by their public ids."""
    result = selectors.statistics(user, per, operator.pk if operator else None, channel)
    operators = _operators()

    def named(row):
        code, name = operators.get(row.get("operator_id"), (None, None))
        row = {k: v for k, v in row.items() if k not in ("operator_id", "short_name")}
        row["operator"], row["operator_name"] = code, name
        return row

    shown_operator = operator.code if operator else None
    if not sees_everything(user):
        shown_operator = getattr(user.organization, "code", None)
    return {
        "period": {"kind": per.kind, "start": per.start, "end": per.end},
        "operator": shown_operator,
        "channel": channel,
        "totals": result["totals"],
        "counts": [named(r) for r in result["counts"]],
        "handling": [named(r) for r in result["handling"]],
        "trend": result["trend"],
        "top_senders": [
            {
                "case": r["public_id"],
                "sender": r["sender"],
                "sender_kind": r["sender_kind"],
                "status": r["status"],
                "flags": r["flags"],
                "operator": operators.get(r["operator_id"], (None, None))[0],
                "reports": r["reports"],
            }
            for r in result["top_senders"]
        ],
    }


class StatisticsViewSet(viewsets.ViewSet):
    """Reports, verification, cases confirmed, blocks and handling time per operator and channel,
    for a day, month, quarter or year, computed in the database."""

    pagination_class = None
    object_list = True  # the list answers one report object, not an array (core.api.schema)

    @extend_schema(
        parameters=[StatisticsQuerySerializer],
        responses={200: StatisticsSerializer, 400: ERRORS[400]},
        summary=_("Spam statistics for a period"),
        description=_(
            "`period=day|month|quarter|year` containing `date` (YYYY-MM-DD, today if left out). "
            "An operator's staff see their own operator's figures only."
        ),
    )
    def list(self, request):
        query = StatisticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        per = selectors.period(data["period"], data.get("date") or timezone.localdate())
        body = statistics_data(request.user, per, data.get("operator"), data.get("channel"))
        return Response(StatisticsSerializer(body).data)


# --- Imports --------------------------------------------------------------------------------------


@extend_schema_view(
    retrieve=extend_schema(
        summary=_("An import's progress"),
        description=_(
            "Poll until `status` is `done`, `failed` or `cancelled`; `errors` lists the first "
            "refused rows (`error_count` counts them all)."
        ),
    ),
)
class ImportViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ImportJobSerializer
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATTERN
    filter_backends = []
    parser_classes = [SafeMultiPartParser, SafeFormParser]

    def get_queryset(self):
        return scope_queryset(ImportJob.objects.filter(kind=IMPORT_KIND), self.request.user)

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={202: ImportJobSerializer, **ERRORS},
        summary=_("Import reports from a CSV or XLSX file (officials, operators)"),
        description=_(
            "The file is stored and imported in the background: the answer is the queued job; "
            "poll it. Rows with errors are listed with their row number and column; duplicates "
            "(in the file or already received) are counted and reported, never stored twice."
        ),
    )
    def create(self, request, *args, **kwargs):
        serializer = ImportUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        origin = data.get("origin") or (
            Origin.OPERATOR_FEED if is_operator_user(request.user) else Origin.OFFICIAL
        )
        job = services.start_import(
            request.user,
            data["file"],
            origin=origin,
            date_order=data.get("date_order") or None,
            mapping=data.get("mapping"),
            mapping_name=data.get("mapping_name"),
        )
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=None,
        responses={202: ImportJobSerializer, **ERRORS},
        summary=_("Retry a failed import (who started it, its organisation's staff, officials)"),
        description=_(
            "A failed import (an error, or its worker was lost and the sweeper marked it) is "
            "queued again and resumes after the rows already stored; any other state answers 409."
        ),
    )
    @action(detail=True, methods=["post"], parser_classes=[SafeJSONParser, SafeFormParser])
    def retry(self, request, public_id=None):
        job = imports.retry(request.user, self.get_object())
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=None,
        responses={200: ImportJobSerializer, **ERRORS},
        summary=_("Cancel an import that has not finished (the same people as retry)"),
        description=_(
            "The worker stops at its next progress report; the chunks it already stored stay. "
            "A finished import answers 409."
        ),
    )
    @action(detail=True, methods=["post"], parser_classes=[SafeJSONParser, SafeFormParser])
    def cancel(self, request, public_id=None):
        job = imports.cancel(request.user, self.get_object())
        return Response(ImportJobSerializer(job).data)


# --- Do-not-call list ------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("The do-not-call list (officials)"),
        parameters=[
            OpenApiParameter(
                "number", OpenApiTypes.STR, description=_("One number, as people write it.")
            )
        ],
    ),
)
class DoNotCallViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = DoNotCallSerializer
    filter_backends = []
    cursor_ordering = "number"

    def get_queryset(self):
        queryset = DoNotCallEntry.objects.all()
        number = self.request.query_params.get("number", "").strip() if self.request else ""
        if number:
            queryset = queryset.filter(number=senders.phone(number, field="number"))
        return queryset

    def list(self, request, *args, **kwargs):
        if not sees_everything(request.user):
            raise PermissionDenied()
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=DoNotCallInputSerializer,
        responses={201: DoNotCallResultSerializer, **ERRORS},
        summary=_("Add numbers to the do-not-call list (officials)"),
        description=_("Numbers already listed are left as they are."),
    )
    def create(self, request, *args, **kwargs):
        serializer = DoNotCallInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            added = services.register_do_not_call(
                request.user,
                data["numbers"],
                source=data["source"],
                registered_on=data.get("registered_on"),
            )
        except InvalidInput as exc:
            raise InvalidInput(
                {"numbers": [m for messages in exc.errors.values() for m in messages]}
            ) from exc
        body = {"submitted": len(data["numbers"]), "added": added}
        return Response(DoNotCallResultSerializer(body).data, status=status.HTTP_201_CREATED)
