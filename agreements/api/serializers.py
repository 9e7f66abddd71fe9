"""Serializers of the agreements API.

They check types only (codes and public ids that exist and that the user may see, dates, numbers,
choices); the business rules (a period that ends before it starts, a task due outside its
agreement's period, a responsible organisation that is not a party, a target on an unknown indicator,
a percent outside 0–100, who may do what) live in agreements.services, which every write goes
through, and come back as 400/403/409 from core.api.exceptions.

Records are named by their public id (``id``); agreements may also be named by their code and
organisations always are.
"""

import uuid

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agreements import selectors, services
from agreements.models import (
    Agreement,
    AgreementParty,
    ContentArea,
    Decision,
    Meeting,
    ProgressUpdate,
    Task,
    UpdateEvidence,
)
from agreements.workflows import AGREEMENT_TASK
from core.api.fields import OrganizationField, ScopedCodeField, UTCDateTimeField


def _choices_text(values):
    return {"type": "string", "description": "One of: " + ", ".join(values) + "."}


def choice_field(choices, **kwargs):
    """A ChoiceField documented as a string listing its values: ``status`` and ``role`` have other
    values in other serializers, which would collide as OpenAPI enums."""
    values = [value for value, _label in choices]
    field_class = extend_schema_field(_choices_text(values))(
        type("DocumentedChoiceField", (serializers.ChoiceField,), {})
    )
    return field_class(choices=choices, **kwargs)


def _user(serializer):
    request = serializer.context.get("request")
    return request.user if request else None


# --- Fields -------------------------------------------------------------------------------------


class PublicIdField(serializers.RelatedField):
    """A record among those the user may see, given and shown by its public id."""

    default_error_messages = {
        "does_not_exist": _("Unknown {what} “{value}”."),
        "invalid": _("Give the {what}'s id."),
    }
    what = "record"

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", self.model.objects.none())
        super().__init__(**kwargs)

    def visible(self, user):  # pragma: no cover - overridden
        raise NotImplementedError

    def get_queryset(self):
        return self.visible(_user(self))

    def to_internal_value(self, data):
        if not isinstance(data, str | uuid.UUID):
            self.fail("invalid", what=self.what)
        try:
            public_id = uuid.UUID(str(data).strip())
        except ValueError:
            self.fail("does_not_exist", what=self.what, value=data)
        found = self.get_queryset().filter(public_id=public_id).first()
        if found is None:
            self.fail("does_not_exist", what=self.what, value=data)
        return found

    def to_representation(self, value):
        return str(value.public_id)


@extend_schema_field(OpenApiTypes.UUID)
class AreaField(PublicIdField):
    model = ContentArea
    what = _("content area")

    def visible(self, user):
        return selectors.areas(user)


@extend_schema_field(OpenApiTypes.UUID)
class TaskField(PublicIdField):
    model = Task
    what = _("task")

    def visible(self, user):
        return selectors.tasks(user)


@extend_schema_field(OpenApiTypes.UUID)
class CorrectedUpdateField(PublicIdField):
    """An earlier update of the task in the context (``task``)."""

    model = ProgressUpdate
    what = _("update of this task")

    def visible(self, user):
        task = self.context.get("task")
        updates = selectors.updates(user)
        return updates.filter(task=task) if task is not None else updates.none()


@extend_schema_field(OpenApiTypes.STR)
class AgreementField(ScopedCodeField):
    """An agreement among those the user may see, given by its code or its public id; shown by its
    code."""

    model = Agreement
    selector = staticmethod(selectors.agreements)
    default_error_messages = {
        "does_not_exist": _("Unknown agreement “{value}”."),
        "invalid": _("Give the agreement's code or id."),
    }


# --- Agreements ---------------------------------------------------------------------------------


class AgreementPartySerializer(serializers.ModelSerializer):
    """A party as it signed; ``current`` is the organisation that carries its duties today."""

    organization = OrganizationField(help_text=_("Code of the organisation, e.g. CUC_VT."))
    name = serializers.CharField(source="organization.name", read_only=True)
    current = serializers.SerializerMethodField(
        help_text=_("Code of the organisation that carries this party's duties today.")
    )
    current_name = serializers.SerializerMethodField()
    role = choice_field(AgreementParty.Role.choices, required=False)

    class Meta:
        model = AgreementParty
        fields = [
            "organization",
            "name",
            "current",
            "current_name",
            "role",
            "signatory",
            "signatory_title",
        ]
        extra_kwargs = {"signatory": {"required": False}, "signatory_title": {"required": False}}

    def get_current(self, obj) -> str:
        return obj.organization.current.code

    def get_current_name(self, obj) -> str:
        return obj.organization.current.name


