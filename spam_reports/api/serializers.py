"""Serializers of the spam_reports API.

They check types only (choices, codes that exist, dates, numbers in range, one form of report or the
other); reading senders and recipients, the future / duplicate checks, who may do what and which
status change is allowed live in spam_reports.services, which every write goes through.

Content is returned exactly as it was stored: JSON carries it as a string, and whoever shows it in a
page escapes it there (the portal's templates do).
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import ISO_8601

from core.api.fields import OperatorField, OrganizationField
from core.models import ImportJob
from spam_reports import rules, selectors, services, workflows
from spam_reports.models import (
    Channel,
    DoNotCallEntry,
    Evidence,
    InspectionFollowUp,
    OperatorAction,
    Origin,
    SpamCase,
    SpamReport,
    SubscriberInspection,
)

VERSION_HELP = _(
    "The record's version as you last read it: if someone changed it since, the answer is 409."
)


class VersionSerializer(serializers.Serializer):
    """A step's body: the version the client read (left out: the step applies to the record as it
    is now)."""

    version = serializers.IntegerField(required=False, min_value=1, help_text=VERSION_HELP)


TIME_FORMATS = [ISO_8601, "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M"]
INT_MAX = 2_147_483_647


def _choices_text(values):
    return {"type": "string", "description": "One of: " + ", ".join(values) + "."}


# Status fields are documented as strings listing their values: several models of this app (and
# other apps) have a ``status`` with different choices, which would collide as OpenAPI enums.
def choice_field(choices, **kwargs):
    """A ChoiceField documented as a string listing its values (for choices whose field name
    another serializer uses with other values: ``outcome``, ``origin``)."""
    values = [value for value, _label in choices]
    field_class = extend_schema_field(_choices_text(values))(
        type("DocumentedChoiceField", (serializers.ChoiceField,), {})
    )
    return field_class(choices=choices, **kwargs)


@extend_schema_field(_choices_text(SpamCase.Status.values))
class CaseStatusField(serializers.CharField):
    pass


@extend_schema_field(_choices_text(SpamReport.Status.values))
class ReportStatusField(serializers.CharField):
    pass


@extend_schema_field(_choices_text(SubscriberInspection.Status.values))
class InspectionStatusField(serializers.CharField):
    pass


@extend_schema_field(_choices_text(ImportJob.Status.values))
class ImportStatusField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "nullable": True})
class UserNameField(serializers.Field):
    """A user shown by name (read only)."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return value.get_full_name() or value.username


class FlagSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=list(rules.RULES))
    label = serializers.CharField()
    basis = serializers.CharField(help_text=_("The rule of Decree 91/2020/NĐ-CP it applies."))


def flag_details(codes):
    return [
        {
            "code": code,
            "label": str(rules.RULES[code]["label"]),
            "basis": str(rules.RULES[code]["basis"]),
        }
        for code in codes
        if code in rules.RULES
    ]


# --- Reports -------------------------------------------------------------------------------------


class EvidenceSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Evidence
        fields = ["id", "original_name", "content_type", "size", "created_at"]


