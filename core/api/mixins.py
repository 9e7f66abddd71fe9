"""Viewset pieces every app's API shares: writes through a service, guarded by ETag / If-Match."""

import keyword
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from core.api.geojson import UUID_PATTERN, GeoJSONListMixin
from core.api.parsers import SafeFormParser, SafeJSONParser, SafeMultiPartParser

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=_("The ETag of your last read: if the record changed since, the answer is 412."),
)


class PreconditionFailed(APIException):
    """412: the If-Match sent names an older version. With ``current`` (the record as it is now)
    the body is ``{"detail", "code": "precondition_failed", "current": {…}}`` and ``etag`` (the
    present ETag) is sent back in the ETag header, so the caller can merge and retry at once."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("Someone else changed this record first. Reload it and try again.")
    default_code = "precondition_failed"

    def __init__(self, detail=None, code=None, current=None, etag=None):
        super().__init__(detail, code)
        self.etag = etag
        if current is not None:
            # Set after APIException.__init__, which would turn every number into a string.
            self.detail = {"detail": self.detail, "code": self.default_code, "current": current}

    def get_codes(self):
        return self.default_code


def etag(instance):
    """The record's version for If-Match: its last change, to the microsecond."""
    return f'"{instance.updated_at.timestamp():.6f}"'


def if_match_fails(request, tag):
    """True when the request sends If-Match and none of its tags is ``tag`` ("*" matches any)."""
    expected = request.headers.get("If-Match", "").strip()
    if not expected or expected == "*":
        return False
    tags = {t.strip().removeprefix("W/") for t in expected.split(",")}
    return tag not in tags


def check_if_match(request, instance, current=None):
    """Raise 412 unless If-Match (when sent) names ``instance``'s present ETag. ``current`` is a
    callable giving the record's present state for the 412 body (called only on failure)."""
    tag = etag(instance)
    if if_match_fails(request, tag):
        raise PreconditionFailed(current=current() if current else None, etag=tag)


class PreconditionETagMixin:
    """A 412 answer carries the record's present ETag (PreconditionFailed.etag) in its header."""

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        tag = getattr(exc, "etag", None)
        if isinstance(exc, PreconditionFailed) and tag and response is not None:
            response["ETag"] = tag
        return response


