"""Spam complaints: reports from every channel, cases per offending sender, operators' handling,
subscriber-information inspections, the do-not-call list, and the rollups the statistics read.

SpamReport is the big table (tens of millions of rows): lean columns, only the indexes its queries
use, and no history event on insert (the row is the record; changes and deletions are recorded).
Database triggers (migration 0002) keep, in the same transaction as any insert, update or delete of
reports, however it is made (a form, the API, COPY of an import):
- the case's report count and first / last seen time,
- DailyStat: reports received / verified / invalid per day, sender's operator and channel,
- CaseMonth: reports per case and month (top senders of a month without scanning the month).
"""

from datetime import timedelta

import pghistory
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.fields import CountField, SizeField, SmallCountField
from core.history import track
from core.models import BaseModel, Organization, PublicIdModel, SourceRecordModel, User
from core.text import validate_identifier


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    CALL = "call", _("Voice call")
    EMAIL = "email", _("E-mail")
    OTHER = "other", _("Other app")


class SenderKind(models.TextChoices):
    PHONE = "phone", _("Phone number")
    SHORT_CODE = "short_code", _("Short code")
    BRANDNAME = "brandname", _("SMS brandname")
    EMAIL = "email", _("E-mail address")


class Origin(models.TextChoices):
    PUBLIC_FORM = "public_form", _("Public web form")
    OFFICIAL = "official", _("Entered by an official")
    OPERATOR_FEED = "operator_feed", _("Operator feed")
    EXPORT_5656 = "export_5656", _("5656 export")
    API = "api", _("Agency API")


OPERATOR_LIMIT = {"kind": Organization.Kind.OPERATOR}


# The counters the triggers keep change with every report: they are not history.
COUNTERS = ["report_count", "first_seen_at", "last_seen_at", "updated_at"]


@track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude=COUNTERS)),
    pghistory.DeleteEvent(),
)
class SpamCase(BaseModel):
    """One offending sender (normalised) and the reports that name it, while the case is open."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        VERIFYING = "verifying", _("Under verification")
        CONFIRMED = "confirmed", _("Confirmed spam")
        NOT_SPAM = "not_spam", _("Not spam")
        BLOCKED = "blocked", _("Blocked")
        CLOSED = "closed", pgettext_lazy("case", "Closed")

    # New reports attach to the sender's open case; a closed (or not-spam) case gets a successor.
    OPEN = ("new", "verifying", "confirmed", "blocked")

    sender = models.CharField(_("sender"), max_length=254)
    sender_kind = models.CharField(_("kind of sender"), max_length=16, choices=SenderKind.choices)
    operator = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="spam_cases",
        verbose_name=_("sender's operator"),
        limit_choices_to=OPERATOR_LIMIT,
    )
    channel = models.CharField(
        _("first channel"), max_length=8, choices=Channel.choices, default=Channel.SMS
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW, db_index=True
    )
    flags = ArrayField(
        models.CharField(max_length=32), verbose_name=_("rule flags"), default=list, blank=True
    )
    report_count = CountField(_("reports"), default=0, editable=False, max_value=2_000_000_000)
    first_seen_at = models.DateTimeField(_("first seen"), null=True, blank=True, editable=False)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True, editable=False)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    # Bumped by every move (spam_reports.workflows.SPAM_CASE): a step sent with an older one is
    # refused (someone else moved the case first). The counters the triggers keep never bump it.
    version = CountField(default=1, db_default=1, editable=False, max_value=2_000_000_000)

    scope_field = "operator"

    class Meta:
        verbose_name = _("spam case")
        verbose_name_plural = _("spam cases")
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sender"],
                condition=Q(status__in=("new", "verifying", "confirmed", "blocked")),
                name="spamcase_one_open_case_per_sender",
                violation_error_message=_("This sender already has an open case."),
            )
        ]
        indexes = [
            models.Index(fields=["sender"], name="spamcase_sender_idx"),
            models.Index(fields=["confirmed_at"], name="spamcase_confirmed_idx"),
        ]
        # No index on the counters (report_count, first/last seen): every import chunk updates
        # them, and an unindexed update is a HOT update that touches none of the table's indexes
        # (fillfactor 75, migration 0006). Sorting 500,000 cases by last seen costs ~110 ms.

    def __str__(self):
        return self.sender

    @property
    def is_open(self):
        return self.status in self.OPEN


@track(pghistory.UpdateEvent(), pghistory.DeleteEvent())
class SpamReport(PublicIdModel, SourceRecordModel):
    """One complaint: who received what from whom, when, through which channel and intake."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        VERIFIED = "verified", _("Verified")
        INVALID = "invalid", _("Invalid")

    case = models.ForeignKey(
        SpamCase,
        on_delete=models.PROTECT,
        related_name="reports",
        verbose_name=_("case"),
        db_index=False,
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    sender_raw = models.CharField(_("sender as reported"), max_length=254)
    sender = models.CharField(_("sender"), max_length=254)
    sender_kind = models.CharField(_("kind of sender"), max_length=16, choices=SenderKind.choices)
    sender_operator = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sender's operator"),
        db_index=False,
    )
    recipient_raw = models.CharField(_("recipient as reported"), max_length=254, blank=True)
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    recipient_operator = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recipient's operator"),
        db_index=False,
    )
    content = models.TextField(_("content"), blank=True)
    received_at = models.DateTimeField(_("received at"))
    origin = models.CharField(_("source of the report"), max_length=16, choices=Origin.choices)
    reporting_organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reported by organisation"),
        db_index=False,
    )
    reported_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
        db_index=False,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED
    )
    invalid_reason = models.CharField(_("why invalid"), max_length=255, blank=True)
    status_changed_at = models.DateTimeField(
        _("verified or invalidated at"), null=True, blank=True, editable=False
    )
    fingerprint = models.UUIDField(_("fingerprint"), editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    scope_field = ("sender_operator", "reporting_organization")

    class Meta:
        verbose_name = _("spam report")
        verbose_name_plural = _("spam reports")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="spamreport_source_external_id_uniq",
            ),
            # The same complaint twice: the fingerprint includes the time received, so leading the
            # key with it is the same rule, and new keys land on the index's recent pages instead
            # of random pages of a 10-million-row index.
            models.UniqueConstraint(
                fields=["received_at", "fingerprint"], name="spamreport_fingerprint_uniq"
            ),
            models.CheckConstraint(
                condition=Q(received_at__lte=F("created_at") + timedelta(minutes=5)),
                name="spamreport_not_in_future",
                violation_error_message=_("The time received cannot be in the future."),
            ),
        ]
        indexes = [
            # Carries the case and the operator: a day's top senders is an index-only scan.
            models.Index(
                fields=["-received_at", "-id"],
                include=["case_id", "sender_operator_id"],
                name="spamreport_received_idx",
            ),
            models.Index(
                fields=["case", "recipient", "received_at"], name="spamreport_case_recipient_idx"
            ),
            # A subscriber's complaints; a sender's go through its cases (indexed on sender).
            models.Index(
                fields=["recipient"],
                condition=~Q(recipient=""),
                name="spamreport_recipient_idx",
            ),
        ]

    def __str__(self):
        return f"{self.sender} → {self.recipient or '—'}"