@extend_schema_field(_choices_text(Agreement.Status.values))
class AgreementStatusField(serializers.CharField):
    pass


class AgreementSerializer(serializers.ModelSerializer):
    """An agreement with its parties. ``parties`` replaces the whole list when it is sent."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    status = AgreementStatusField(
        read_only=True, help_text=_("Changed by the `in-force` and `renew` steps.")
    )
    parties = AgreementPartySerializer(
        many=True,
        required=False,
        help_text=_("Two or more organisations, each once (required when creating)."),
    )
    document = serializers.FileField(
        required=False, allow_null=True, help_text=_("The signed text (PDF, checked by content).")
    )
    days_left = serializers.IntegerField(read_only=True, help_text=_("Days until the period ends."))
    predecessor = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text=_("Code of the agreement this one renews.")
    )
    successor = serializers.SerializerMethodField(
        help_text=_("Code of the agreement that renews this one.")
    )
    created_at = UTCDateTimeField(read_only=True)
    updated_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = Agreement
        fields = [
            "id",
            "code",
            "title",
            "summary",
            "signed_on",
            "period_start",
            "period_end",
            "days_left",
            "status",
            "version",
            "document",
            "parties",
            "predecessor",
            "successor",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "code": {"validators": []},  # uniqueness is the service's business
            "summary": {"required": False},
            "signed_on": {"required": False},
        }
        validators = []

    def get_successor(self, obj) -> str | None:
        try:
            return obj.successor.code
        except Agreement.DoesNotExist:
            return None

    def validate_document(self, value):
        return value or None


class AreaProgressSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    number = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    percent = serializers.IntegerField(
        help_text=_("Mean progress of its tasks (dropped tasks left out).")
    )
    tasks = serializers.SerializerMethodField()
    overdue = serializers.IntegerField(help_text=_("Overdue tasks."))

    def get_tasks(self, obj) -> int:
        return len(obj.task_list)


@extend_schema_field(_choices_text(Task.Status.values))
class TaskStatusField(serializers.CharField):
    pass


class TaskBriefSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    area = serializers.IntegerField(source="area.number", read_only=True)
    responsible = serializers.SlugRelatedField(slug_field="code", read_only=True)
    status = TaskStatusField(read_only=True)

    class Meta:
        model = Task
        fields = ["id", "title", "area", "responsible", "due_date", "status"]


class AgreementDetailSerializer(AgreementSerializer):
    """An agreement with its content areas (progress %, tasks, overdue ones) and its overdue
    tasks, computed from the data (tasks measured by an indicator) or from the latest updates."""

    areas = serializers.SerializerMethodField()
    overdue_tasks = serializers.SerializerMethodField()

    class Meta(AgreementSerializer.Meta):
        fields = [*AgreementSerializer.Meta.fields, "areas", "overdue_tasks"]

    def _overview(self, obj):
        if not hasattr(obj, "_api_overview"):
            obj._api_overview = selectors.overview(obj)
        return obj._api_overview

    @extend_schema_field(AreaProgressSerializer(many=True))
    def get_areas(self, obj):
        return AreaProgressSerializer(self._overview(obj)["areas"], many=True).data

    @extend_schema_field(TaskBriefSerializer(many=True))
    def get_overdue_tasks(self, obj):
        return TaskBriefSerializer(self._overview(obj)["overdue"], many=True).data


VERSION_HELP = _(
    "The version of the record as you last read it: if someone changed it since, the answer is 409."
)


class StepSerializer(serializers.Serializer):
    """Every step may name the version its caller read (as If-Match may name the ETag)."""

    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)


class InForceSerializer(StepSerializer):
    signed_on = serializers.DateField(
        required=False, allow_null=True, help_text=_("The agreement's signing date, or today.")
    )


class RenewSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=50)
    title = serializers.CharField(max_length=500)
    period_start = serializers.DateField()
    period_end = serializers.DateField()


# --- Content areas ------------------------------------------------------------------------------


class ContentAreaSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    agreement = AgreementField(help_text=_("The agreement's code or id."))
    number = serializers.IntegerField(help_text=_("Numbered from 1 within the agreement."))
    created_at = UTCDateTimeField(read_only=True)
    updated_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = ContentArea
        fields = ["id", "agreement", "number", "title", "description", "created_at", "updated_at"]
        extra_kwargs = {"description": {"required": False}}
        validators = []  # (agreement, number) is checked by the service


# --- Tasks --------------------------------------------------------------------------------------


class TaskSerializer(serializers.ModelSerializer):
    """A task under a content area. A task measured by an indicator (a key of GET /indicators/)
    needs a target value; its progress is computed from the data, not typed in."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    agreement = serializers.CharField(
        source="area.agreement.code", read_only=True, help_text=_("The agreement's code.")
    )
    area = AreaField(help_text=_("The content area's id."))
    area_number = serializers.IntegerField(source="area.number", read_only=True)
    responsible = OrganizationField(help_text=_("Code of the responsible party."))
    supporting = OrganizationField(
        many=True, required=False, help_text=_("Codes of the supporting parties.")
    )
    recurrence = choice_field(Task.Recurrence.choices, required=False, allow_blank=True)
    status = TaskStatusField(read_only=True, help_text=_("Changed by the `status` step."))
    percent = serializers.IntegerField(
        read_only=True, help_text=_("From the latest update, for tasks without an indicator.")
    )
    indicator = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text=_("Key of a registered indicator (GET /api/v1/indicators/)."),
    )
    carried_from = serializers.SlugRelatedField(
        slug_field="public_id",
        read_only=True,
        help_text=_("The task of the renewed agreement this one carries over."),
    )
    created_at = UTCDateTimeField(read_only=True)
    updated_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "agreement",
            "area",
            "area_number",
            "title",
            "description",
            "responsible",
            "supporting",
            "due_date",
            "recurrence",
            "status",
            "version",
            "percent",
            "indicator",
            "baseline_value",
            "target_value",
            "target_date",
            "carried_from",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "description": {"required": False},
            "due_date": {"required": False},
            "baseline_value": {"required": False},
            "target_value": {"required": False},
            "target_date": {"required": False},
        }