class FeatureWriteMixin(PreconditionETagMixin):
    """Create and update through a service; the answer is the saved record, read back in scope.

    Lost updates are guarded with ETag / If-Match: a read gives the record's ETag; an update that
    sends If-Match with an older one is refused with 412 and changes nothing; the 412 body carries
    the record as it is now (``current``) and its ETag header the present ETag. The viewset
    implements ``perform_save(data, instance=None)`` by calling its service. ``geojson_geometry``
    names the geometry field: when an update moves it without naming a commune, the commune is left
    for the service to find again from the new geometry.
    """

    geojson_geometry = "location"

    def perform_save(self, data, instance=None):  # pragma: no cover - overridden
        raise NotImplementedError

    def respond(self, instance, status_code=status.HTTP_200_OK):
        instance = self.get_queryset().get(pk=instance.pk)
        response = Response(self.get_serializer(instance).data, status=status_code)
        response["ETag"] = etag(instance)
        return response

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        response = Response(self.get_serializer(instance).data)
        response["ETag"] = etag(instance)
        return response

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.perform_save(dict(serializer.validated_data))
        return self.respond(instance, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        with transaction.atomic():
            instance = self.locked_object()
            self.check_if_match(instance)
            serializer = self.get_serializer(instance, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
            if self.geojson_geometry in data and "commune" not in data:
                data["commune"] = None  # a moved geometry without a commune: the service finds it
            instance = self.perform_save(data, instance)
        return self.respond(instance)

    def check_if_match(self, instance):
        """412 (with the record as it is now) unless If-Match, when sent, names its ETag."""
        check_if_match(self.request, instance, current=lambda: self.get_serializer(instance).data)

    def locked_object(self):
        """The record in the user's scope, read again once its row is locked (so the service saves
        what is stored now, not what was read before someone else's change)."""
        instance = self.get_object()
        try:
            return self.lock(instance, self.get_object)
        except type(instance).DoesNotExist:
            raise Http404 from None  # deleted meanwhile

    @staticmethod
    def lock(instance, reread):
        """Lock ``instance``'s row (SELECT … FOR UPDATE on the bare table: the scoped queryset may
        aggregate) and return it, read again with ``reread()`` if it changed since it was read."""
        model = type(instance)
        current = model._default_manager.select_for_update().only("updated_at").order_by()
        if current.get(pk=instance.pk).updated_at != instance.updated_at:
            instance = reread()
        return instance


class FeatureViewSet(
    GeoJSONListMixin,
    FeatureWriteMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The base of a register's API (stations, assets …): a GeoJSON list page written by
    PostgreSQL, a Feature detail with ETag, create and update with If-Match. A subclass sets
    ``serializer_class``, ``filterset_class``, ``get_queryset`` and the GeoJSON properties."""

    filter_backends = [DjangoFilterBackend]
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATTERN
    cursor_ordering = "id"


class RecordViewSet(
    FeatureWriteMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The base of a record's API without geometry (projects, inspections, agreements, report
    definitions …): a keyset list, a detail with ETag, create and update through the service
    (``perform_save``) with If-Match. A subclass sets ``serializer_class``, ``filterset_class``
    and ``get_queryset``."""

    filter_backends = [DjangoFilterBackend]
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATTERN
    cursor_ordering = "-id"
    geojson_geometry = "-"  # no geometry: FeatureWriteMixin leaves the data as sent


STALE = OpenApiResponse(
    OpenApiTypes.OBJECT, description=_("The If-Match sent names an older version.")
)


@dataclass(frozen=True)
class Step:
    """A workflow action offered by a ``CaseViewSet`` as ``POST <case>/<id>/<action>/``: the body's
    serializer (with an optional ``version``), the summary and description for the schema."""

    serializer: type
    summary: Any
    description: str = ""


def _step_view(viewset, name, step):
    """The API action for ``name``: its method is the action's name (``return_`` for a Python
    keyword), its URL the name with dashes, its route name as DRF derives it from the method."""

    def view(self, request, pk=None):
        return self.act(name, step.serializer)

    view.__name__ = f"{name}_" if keyword.iskeyword(name) else name
    view.__qualname__ = f"{viewset.__qualname__}.{view.__name__}"
    view.__doc__ = step.description or None
    view = action(detail=True, methods=["post"], url_path=name.replace("_", "-"))(view)
    return extend_schema(
        request=step.serializer,
        responses={200: viewset.detail_serializer_class, **viewset.step_errors, 412: STALE},
        parameters=[IF_MATCH],
        summary=step.summary,
    )(view)


class CaseViewSet(
    PreconditionETagMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The base of a workflow case's API (a permit application, a sharing request …): a keyset list,
    a detail written by ``detail_serializer_class`` from ``detail_object(pk)`` (the app's selector
    with its prefetches), and POST steps through ``step()``, one transaction each (the services lock
    the row with SELECT … FOR UPDATE). The detail and every step's answer carry the case's ETag
    (its last change).

    A workflow's actions are declared, not written: ``workflow`` names it and ``steps`` maps each
    action to its ``Step``; every one becomes a POST route that calls ``act`` (one transaction, the
    same version and If-Match handling and the workflow's errors: 400 / 403 / 409 / 412)."""

    filter_backends = [DjangoFilterBackend]
    workflow = None
    steps: Mapping[str, Step] = {}
    step_errors: Mapping[int, Any] = {}
    lookup_value_regex = r"\d+"
    cursor_ordering = "-id"
    parser_classes = [SafeJSONParser, SafeFormParser, SafeMultiPartParser]
    detail_serializer_class = None

    def detail_object(self, pk):
        raise NotImplementedError

    def get_serializer_class(self):
        if self.action == "retrieve":
            return self.detail_serializer_class
        return super().get_serializer_class()

    def detail_case(self, pk):
        try:
            return self.detail_object(pk)
        except ObjectDoesNotExist:
            raise Http404 from None

    def detail_data(self, pk):
        case = self.detail_case(pk)
        return self.detail_serializer_class(case, context=self.get_serializer_context()).data

    def detail_response(self, pk, status_code=status.HTTP_200_OK):
        """The case's detail with its ETag."""
        case = self.detail_case(pk)
        data = self.detail_serializer_class(case, context=self.get_serializer_context()).data
        response = Response(data, status=status_code)
        if getattr(case, "updated_at", None) is not None:
            response["ETag"] = etag(case)
        return response

    def retrieve(self, request, *args, **kwargs):
        return self.detail_response(self.get_object().pk)

    def act(self, action, serializer_class):
        """One step of ``workflow``, in the request's transaction: the body is checked by
        ``serializer_class``, its ``version`` (when sent) must be the case's (409 when stale) and
        so must If-Match (412); without either the step applies to the case as it is now."""
        case = self.get_object()
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        inputs = dict(serializer.validated_data)
        version = inputs.pop("version", None)
        with transaction.atomic():
            locked = self.workflow.lock(case)
            check_if_match(self.request, locked)
            self.workflow.perform(
                self.request.user, locked, action, expected_version=version, **inputs
            )
        return self.detail_response(case.pk)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name, step in cls.__dict__.get("steps", {}).items():
            view = _step_view(cls, name, step)
            setattr(cls, view.__name__, view)

    def step(self, serializer_class, call):
        case = self.get_object()
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            call(self.request.user, case, serializer.validated_data)
        return self.detail_response(case.pk)
