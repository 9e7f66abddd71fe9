"""The agreements API: coordination programmes, their content areas, tasks, progress updates and
meetings, and the indicator registry that task targets name.

Reads come from agreements.selectors, scoped to the user (officials and agency API clients see
everything, a party's staff see the agreements their organisation is party to, anyone else sees
nothing: a list is empty and a record is a 404). Writes go through agreements.services (permission,
state and business rules; their domain errors become 400/403/409 in core.api.exceptions). Only
officials create and change agreements, areas, tasks and meetings; a party's staff post updates on
the tasks their organisation is responsible for or supports. Details carry an ETag; PUT and PATCH
with an older If-Match are refused with 412 (core.api.mixins). Progress updates are append-only.
The steps (an agreement's ``in-force``, a task's ``status``) move it through agreements.workflows
(AGREEMENT, AGREEMENT_TASK): they honour the body's ``version`` (409 when stale) and If-Match (412).
"""

import django_filters
from django.db import transaction
from django.db.models import Prefetch
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
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from agreements import filters, selectors, services
from agreements.api.serializers import (
    AgreementDetailSerializer,
    AgreementSerializer,
    ContentAreaSerializer,
    IndicatorQuerySerializer,
    IndicatorSerializer,
    IndicatorValueSerializer,
    InForceSerializer,
    MeetingInputSerializer,
    MeetingSerializer,
    RenewSerializer,
    TaskDetailSerializer,
    TaskSerializer,
    TaskStatusSerializer,
    TaskUpdateInputSerializer,
    TaskUpdateSerializer,
)
from agreements.models import ContentArea, Decision, Meeting
from agreements.workflows import AGREEMENT, AGREEMENT_TASK
from core import indicators
from core.api.geojson import UUID_PATTERN, api_filterset
from core.api.mixins import IF_MATCH, RecordViewSet, check_if_match, etag
from core.api.parsers import SafeFormParser, SafeJSONParser, SafeMultiPartParser
from core.exceptions import PermissionDenied
from core.permissions import HasPortalRole
from core.scoping import scope_queryset, sees_everything

ERRORS = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description=_("Field errors.")),
    403: OpenApiResponse(OpenApiTypes.OBJECT, description=_("Not allowed for you.")),
    404: OpenApiResponse(OpenApiTypes.OBJECT, description=_("No such record for you.")),
}
STALE = {
    412: OpenApiResponse(OpenApiTypes.OBJECT, description=_("Changed since your If-Match.")),
}
CONFLICT = {
    409: OpenApiResponse(OpenApiTypes.OBJECT, description=_("Not possible in this status.")),
}


class OfficialsWrite(HasPortalRole):
    """Every portal role reads (in its scope); only officials create and change. A record out of
    the user's scope is a 404 before it is a 403, and the refusal comes before the input is read."""

    message = _("Only officials of the city and the Cục manage agreements.")
    OBJECT_WRITES = ("update", "partial_update", "in_force", "renew")

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if view.action == "create":
            return services.is_agreement_official(request.user)
        return True

    def has_object_permission(self, request, view, obj):
        if view.action in self.OBJECT_WRITES:
            return services.is_agreement_official(request.user)
        return True


class ETagRetrieveMixin:
    """A detail with its ETag (for read-only records: no write is exposed by this mixin)."""

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        response = Response(self.get_serializer(instance).data)
        response["ETag"] = etag(instance)
        return response


class WriteViewSet(RecordViewSet):
    """List, detail with ETag, create and update (If-Match) through a service, officials only."""

    permission_classes = [OfficialsWrite]
    detail_serializer_class = None

    def get_serializer_class(self):
        if self.action == "retrieve" and self.detail_serializer_class:
            return self.detail_serializer_class
        return super().get_serializer_class()

    def respond(self, instance, status_code=status.HTTP_200_OK):
        """The saved record as its detail, read back in scope, with its new ETag."""
        instance = self.get_queryset().get(pk=instance.pk)
        serializer_class = self.detail_serializer_class or self.get_serializer_class()
        data = serializer_class(instance, context=self.get_serializer_context()).data
        response = Response(data, status=status_code)
        response["ETag"] = etag(instance)
        return response