class TaskProgressSerializer(serializers.Serializer):
    percent = serializers.IntegerField(
        allow_null=True, help_text=_("0–100; null when the indicator could not be computed.")
    )
    value = serializers.FloatField(
        allow_null=True, help_text=_("The indicator's value today (indicator tasks).")
    )
    target = serializers.FloatField(allow_null=True)
    source = serializers.CharField(help_text=_("indicator, updates or error."))
    error = serializers.CharField(required=False)


class TaskDetailSerializer(TaskSerializer):
    """A task with its progress and what the user may do with it."""

    progress = serializers.SerializerMethodField()
    may_update = serializers.SerializerMethodField(
        help_text=_("The user may post progress updates on this task.")
    )
    may_move = serializers.SerializerMethodField(
        help_text=_("The user may change this task's status.")
    )

    allowed_actions = serializers.SerializerMethodField(
        help_text=_("The statuses you may move this task to now (the `status` step).")
    )

    class Meta(TaskSerializer.Meta):
        fields = [
            *TaskSerializer.Meta.fields,
            "progress",
            "may_update",
            "may_move",
            "allowed_actions",
        ]

    @extend_schema_field(TaskProgressSerializer)
    def get_progress(self, obj):
        return TaskProgressSerializer(services.task_progress(obj)).data

    def get_may_update(self, obj) -> bool:
        return services.can_update(_user(self), obj)

    def get_may_move(self, obj) -> bool:
        return services.can_move(_user(self), obj)

    def get_allowed_actions(self, obj) -> list[str]:
        return AGREEMENT_TASK.allowed_actions(_user(self), obj)


class TaskStatusSerializer(StepSerializer):
    status = choice_field(Task.Status.choices)


# --- Progress updates ---------------------------------------------------------------------------


class UpdateEvidenceSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    url = serializers.FileField(source="file", read_only=True, use_url=True)

    class Meta:
        model = UpdateEvidence
        fields = ["id", "original_name", "content_type", "url"]