class ReportSerializer(serializers.ModelSerializer):
    """One complaint: the sender and recipient as reported and as read, the content as given."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    case = serializers.SlugRelatedField(
        slug_field="public_id", read_only=True, help_text=_("Public id of the sender's case.")
    )
    sender_operator = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text=_("The sender's operator (code).")
    )
    recipient_operator = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text=_("The recipient's operator (code).")
    )
    reporting_organization = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text=_("The organisation that filed it (code).")
    )
    origin = choice_field(Origin.choices, read_only=True)
    status = ReportStatusField(read_only=True)

    class Meta:
        model = SpamReport
        fields = [
            "id",
            "case",
            "channel",
            "sender_raw",
            "sender",
            "sender_kind",
            "sender_operator",
            "recipient_raw",
            "recipient",
            "recipient_operator",
            "content",
            "received_at",
            "origin",
            "status",
            "invalid_reason",
            "reporting_organization",
            "source",
            "external_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ReportDetailSerializer(ReportSerializer):
    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta(ReportSerializer.Meta):
        fields = [*ReportSerializer.Meta.fields, "evidence"]
        read_only_fields = fields


class ReportInputSerializer(serializers.Serializer):
    """A complaint, in one of two forms: the fields (``channel``, ``sender``, ``recipient``,
    ``content``, ``received_at`` …), or a message sent to 5656 (``message`` "S <sender> <content>" or
    "V <sender> <content>", from the subscriber ``reporter``)."""

    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    sender = serializers.CharField(
        max_length=254,
        required=False,
        help_text=_(
            "As reported: a phone number (0912 345 678, +84912345678), a short code, an SMS "
            "brandname or an e-mail address."
        ),
    )
    recipient = serializers.CharField(
        max_length=254,
        required=False,
        allow_blank=True,
        help_text=_("The recipient's phone number (e-mail address on the e-mail channel)."),
    )
    content = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text=_("The message as received (stored as given). Required for SMS and e-mail."),
    )
    received_at = serializers.DateTimeField(
        input_formats=TIME_FORMATS,
        help_text=_("ISO 8601, or dd/mm/yyyy hh:mm[:ss] in Hanoi time. Not in the future."),
    )
    recipient_operator = OperatorField(
        required=False,
        allow_null=True,
        help_text=_("The recipient's operator (code); found from the number if left out."),
    )
    external_id = serializers.CharField(
        max_length=128,
        required=False,
        allow_blank=True,
        help_text=_("Your own id of the complaint: sent twice, it is refused the second time."),
    )
    message = serializers.CharField(
        max_length=services.CONTENT_MAX + 300,
        required=False,
        trim_whitespace=False,
        help_text=_(
            "A 5656 message: “S <sender> <content>” (SMS) or “V <sender> <content>” (call)."
        ),
    )
    reporter = serializers.CharField(
        max_length=254,
        required=False,
        allow_blank=True,
        help_text=_("With ``message``: the subscriber who sent it to 5656."),
    )
    evidence = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        max_length=10,
        help_text=_("Screenshots, recordings or documents (JPEG, PNG, PDF, MP3, WAV; multipart)."),
    )

    FIELDS_FORM = ("channel", "sender", "recipient", "content")
    FORM_5656 = ("message", "reporter")

    def validate(self, attrs):
        if "message" in attrs:
            mixed = [f for f in self.FIELDS_FORM if attrs.get(f) not in (None, "")]
            if mixed:
                raise serializers.ValidationError(
                    {
                        f: [_("Send either a 5656 message or the report's fields, not both.")]
                        for f in mixed
                    }
                )
        else:
            errors = {
                f: [_("This field is required.")]
                for f in ("channel", "sender")
                if attrs.get(f) in (None, "")
            }
            if attrs.get("reporter"):
                errors["reporter"] = [_("Give the reporter with a 5656 message only.")]
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


class EvidenceUploadSerializer(serializers.Serializer):
    evidence = serializers.ListField(
        child=serializers.FileField(),
        min_length=1,
        max_length=10,
        help_text=_("One or more files (JPEG, PNG, PDF, MP3, WAV), checked by their content."),
    )


class MarkReportSerializer(serializers.Serializer):
    valid = serializers.BooleanField(help_text=_("true: verified; false: invalid."))
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=255,
        help_text=_("Why the report is invalid (required then)."),
    )


# --- Cases and assignments -----------------------------------------------------------------------


class ActionSerializer(serializers.ModelSerializer):
    """A case assigned to an operator with a deadline, and the operator's answer."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    case = serializers.SlugRelatedField(slug_field="public_id", read_only=True)
    sender = serializers.CharField(source="case.sender", read_only=True)
    case_status = CaseStatusField(source="case.status", read_only=True)
    operator = serializers.SlugRelatedField(slug_field="code", read_only=True)
    assigned_by = UserNameField()
    responded_by = UserNameField()
    overdue = serializers.BooleanField(
        source="is_overdue", read_only=True, help_text=_("Past its deadline (or answered late).")
    )
    outcome = choice_field(OperatorAction.Outcome.choices, read_only=True)
    handling_hours = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = OperatorAction
        fields = [
            "id",
            "case",
            "sender",
            "case_status",
            "operator",
            "assigned_by",
            "assigned_at",
            "sla_hours",
            "deadline",
            "instructions",
            "outcome",
            "response_note",
            "responded_by",
            "responded_at",
            "overdue",
            "overdue_at",
            "handling_hours",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CaseSerializer(serializers.ModelSerializer):
    """One offending sender and the counts of the reports that name it."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    operator = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text=_("The sender's operator (code).")
    )
    status = CaseStatusField(read_only=True)
    flags = serializers.SerializerMethodField(
        help_text=_("The Decree 91 rules the case's reports breach.")
    )

    class Meta:
        model = SpamCase
        fields = [
            "id",
            "sender",
            "sender_kind",
            "operator",
            "channel",
            "status",
            "flags",
            "report_count",
            "first_seen_at",
            "last_seen_at",
            "confirmed_at",
            "closed_at",
            "note",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(FlagSerializer(many=True))
    def get_flags(self, obj):
        return flag_details(obj.flags)


class ChannelCountSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    reports = serializers.IntegerField()


class DayCountSerializer(serializers.Serializer):
    day = serializers.DateField()
    reports = serializers.IntegerField()
    recipients = serializers.IntegerField()


class BreakdownSerializer(serializers.Serializer):
    per_channel = ChannelCountSerializer(many=True)
    per_day = DayCountSerializer(many=True, help_text=_("Hanoi days, newest first (at most 60)."))


class CaseDetailSerializer(CaseSerializer):
    """A case with its reports counted per channel and per day, its assignments and the status
    changes the user may make."""

    breakdown = BreakdownSerializer(read_only=True)
    actions = ActionSerializer(many=True, read_only=True)
    allowed_moves = serializers.SerializerMethodField()

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "breakdown", "actions", "allowed_moves"]
        read_only_fields = fields

    def get_allowed_moves(self, obj) -> list[str]:
        request = self.context.get("request")
        return services.allowed_moves(request.user if request else None, obj)


class CaseStatusSerializer(VersionSerializer):
    status = serializers.ChoiceField(
        choices=[(s, SpamCase.Status(s).label) for s in workflows.MOVES]
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text=_("Required to say why a case is not spam."),
    )


class CaseOperatorSerializer(VersionSerializer):
    operator = OperatorField(
        allow_null=True, help_text=_("The sender's operator (code), or null if unknown.")
    )


class AssignSerializer(VersionSerializer):
    operator = OperatorField(
        required=False,
        allow_null=True,
        help_text=_("The operator to handle it (code); the case's operator if left out."),
    )
    sla_hours = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=720,
        help_text=_("Time allowed, in hours; the portal's default if left out."),
    )
    instructions = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000
    )


class RespondSerializer(VersionSerializer):
    outcome = choice_field(OperatorAction.Outcome.choices)
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=5000,
        help_text=_("Required when declining: the reason."),
    )


# --- Inspections ----------------------------------------------------------------------------------


class FollowUpSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    recorded_by = UserNameField()

    class Meta:
        model = InspectionFollowUp
        fields = ["id", "recorded_on", "note", "remedied", "recorded_by", "created_at"]
        read_only_fields = fields


class InspectionSerializer(serializers.ModelSerializer):
    """A subscriber-information inspection of an operator and its follow-up."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    operator = OperatorField(help_text=_("The operator inspected (code)."))
    inspecting_agency = OrganizationField(
        required=False,
        help_text=_("The inspecting agency (code); your own agency if left out."),
    )
    sample_size = serializers.IntegerField(
        min_value=1, max_value=INT_MAX, help_text=_("Subscriptions checked.")
    )
    nonconforming = serializers.IntegerField(
        min_value=0,
        max_value=INT_MAX,
        required=False,
        help_text=_("Subscriptions whose four required fields did not match."),
    )
    nonconforming_pct = serializers.FloatField(read_only=True)
    status = InspectionStatusField(read_only=True)
    follow_ups = FollowUpSerializer(many=True, read_only=True)

    class Meta:
        model = SubscriberInspection
        fields = [
            "id",
            "operator",
            "inspecting_agency",
            "reference",
            "inspected_on",
            "sample_size",
            "nonconforming",
            "nonconforming_pct",
            "findings",
            "actions_required",
            "deadline",
            "status",
            "follow_ups",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["version", "created_at", "updated_at"]
        extra_kwargs = {
            "reference": {"required": False},
            "findings": {"required": False},
            "actions_required": {"required": False},
            "deadline": {"required": False},
        }


class FollowUpInputSerializer(VersionSerializer):
    recorded_on = serializers.DateField(required=False, help_text=_("Today if left out."))
    note = serializers.CharField(max_length=5000, help_text=_("What was done."))
    remedied = serializers.IntegerField(
        min_value=0, max_value=INT_MAX, default=0, help_text=_("Subscriptions corrected.")
    )
    close = serializers.BooleanField(
        default=False, help_text=_("true: the actions required are done (status “remedied”).")
    )


# --- Statistics ------------------------------------------------------------------------------------


class StatisticsQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(
        choices=[(p, p) for p in selectors.PERIODS],
        required=False,
        default="month",
        help_text=_("The day, month, quarter or year that contains ``date``."),
    )
    date = serializers.DateField(required=False, help_text=_("YYYY-MM-DD; today if left out."))
    operator = OperatorField(
        required=False,
        help_text=_("One operator (code); an operator's staff always see their own figures."),
    )
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)


class PeriodSerializer(serializers.Serializer):
    kind = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField(help_text=_("The first day after the period."))


class OperatorCountSerializer(serializers.Serializer):
    operator = serializers.CharField(allow_null=True, help_text=_("Operator code (null: unknown)."))
    operator_name = serializers.CharField(allow_null=True, help_text=_("Its short name."))
    channel = serializers.ChoiceField(choices=Channel.choices)
    received = serializers.IntegerField()
    verified = serializers.IntegerField()
    invalid = serializers.IntegerField()


class HandlingSerializer(serializers.Serializer):
    operator = serializers.CharField(allow_null=True)
    operator_name = serializers.CharField(allow_null=True, help_text=_("Its short name."))
    confirmed = serializers.IntegerField(help_text=_("Cases confirmed as spam."))
    assigned = serializers.IntegerField()
    answered = serializers.IntegerField()
    on_time = serializers.IntegerField()
    late = serializers.IntegerField()
    blocked = serializers.IntegerField(help_text=_("Numbers blocked and brandnames suspended."))
    median_hours = serializers.FloatField(allow_null=True)
    p95_hours = serializers.FloatField(allow_null=True)
    on_time_pct = serializers.FloatField(allow_null=True)


class TrendSerializer(serializers.Serializer):
    day = serializers.DateField()
    received = serializers.IntegerField()
    verified = serializers.IntegerField()
    invalid = serializers.IntegerField()


class TopSenderSerializer(serializers.Serializer):
    case = serializers.UUIDField(help_text=_("Public id of the case."))
    sender = serializers.CharField()
    sender_kind = serializers.CharField()
    status = CaseStatusField()
    flags = serializers.ListField(child=serializers.CharField())
    operator = serializers.CharField(allow_null=True)
    reports = serializers.IntegerField()


class TotalsSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    verified = serializers.IntegerField()
    invalid = serializers.IntegerField()
    confirmed = serializers.IntegerField()
    blocked = serializers.IntegerField()
    assigned = serializers.IntegerField()
    answered = serializers.IntegerField()
    on_time = serializers.IntegerField()
    on_time_pct = serializers.FloatField(allow_null=True)


class StatisticsSerializer(serializers.Serializer):
    period = PeriodSerializer()
    operator = serializers.CharField(allow_null=True)
    channel = serializers.CharField(allow_null=True)
    totals = TotalsSerializer()
    counts = OperatorCountSerializer(many=True)
    handling = HandlingSerializer(many=True)
    trend = TrendSerializer(many=True)
    top_senders = TopSenderSerializer(many=True)


# --- Imports --------------------------------------------------------------------------------------

IMPORT_ORIGINS = [Origin.OPERATOR_FEED, Origin.EXPORT_5656, Origin.OFFICIAL]


DATE_ORDERS = [("dmy", _("day/month/year")), ("mdy", _("month/day/year"))]


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=_(
            "CSV (UTF-8) or XLSX with the columns channel, sender, recipient, content, "
            "received_at [, recipient_operator, external_id], or a 5656 export: reporter, "
            "message, received_at."
        )
    )
    origin = choice_field(
        [(o.value, o.label) for o in IMPORT_ORIGINS],
        required=False,
        help_text=_("Where the file comes from; your operator's feed, or “official”, if left out."),
    )
    date_order = choice_field(
        DATE_ORDERS,
        required=False,
        help_text=_(
            "How the file writes dates: `dmy` (day/month/year) or `mdy`. Left out, a file "
            "that proves month-first, or whose rows disagree, fails saying so; one whose every "
            "date could be either is read day-first and the job's message says so."
        ),
    )

    mapping_name = serializers.CharField(
        required=False,
        max_length=100,
        help_text=_("A column mapping your organisation saved, by its name."),
    )
    mapping = serializers.CharField(
        required=False,
        max_length=10_000,
        help_text=_(
            'Which column feeds which field, as JSON: {"file column": "field"} ("" ignores a '
            "column). Left out, columns are matched by name; extra ones are ignored, and the "
            "job's notices say which."
        ),
    )

    def validate_mapping(self, value):
        import json

        try:
            mapping = json.loads(value)
        except ValueError:
            mapping = None
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise serializers.ValidationError(
                _('Give the mapping as a JSON object: {"file column": "field"}.')
            )
        return mapping


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    column = serializers.CharField(allow_blank=True)
    message = serializers.CharField()
    duplicate = serializers.BooleanField(required=False)