class Evidence(BaseModel):
    """A screenshot, recording or document attached to a report (content-checked, size-limited)."""

    report = models.ForeignKey(
        SpamReport, on_delete=models.CASCADE, related_name="evidence", verbose_name=_("report")
    )
    file = models.FileField(_("file"), upload_to="spam/evidence/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=64)
    size = SizeField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("uploaded by")
    )

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")
        ordering = ["id"]

    def __str__(self):
        return self.original_name


@track()
class OperatorAction(BaseModel):
    """A case assigned to the sender's operator with a deadline, and what the operator did."""

    class Outcome(models.TextChoices):
        VERIFIED = "verified", _("Verified as spam")
        BLOCKED_NUMBER = "blocked_number", _("Blocked the number")
        SUSPENDED_BRANDNAME = "suspended_brandname", _("Suspended the brandname")
        DECLINED = "declined", _("Declined")

    BLOCKING = ("blocked_number", "suspended_brandname")

    case = models.ForeignKey(
        SpamCase, on_delete=models.CASCADE, related_name="actions", verbose_name=_("case")
    )
    operator = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="spam_actions",
        verbose_name=_("operator"),
        limit_choices_to=OPERATOR_LIMIT,
    )
    assigned_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("assigned by")
    )
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)
    sla_hours = SmallCountField(_("time allowed (hours)"), min_value=1, max_value=720)
    deadline = models.DateTimeField(_("deadline"))
    instructions = models.TextField(_("instructions"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=24, choices=Outcome.choices, blank=True)
    response_note = models.TextField(_("operator's note"), blank=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    responded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("responded by")
    )
    overdue_at = models.DateTimeField(
        _("flagged overdue at"), null=True, blank=True, editable=False
    )
    # Bumped by the answer (spam_reports.workflows.SPAM_ASSIGNMENT).
    version = CountField(default=1, db_default=1, editable=False, max_value=2_000_000_000)

    scope_field = "operator"

    class Meta:
        verbose_name = _("operator assignment")
        verbose_name_plural = _("operator assignments")
        ordering = ["-assigned_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(outcome=""),
                name="operatoraction_one_pending_per_case",
                violation_error_message=_("The case is already assigned and awaiting an answer."),
            ),
            models.CheckConstraint(
                condition=Q(deadline__gt=F("assigned_at")), name="operatoraction_deadline_after"
            ),
            models.CheckConstraint(
                condition=Q(outcome="", responded_at__isnull=True)
                | (~Q(outcome="") & Q(responded_at__isnull=False)),
                name="operatoraction_outcome_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["assigned_at"], name="operatoraction_assigned_idx"),
            models.Index(fields=["responded_at"], name="operatoraction_responded_idx"),
            models.Index(
                fields=["deadline"], condition=Q(outcome=""), name="operatoraction_pending_idx"
            ),
        ]

    def __str__(self):
        return f"{self.case} → {self.operator}"

    @property
    def is_pending(self):
        return not self.outcome

    @property
    def is_overdue(self):
        if self.outcome:
            return self.responded_at > self.deadline
        return timezone.now() > self.deadline

    @property
    def handling_hours(self):
        if not self.responded_at:
            return None
        return (self.responded_at - self.assigned_at).total_seconds() / 3600


class DoNotCallEntry(models.Model):
    """A number registered on the do-not-call list ("Danh sách không quảng cáo")."""

    number = models.CharField(_("number"), max_length=20, unique=True)
    registered_on = models.DateField(_("registered on"), default=timezone.localdate)
    source = models.CharField(
        _("source"), max_length=64, blank=True, validators=[validate_identifier]
    )

    class Meta:
        verbose_name = _("do-not-call entry")
        verbose_name_plural = _("do-not-call list")
        ordering = ["number"]

    def __str__(self):
        return self.number


@track()
class SubscriberInspection(BaseModel):
    """An inspection of an operator's subscriber information: the sample checked, the subscriptions
    whose four required fields did not match, the actions required and their deadline."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        REMEDIED = "remedied", _("Remedied")
        CLOSED = "closed", pgettext_lazy("case", "Closed")

    operator = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="subscriber_inspections",
        verbose_name=_("operator"),
        limit_choices_to=OPERATOR_LIMIT,
    )
    inspecting_agency = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("inspecting agency"),
        limit_choices_to={"kind": Organization.Kind.AGENCY},
    )
    reference = models.CharField(
        _("record number"), max_length=100, blank=True, validators=[validate_identifier]
    )
    inspected_on = models.DateField(_("inspected on"))
    sample_size = CountField(_("subscriptions checked"), min_value=1, max_value=100_000_000)
    nonconforming = CountField(_("subscriptions not matching"), default=0, max_value=100_000_000)
    findings = models.TextField(_("findings"), blank=True)
    actions_required = models.TextField(_("actions required"), blank=True)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    overdue_notified_on = models.DateField(null=True, blank=True, editable=False)
    # Bumped by every move (spam_reports.workflows.SPAM_INSPECTION).
    version = CountField(default=1, db_default=1, editable=False, max_value=2_000_000_000)

    scope_field = "operator"

    class Meta:
        verbose_name = _("subscriber-information inspection")
        verbose_name_plural = _("subscriber-information inspections")
        ordering = ["-inspected_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(nonconforming__lte=F("sample_size")),
                name="inspection_nonconforming_within_sample",
                violation_error_message=_("More subscriptions not matching than were checked."),
            ),
            models.CheckConstraint(
                condition=Q(deadline__isnull=True) | Q(deadline__gte=F("inspected_on")),
                name="inspection_deadline_after_inspection",
                violation_error_message=_("The deadline cannot be before the inspection."),
            ),
        ]

    def __str__(self):
        return f"{self.operator} · {self.inspected_on:%d/%m/%Y}"

    @property
    def nonconforming_pct(self):
        return round(100 * self.nonconforming / self.sample_size, 1) if self.sample_size else 0


@track()
class InspectionFollowUp(BaseModel):
    inspection = models.ForeignKey(
        SubscriberInspection,
        on_delete=models.CASCADE,
        related_name="follow_ups",
        verbose_name=_("inspection"),
    )
    recorded_on = models.DateField(_("date"))
    note = models.TextField(_("what was done"))
    remedied = CountField(_("subscriptions corrected"), default=0, max_value=100_000_000)
    recorded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("recorded by")
    )

    scope_field = "inspection__operator"

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["recorded_on", "id"]

    def __str__(self):
        return f"{self.inspection} · {self.recorded_on:%d/%m/%Y}"


# --- Rollups kept by triggers (see the module docstring); never written by the application -------


class DailyStat(models.Model):
    day = models.DateField()
    operator = models.ForeignKey(
        Organization, on_delete=models.DO_NOTHING, null=True, related_name="+", db_index=False
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    received = models.IntegerField(default=0)
    verified = models.IntegerField(default=0)
    invalid = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "operator", "channel"],
                nulls_distinct=False,
                name="spam_dailystat_key",
            )
        ]

    def __str__(self):
        return f"{self.day} {self.operator_id} {self.channel}: {self.received}"


class CaseMonth(models.Model):
    month = models.DateField()
    case = models.ForeignKey(SpamCase, on_delete=models.CASCADE, related_name="+", db_index=False)
    reports = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "month"], name="spam_casemonth_key")]
        indexes = [models.Index(fields=["month", "-reports"], name="spam_casemonth_top_idx")]

    def __str__(self):
        return f"{self.month} {self.case_id}: {self.reports}"
