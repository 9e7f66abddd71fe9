"""Serializers of the reports API.

They check types only (an agency that exists, a report the user may see, a period written as text);
the rules (registered indicators and breakdowns in the sections, a closed period, who may run,
approve or submit) live in reports.services, which every write goes through.
"""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.fields import CodeField, ScopedCodeField, UTCDateTimeField
from core.models import Organization
from reports import periods, selectors
from reports.models import PeriodType, ReportDefinition, ReportRun

# --- Fields ---------------------------------------------------------------------------------------------


class AgencyField(CodeField):
    default_error_messages = {"does_not_exist": _("Unknown agency code “{value}”.")}

    def __init__(self, **kwargs):
        super().__init__(
            queryset=Organization.objects.filter(kind=Organization.Kind.AGENCY), **kwargs
        )


@extend_schema_field(OpenApiTypes.STR)
class DefinitionField(ScopedCodeField):
    """A report definition among those the user may see, given by its code or its public id;
    shown by its code."""

    model = ReportDefinition
    selector = staticmethod(selectors.definitions)
    default_error_messages = {
        "does_not_exist": _("Unknown report “{value}”."),
        "invalid": _("Give the report's code or id."),
    }


@extend_schema_field(
    {
        "type": "string",
        "description": "One of: " + ", ".join(ReportRun.Status.values) + ".",
    }
)
class RunStatusField(serializers.ChoiceField):
    """The run's status. Documented as a string listing its values: as an enum it would collide
    with other apps' ``status`` enums."""

    def __init__(self, **kwargs):
        super().__init__(choices=ReportRun.Status.choices, **kwargs)


class ReportSectionSerializer(serializers.Serializer):
    """One section of a report (documentation of ``sections``; reports.services checks them)."""

    title = serializers.CharField()
    indicators = serializers.ListField(
        child=serializers.CharField(), help_text=_("Keys of registered indicators.")
    )
    by = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=_("A dimension every indicator of the section offers (e.g. operator), or empty."),
    )


@extend_schema_field(ReportSectionSerializer(many=True))
class SectionsField(serializers.JSONField):
    """The sections as sent: their content is checked by reports.services (registered indicators,
    breakdowns they offer), whose messages name the section and the indicator."""


# --- Definitions ------------------------------------------------------------------------------------------


