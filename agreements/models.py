"""Inter-agency coordination programmes: the parties and what each committed to, content areas,
tasks (with a due date or a recurrence, and optionally a target on a registered indicator whose
progress is computed from live data), append-only progress updates, and meetings whose decisions
create or update tasks."""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fields import CountField, PercentField, RangedDecimalField, SmallCountField
from core.history import track
from core.models import BaseModel, Organization, User
from core.text import validate_identifier


@track()
class Agreement(BaseModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_FORCE = "in_force", _("In force")
        EXPIRED = "expired", _("Expired")
        RENEWED = "renewed", _("Renewed")

    code = models.CharField(_("code"), max_length=50, unique=True, validators=[validate_identifier])
    title = models.CharField(_("title"), max_length=500)
    summary = models.TextField(_("summary"), blank=True)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    document = models.FileField(_("signed document (PDF)"), upload_to="agreements/", blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    # Bumped by every move of agreements.workflows.AGREEMENT: a step sent with an older one is stale.
    version = CountField(default=1, editable=False, max_value=2_000_000_000)
    predecessor = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="successor",
        verbose_name=_("renews"),
    )
    renewal_notified_on = models.DateField(null=True, blank=True, editable=False)

    scope_field = "parties__organization"

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        ordering = ["-period_start", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="agreement_period_ordered",
                violation_error_message=_("The period cannot end before it starts."),
            )
        ]

    def __str__(self):
        return f"{self.code} · {self.title}"

    @property
    def days_left(self):
        return (self.period_end - timezone.localdate()).days


class AgreementParty(models.Model):
    """A party as it signed: the organisation of the day (reports also show its successor)."""

    class Role(models.TextChoices):
        LEAD = "lead", _("Lead party")
        PARTY = "party", _("Party")
        OBSERVER = "observer", _("Observer")

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="parties", verbose_name=_("agreement")
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("organisation")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.PARTY)
    signatory = models.CharField(_("signatory"), max_length=255, blank=True)
    signatory_title = models.CharField(_("signatory's title"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        ordering = ["agreement_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "organization"], name="agreementparty_unique"
            )
        ]

    def __str__(self):
        return str(self.organization)


@track()
class ContentArea(BaseModel):
    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="areas", verbose_name=_("agreement")
    )
    number = SmallCountField(_("number"), min_value=1)
    title = models.CharField(_("title"), max_length=500)
    description = models.TextField(_("description"), blank=True)

    scope_field = "agreement__parties__organization"

    class Meta:
        verbose_name = _("content area")
        verbose_name_plural = _("content areas")
        ordering = ["agreement_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "number"], name="contentarea_number_unique"
            )
        ]

    def __str__(self):
        return f"({self.number}) {self.title}"


@track()
class Task(BaseModel):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        OVERDUE = "overdue", _("Overdue")
        DROPPED = "dropped", _("Dropped")

    class Recurrence(models.TextChoices):
        NONE = "", _("Once")
        MONTHLY = "monthly", _("Monthly")
        QUARTERLY = "quarterly", _("Quarterly")
        HALF_YEARLY = "half_yearly", _("Half-yearly")
        YEARLY = "yearly", _("Yearly")

    OPEN = ("not_started", "in_progress", "overdue")

    area = models.ForeignKey(
        ContentArea, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("content area")
    )
    title = models.CharField(_("task"), max_length=500)
    description = models.TextField(_("description"), blank=True)
    responsible = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="agreement_tasks",
        verbose_name=_("responsible party"),
    )
    supporting = models.ManyToManyField(
        Organization, blank=True, related_name="+", verbose_name=_("supporting parties")
    )
    due_date = models.DateField(_("due date"), null=True, blank=True, db_index=True)
    recurrence = models.CharField(
        _("recurrence"), max_length=16, choices=Recurrence.choices, blank=True, default=""
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=Status.choices,
        default=Status.NOT_STARTED,
        db_index=True,
    )
    # Bumped by every move of agreements.workflows.AGREEMENT_TASK: a move sent with an older one is
    # stale.
    version = CountField(default=1, editable=False, max_value=2_000_000_000)
    percent = PercentField(
        _("progress (%)"),
        default=0,
        help_text=_("From the latest update, for tasks without an indicator."),
    )
    indicator = models.CharField(_("indicator"), max_length=100, blank=True)
    baseline_value = RangedDecimalField(
        _("baseline value"),
        max_digits=14,
        decimal_places=3,
        null=True,
        blank=True,
        min_value=-10_000_000_000,
        max_value=10_000_000_000,
    )
    target_value = RangedDecimalField(
        _("target value"),
        max_digits=14,
        decimal_places=3,
        null=True,
        blank=True,
        min_value=-10_000_000_000,
        max_value=10_000_000_000,
    )
    target_date = models.DateField(_("target date"), null=True, blank=True)
    reminded_on = models.DateField(null=True, blank=True, editable=False)
    carried_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("carried over from"),
    )

    scope_field = "area__agreement__parties__organization"

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["area_id", "due_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(indicator="") | Q(target_value__isnull=False),
                name="task_indicator_has_target",
                violation_error_message=_("A task measured by an indicator needs a target value."),
            ),
            models.CheckConstraint(condition=Q(percent__lte=100), name="task_percent_at_most_100"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self):
        return self.status in self.OPEN


@track()
class ProgressUpdate(BaseModel):
    """Append-only: a mistake is fixed by a new update that names the one it corrects."""

    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="updates", verbose_name=_("task")
    )
    reported_on = models.DateField(_("date"))
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("party")
    )
    author = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("author")
    )
    narrative = models.TextField(_("what was done"))
    percent = PercentField(_("progress (%)"), null=True, blank=True)
    corrects = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="correction",
        verbose_name=_("corrects"),
    )

    scope_field = "task__area__agreement__parties__organization"

    class Meta:
        verbose_name = _("progress update")
        verbose_name_plural = _("progress updates")
        ordering = ["-reported_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__isnull=True) | Q(percent__lte=100),
                name="agreement_update_percent_range",
            )
        ]

    def __str__(self):
        return f"{self.task} · {self.reported_on:%d/%m/%Y}"


class UpdateEvidence(BaseModel):
    update = models.ForeignKey(
        ProgressUpdate, on_delete=models.CASCADE, related_name="evidence", verbose_name=_("update")
    )
    file = models.FileField(_("file"), upload_to="agreements/evidence/%Y/")
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=64)

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")
        ordering = ["id"]

    def __str__(self):
        return self.original_name


@track()
class Meeting(BaseModel):
    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="meetings", verbose_name=_("agreement")
    )
    held_on = models.DateField(_("held on"))
    title = models.CharField(_("title"), max_length=255)
    present = models.ManyToManyField(
        Organization, related_name="+", verbose_name=_("parties present")
    )
    minutes = models.TextField(_("minutes"), blank=True)

    scope_field = "agreement__parties__organization"

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-held_on", "-id"]

    def __str__(self):
        return f"{self.title} · {self.held_on:%d/%m/%Y}"


class Decision(models.Model):
    """A decision of a meeting: it created a task or changed one."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="decisions", verbose_name=_("meeting")
    )
    text = models.TextField(_("decision"))
    task = models.ForeignKey(
        Task,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="decisions",
        verbose_name=_("task"),
    )
    created_task = models.BooleanField(_("created the task"), default=False)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["meeting_id", "id"]

    def __str__(self):
        return self.text[:80]