class TaskUpdateSerializer(serializers.ModelSerializer):
    """A progress update (read only: post through a task's `updates`; a correction is a new update
    naming the one it replaces)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    task = serializers.UUIDField(source="task.public_id", read_only=True)
    task_title = serializers.CharField(source="task.title", read_only=True)
    agreement = serializers.CharField(source="task.area.agreement.code", read_only=True)
    organization = serializers.SlugRelatedField(slug_field="code", read_only=True)
    author = serializers.SerializerMethodField()
    corrects = serializers.SlugRelatedField(slug_field="public_id", read_only=True)
    corrected_by = serializers.SerializerMethodField()
    evidence = UpdateEvidenceSerializer(many=True, read_only=True)
    created_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = ProgressUpdate
        fields = [
            "id",
            "task",
            "task_title",
            "agreement",
            "reported_on",
            "organization",
            "author",
            "narrative",
            "percent",
            "corrects",
            "corrected_by",
            "evidence",
            "created_at",
        ]
        read_only_fields = fields

    def get_author(self, obj) -> str | None:
        if obj.author_id is None:
            return None
        return obj.author.get_full_name() or obj.author.username

    @extend_schema_field(OpenApiTypes.UUID)
    def get_corrected_by(self, obj):
        try:
            return str(obj.correction.public_id)
        except ProgressUpdate.DoesNotExist:
            return None


class TaskUpdateInputSerializer(serializers.Serializer):
    """An update on a task (JSON, or multipart with evidence files)."""

    reported_on = serializers.DateField(help_text=_("Date of the update (not in the future)."))
    narrative = serializers.CharField(
        allow_blank=True, trim_whitespace=False, help_text=_("What was done.")
    )
    percent = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=_("0–100, for tasks without an indicator."),
    )
    organization = OrganizationField(
        required=False,
        allow_null=True,
        help_text=_("The party reporting (officials only; otherwise your organisation)."),
    )
    corrects = CorrectedUpdateField(
        required=False,
        allow_null=True,
        help_text=_("Id of the update of this task that this one replaces."),
    )
    evidence = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        help_text=_("PDF, JPEG or PNG files (checked by content)."),
    )


# --- Meetings -----------------------------------------------------------------------------------


class MeetingDecisionSerializer(serializers.ModelSerializer):
    task = serializers.SlugRelatedField(slug_field="public_id", read_only=True)

    class Meta:
        model = Decision
        fields = ["id", "text", "task", "created_task"]


class MeetingSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    agreement = serializers.SlugRelatedField(slug_field="code", read_only=True)
    present = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    decisions = MeetingDecisionSerializer(many=True, read_only=True)
    created_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = Meeting
        fields = [
            "id",
            "agreement",
            "held_on",
            "title",
            "present",
            "minutes",
            "decisions",
            "created_at",
        ]


class MeetingDecisionChangesSerializer(serializers.Serializer):
    due_date = serializers.DateField(required=False, allow_null=True)
    status = choice_field(Task.Status.choices, required=False)


class MeetingDecisionInputSerializer(serializers.Serializer):
    """A decision: text, and either a task it changes (``task`` with ``changes``) or a task it
    creates (``new_task``, the fields of a task)."""

    text = serializers.CharField(allow_blank=True)
    task = TaskField(required=False, allow_null=True, help_text=_("Id of the task it changes."))
    changes = MeetingDecisionChangesSerializer(required=False)
    new_task = TaskSerializer(required=False, help_text=_("The task it creates."))


class MeetingInputSerializer(serializers.Serializer):
    agreement = AgreementField(help_text=_("The agreement's code or id."))
    held_on = serializers.DateField()
    title = serializers.CharField(max_length=255, allow_blank=True)
    present = OrganizationField(many=True, help_text=_("Codes of the parties present."))
    minutes = serializers.CharField(required=False, allow_blank=True, default="")
    decisions = MeetingDecisionInputSerializer(many=True, required=False, default=list)


# --- Indicators ---------------------------------------------------------------------------------


class IndicatorSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField()
    unit_label = serializers.CharField()
    description = serializers.CharField()
    dimensions = serializers.ListField(
        child=serializers.CharField(), help_text=_("Values of `by` for a breakdown.")
    )
    app = serializers.CharField(help_text=_("The app that computes it."))


class IndicatorQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(
        required=False, allow_null=True, help_text=_("The cut-off date (today if left out).")
    )
    start = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=_("First day of the period, for flows (since the beginning if left out)."),
    )
    by = serializers.CharField(
        required=False, allow_blank=True, help_text=_("One of the indicator's dimensions.")
    )

    def validate(self, attrs):
        indicator = self.context["indicator"]
        by = attrs.get("by") or None
        if by is not None and by not in indicator.dimensions:
            choices = ", ".join(indicator.dimensions) or _("none")
            raise serializers.ValidationError(
                {
                    "by": [
                        _("“%(by)s” is not a dimension of this indicator (%(choices)s).")
                        % {"by": by, "choices": choices}
                    ]
                }
            )
        start, as_of = attrs.get("start"), attrs.get("as_of")
        if start and as_of and start > as_of:
            raise serializers.ValidationError(
                {"start": [_("The period cannot start after its cut-off date.")]}
            )
        attrs["by"] = by
        return attrs


@extend_schema_field(
    {
        "oneOf": [
            {"type": "number", "nullable": True},
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "key": {"type": "string"},
                        "label": {"type": "string"},
                        "value": {"type": "number", "nullable": True},
                    },
                },
            },
        ],
        "description": "A number, or rows {key, label, value} with `by`.",
    }
)
class IndicatorValueField(serializers.JSONField):
    pass


class IndicatorValueSerializer(IndicatorSerializer):
    as_of = serializers.DateField()
    start = serializers.DateField(allow_null=True)
    by = serializers.CharField(allow_null=True)
    value = IndicatorValueField()