class ReportDefinitionSerializer(serializers.ModelSerializer):
    """A periodic report: its recipient agency, period, data cut-off, deadline and sections."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    recipient = AgencyField(help_text=_("Code of the recipient agency."))
    period_type = serializers.ChoiceField(choices=PeriodType.choices)
    sections = SectionsField()
    latest_closed_period = serializers.SerializerMethodField(
        help_text=_("The latest period whose data cut-off has passed (e.g. 2026-Q3).")
    )
    created_at = UTCDateTimeField(read_only=True)
    updated_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = ReportDefinition
        fields = [
            "id",
            "code",
            "name",
            "recipient",
            "period_type",
            "cutoff_day",
            "deadline_days",
            "heading",
            "intro",
            "sections",
            "active",
            "latest_closed_period",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "code": {"validators": []},  # uniqueness is the service's business
            "cutoff_day": {"required": False},
            "deadline_days": {"required": False},
            "heading": {"required": False},
            "intro": {"required": False},
            "active": {"required": False},
        }
        validators = []

    def get_latest_closed_period(self, obj) -> str:
        return periods.latest_closed(obj.period_type, timezone.localdate(), obj.cutoff_day).key


# --- Runs ---------------------------------------------------------------------------------------------------


class ReportBreakdownItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    value = serializers.FloatField(allow_null=True)


class ReportSnapshotRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text=_("The indicator's key."))
    label = serializers.CharField()
    unit = serializers.CharField(help_text=_("count, km, percent, days or hours."))
    unit_label = serializers.CharField()
    value = serializers.FloatField(allow_null=True, help_text=_("As of the cut-off."))
    previous = serializers.FloatField(allow_null=True, help_text=_("The previous period's."))
    last_year = serializers.FloatField(allow_null=True, help_text=_("The same period last year's."))
    breakdown = ReportBreakdownItemSerializer(many=True)


class ReportSnapshotSectionSerializer(serializers.Serializer):
    title = serializers.CharField()
    by = serializers.CharField(help_text=_("The breakdown's dimension, or empty."))
    rows = ReportSnapshotRowSerializer(many=True)


class ReportSnapshotSerializer(serializers.Serializer):
    """The values of a run, frozen when it was computed."""

    report = serializers.CharField()
    heading = serializers.CharField()
    intro = serializers.CharField()
    recipient = serializers.CharField()
    period = serializers.CharField()
    period_key = serializers.CharField()
    start = serializers.DateField()
    cutoff = serializers.DateField()
    previous = serializers.CharField(help_text=_("The previous period's label."))
    last_year = serializers.CharField(help_text=_("The same period last year's label."))
    computed_at = serializers.DateTimeField()
    sections = ReportSnapshotSectionSerializer(many=True)


class ReportRunSerializer(serializers.ModelSerializer):
    """A report for one period: its status (with progress while it runs, the reason when it
    failed), review, approval and submission; ``xlsx`` and ``pdf`` link to its files."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    definition = serializers.SlugRelatedField(slug_field="code", read_only=True)
    report = serializers.CharField(source="definition.name", read_only=True)
    recipient = serializers.CharField(source="definition.recipient.code", read_only=True)
    period = serializers.CharField(source="period_key", read_only=True)
    status = RunStatusField(read_only=True)
    overdue = serializers.SerializerMethodField(
        help_text=_("Not submitted and the submission deadline has passed.")
    )
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    approved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    requested_at = UTCDateTimeField(source="created_at", read_only=True)
    started_at = UTCDateTimeField(read_only=True)
    finished_at = UTCDateTimeField(read_only=True)
    approved_at = UTCDateTimeField(read_only=True)
    submitted_at = UTCDateTimeField(read_only=True)
    xlsx = serializers.SerializerMethodField(help_text=_("Download link (null until computed)."))
    pdf = serializers.SerializerMethodField(help_text=_("Download link (null until computed)."))

    class Meta:
        model = ReportRun
        fields = [
            "id",
            "definition",
            "report",
            "recipient",
            "period",
            "period_label",
            "period_start",
            "cutoff",
            "deadline",
            "status",
            "progress",
            "error",
            "attempts",
            "overdue",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
            "approved_by",
            "approved_at",
            "submitted_at",
            "xlsx",
            "pdf",
            "version",
        ]
        read_only_fields = fields

    def get_overdue(self, obj) -> bool:
        return obj.status != ReportRun.Status.SUBMITTED and obj.deadline < timezone.localdate()

    def _link(self, obj, kind):
        if not getattr(obj, kind):
            return None
        url = reverse(f"report-run-{kind}", kwargs={"public_id": obj.public_id})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_xlsx(self, obj) -> str | None:
        return self._link(obj, "xlsx")

    def get_pdf(self, obj) -> str | None:
        return self._link(obj, "pdf")


class ReportRunDetailSerializer(ReportRunSerializer):
    """A run with its values (``snapshot``, null until computed)."""

    snapshot = serializers.SerializerMethodField()

    class Meta(ReportRunSerializer.Meta):
        fields = [*ReportRunSerializer.Meta.fields, "snapshot"]
        read_only_fields = fields

    @extend_schema_field(ReportSnapshotSerializer(allow_null=True))
    def get_snapshot(self, obj):
        return obj.snapshot


class NewReportRunSerializer(serializers.Serializer):
    """Ask for a report's run for a period (one run per report and period)."""

    definition = DefinitionField(help_text=_("The report's code or id."))
    period = serializers.CharField(
        max_length=16,
        help_text=_("The period: 2026-11 (month), 2026-Q4, 2026-H2 or 2026, as the report runs."),
    )


VERSION_HELP = _(
    "The version of the record as you last read it: if someone changed it since, the answer is 409."
)


class RunStepSerializer(serializers.Serializer):
    """The body of a run's step (approve, submit, recompute, retry): optionally, the version its
    caller read."""

    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)