# --- Agreements ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("Agreements"),
        description=_(
            "Coordination programmes with their parties, newest first. `party` (an organisation "
            "code) and `status` filter them; an operator sees only the agreements it is party to."
        ),
    ),
    retrieve=extend_schema(
        summary=_("One agreement with its content areas' progress and its overdue tasks")
    ),
    create=extend_schema(
        summary=_("Create an agreement (officials)"),
        description=_(
            "JSON, or multipart with the signed PDF as `document`. `parties` lists two or more "
            "organisations by code, each once, with role and signatory."
        ),
        request={
            "application/json": AgreementSerializer,
            "multipart/form-data": AgreementSerializer,
        },
        responses={201: AgreementDetailSerializer, **ERRORS},
    ),
    update=extend_schema(
        summary=_("Replace an agreement's data (officials)"),
        parameters=[IF_MATCH],
        responses={200: AgreementDetailSerializer, **ERRORS, **STALE},
    ),
    partial_update=extend_schema(
        summary=_("Change some of an agreement's data (officials)"),
        parameters=[IF_MATCH],
        responses={200: AgreementDetailSerializer, **ERRORS, **STALE},
    ),
)
class AgreementViewSet(WriteViewSet):
    serializer_class = AgreementSerializer
    detail_serializer_class = AgreementDetailSerializer
    filterset_class = api_filterset(filters.AgreementFilter)
    parser_classes = [SafeJSONParser, SafeMultiPartParser, SafeFormParser]

    def get_queryset(self):
        return selectors.agreements(self.request.user).select_related("successor")

    def perform_save(self, data, instance=None):
        return services.save_agreement(self.request.user, instance, **data)

    @extend_schema(
        request=InForceSerializer,
        parameters=[IF_MATCH],
        responses={200: AgreementDetailSerializer, **ERRORS, **CONFLICT, **STALE},
        summary=_("Bring a signed draft into force (officials)"),
    )
    @action(detail=True, methods=["post"], url_path="in-force")
    def in_force(self, request, public_id=None):
        """The agreement it renews, if any, becomes "renewed"."""
        agreement = self.get_object()
        serializer = InForceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            locked = AGREEMENT.lock(agreement)
            check_if_match(request, locked)
            agreement = services.bring_into_force(
                request.user,
                locked,
                signed_on=data.get("signed_on"),
                expected_version=data.get("version"),
            )
        return self.respond(agreement)

    @extend_schema(
        request=RenewSerializer,
        responses={201: AgreementDetailSerializer, **ERRORS, **CONFLICT},
        summary=_("Renew: a draft successor with the same parties, areas and open tasks"),
    )
    @action(detail=True, methods=["post"])
    def renew(self, request, public_id=None):
        """Parties that have a successor organisation are carried over as that successor; open
        tasks are copied without their dates."""
        agreement = self.get_object()
        serializer = RenewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        successor = services.renew(request.user, agreement, **serializer.validated_data)
        return self.respond(successor, status.HTTP_201_CREATED)


# --- Content areas -------------------------------------------------------------------------------


class AreaFilter(django_filters.FilterSet):
    agreement = django_filters.CharFilter(field_name="agreement__code", label=_("Agreement"))

    class Meta:
        model = ContentArea
        fields = ["agreement"]


@extend_schema_view(
    list=extend_schema(summary=_("Content areas"), description=_("`agreement`: its code.")),
    retrieve=extend_schema(summary=_("One content area")),
    create=extend_schema(
        summary=_("Add a content area (officials)"),
        responses={201: ContentAreaSerializer, **ERRORS},
    ),
    update=extend_schema(
        summary=_("Replace a content area's data (officials)"),
        parameters=[IF_MATCH],
        responses={200: ContentAreaSerializer, **ERRORS, **STALE},
    ),
    partial_update=extend_schema(
        summary=_("Change some of a content area's data (officials)"),
        parameters=[IF_MATCH],
        responses={200: ContentAreaSerializer, **ERRORS, **STALE},
    ),
)
class ContentAreaViewSet(WriteViewSet):
    serializer_class = ContentAreaSerializer
    filterset_class = AreaFilter
    cursor_ordering = "id"

    def get_queryset(self):
        return selectors.areas(self.request.user)

    def perform_save(self, data, instance=None):
        agreement = data.get("agreement") or instance.agreement

        def value(field, default=None):
            return data.get(field, getattr(instance, field) if instance else default)

        return services.save_area(
            self.request.user,
            agreement,
            instance,
            number=value("number"),
            title=value("title", ""),
            description=value("description", ""),
        )