class ImportJobSerializer(serializers.ModelSerializer):
    """An import running in the background: poll it until ``status`` is done or failed."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    status = ImportStatusField(read_only=True)
    percent = serializers.IntegerField(read_only=True)
    origin = serializers.SerializerMethodField()
    errors = ImportRowErrorSerializer(many=True, read_only=True)
    notices = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text=_("What the import noticed: columns ignored, dates read day-first …"),
    )

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "original_name",
            "origin",
            "status",
            "percent",
            "processed",
            "total",
            "created_count",
            "duplicate_count",
            "error_count",
            "errors",
            "notices",
            "message",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_origin(self, obj) -> str | None:
        return (obj.options or {}).get("origin")


# --- Do-not-call list -----------------------------------------------------------------------------


class DoNotCallSerializer(serializers.ModelSerializer):
    class Meta:
        model = DoNotCallEntry
        fields = ["number", "registered_on", "source"]
        read_only_fields = fields


class DoNotCallInputSerializer(serializers.Serializer):
    numbers = serializers.ListField(
        child=serializers.CharField(max_length=32),
        min_length=1,
        max_length=10_000,
        help_text=_("Phone numbers as people write them; stored in E.164."),
    )
    source = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    registered_on = serializers.DateField(required=False, help_text=_("Today if left out."))


class DoNotCallResultSerializer(serializers.Serializer):
    submitted = serializers.IntegerField()
    added = serializers.IntegerField(help_text=_("Numbers not listed before."))