# --- Tasks ---------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("Tasks"),
        description=_(
            "Filter by `agreement` (code), `party` (the responsible organisation's code), "
            "`status` (repeat it), `due_after` / `due_before` (YYYY-MM-DD)."
        ),
    ),
    retrieve=extend_schema(summary=_("One task with its progress")),
    create=extend_schema(
        summary=_("Add a task (officials)"),
        description=_(
            "`responsible` and `supporting` are organisation codes of parties to the agreement; "
            "`due_date` and `target_date` fall within its period; `indicator` is a key of "
            "GET /api/v1/indicators/ and needs a `target_value`."
        ),
        responses={201: TaskDetailSerializer, **ERRORS},
    ),
    update=extend_schema(
        summary=_("Replace a task's data (officials)"),
        parameters=[IF_MATCH],
        responses={200: TaskDetailSerializer, **ERRORS, **STALE},
    ),
    partial_update=extend_schema(
        summary=_("Change some of a task's data (officials)"),
        parameters=[IF_MATCH],
        responses={200: TaskDetailSerializer, **ERRORS, **STALE},
    ),
)
class TaskViewSet(WriteViewSet):
    serializer_class = TaskSerializer
    detail_serializer_class = TaskDetailSerializer
    filterset_class = api_filterset(filters.TaskFilter)
    cursor_ordering = "id"

    def get_queryset(self):
        return selectors.tasks(self.request.user).select_related("carried_from")

    def perform_save(self, data, instance=None):
        supporting = data.pop("supporting", None)
        return services.save_task(self.request.user, instance, supporting=supporting, **data)

    @extend_schema(
        request=TaskStatusSerializer,
        parameters=[IF_MATCH],
        responses={200: TaskDetailSerializer, **ERRORS, **CONFLICT, **STALE},
        summary=_("Move a task (officials or the responsible party)"),
    )
    @action(detail=True, methods=["post"], url_path="status")
    def move(self, request, public_id=None):
        """A recurring task marked done moves on to its next occurrence within the period."""
        task = self.get_object()
        if not services.can_move(request.user, task):
            raise PermissionDenied()
        serializer = TaskStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            locked = AGREEMENT_TASK.lock(task)
            check_if_match(request, locked)
            task = services.set_task_status(
                request.user, locked, data["status"], expected_version=data.get("version")
            )
        return self.respond(task)

    @extend_schema(
        request={
            "application/json": TaskUpdateInputSerializer,
            "multipart/form-data": TaskUpdateInputSerializer,
        },
        responses={201: TaskUpdateSerializer, **ERRORS},
        summary=_("Post a progress update (the responsible or a supporting party, officials)"),
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="updates",
        parser_classes=[SafeJSONParser, SafeMultiPartParser, SafeFormParser],
    )
    def post_update(self, request, public_id=None):
        """Append-only: a correction is a new update naming the one it replaces (`corrects`).
        `percent` only for tasks without an indicator; evidence as PDF, JPEG or PNG files."""
        task = self.get_object()
        if not services.can_update(request.user, task):
            raise PermissionDenied()
        serializer = TaskUpdateInputSerializer(
            data=request.data, context={**self.get_serializer_context(), "task": task}
        )
        serializer.is_valid(raise_exception=True)
        update = services.post_update(request.user, task, **serializer.validated_data)
        shown = update_queryset(request.user).get(pk=update.pk)
        return Response(
            TaskUpdateSerializer(shown, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


# --- Progress updates ----------------------------------------------------------------------------


def update_queryset(user):
    return selectors.updates(user).select_related("task__area__agreement", "corrects", "correction")


@extend_schema_view(
    list=extend_schema(
        summary=_("Progress updates"),
        description=_(
            "Newest first. Append-only: post through a task's `updates`; a correction is a new "
            "update naming the one it replaces."
        ),
    ),
    retrieve=extend_schema(summary=_("One progress update")),
)
class UpdateViewSet(
    ETagRetrieveMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = TaskUpdateSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = api_filterset(filters.UpdateFilter)
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATTERN
    cursor_ordering = "-id"

    def get_queryset(self):
        return update_queryset(self.request.user)


# --- Meetings ------------------------------------------------------------------------------------


class MeetingFilter(django_filters.FilterSet):
    agreement = django_filters.CharFilter(field_name="agreement__code", label=_("Agreement"))
    title = django_filters.CharFilter(lookup_expr="icontains", label=_("Title"))
    held_after = django_filters.DateFilter(field_name="held_on", lookup_expr="gte", label=_("From"))
    held_before = django_filters.DateFilter(
        field_name="held_on", lookup_expr="lte", label=_("Until")
    )

    class Meta:
        model = Meeting
        fields = ["agreement", "title", "held_after", "held_before"]


@extend_schema_view(
    list=extend_schema(summary=_("Meetings of the parties"), description=_("Newest first.")),
    retrieve=extend_schema(summary=_("One meeting with its decisions")),
    create=extend_schema(
        summary=_("Record a meeting and its decisions (officials)"),
        description=_(
            "Each decision is a text and either `task` (the id of a task it changes, with "
            "`changes`: `due_date`, `status`) or `new_task` (the fields of a task it creates)."
        ),
        request=MeetingInputSerializer,
        responses={201: MeetingSerializer, **ERRORS},
    ),
)
class MeetingViewSet(
    ETagRetrieveMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = MeetingSerializer
    permission_classes = [OfficialsWrite]
    filter_backends = [DjangoFilterBackend]
    filterset_class = MeetingFilter
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATTERN
    cursor_ordering = "-id"

    def get_queryset(self):
        decisions = Decision.objects.select_related("task")
        queryset = Meeting.objects.select_related("agreement").prefetch_related(
            "present", Prefetch("decisions", queryset=decisions)
        )
        return scope_queryset(queryset, self.request.user).distinct()

    def create(self, request, *args, **kwargs):
        serializer = MeetingInputSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        decisions = [
            {key: dict(value) if isinstance(value, dict) else value for key, value in item.items()}
            for item in data.pop("decisions")
        ]
        meeting = services.record_meeting(
            request.user, data.pop("agreement"), decisions=decisions, **data
        )
        shown = self.get_queryset().get(pk=meeting.pk)
        response = Response(self.get_serializer(shown).data, status=status.HTTP_201_CREATED)
        response["ETag"] = etag(shown)
        return response


# --- Indicators ----------------------------------------------------------------------------------

KEY = OpenApiParameter(
    "key", OpenApiTypes.STR, OpenApiParameter.PATH, description=_("e.g. cables.km_cable_pulled")
)


class IndicatorViewSet(viewsets.ViewSet):
    """The indicator registry: the measures each app declares, which task targets name by key.
    Every portal role reads the list; values (city-wide figures across organisations) are for
    officials and agency API clients."""

    lookup_field = "key"
    lookup_value_regex = r"[A-Za-z0-9_.\-]+"
    pagination_class = None

    @extend_schema(
        summary=_("Registered indicators"),
        responses={200: IndicatorSerializer(many=True)},
    )
    def list(self, request):
        rows = [_definition(i) for i in indicators.all_indicators()]
        return Response(IndicatorSerializer(rows, many=True).data)

    @extend_schema(
        summary=_("An indicator's value on a date (officials and agency API clients)"),
        parameters=[KEY, IndicatorQuerySerializer],
        responses={200: IndicatorValueSerializer, **ERRORS},
    )
    def retrieve(self, request, key=None):
        """`as_of` (YYYY-MM-DD, today if left out), `start` for flows, `by` one of the
        indicator's dimensions for a breakdown (rows of key, label, value)."""
        if not indicators.exists(key):
            raise NotFound(_("No indicator “%(key)s”.") % {"key": key})
        if not sees_everything(request.user):
            raise PermissionDenied()
        indicator = indicators.get(key)
        query = IndicatorQuerySerializer(
            data=request.query_params.dict(), context={"indicator": indicator}
        )
        query.is_valid(raise_exception=True)
        window = query.validated_data
        value = indicator.value(
            as_of=window.get("as_of"), start=window.get("start"), by=window["by"]
        )
        data = {
            **_definition(indicator),
            "as_of": window.get("as_of") or timezone.localdate(),
            "start": window.get("start"),
            "by": window["by"],
            "value": value,
        }
        return Response(IndicatorValueSerializer(data).data)


def _definition(indicator):
    return {
        "key": indicator.key,
        "label": str(indicator.label),
        "unit": indicator.unit,
        "unit_label": str(indicator.unit_label),
        "description": str(indicator.description),
        "dimensions": list(indicator.dimensions),
        "app": indicator.app,
    }
