"""Periodic reports: what each recipient agency receives (a definition: period, data cut-off,
deadline, sections of registered indicators) and each computed run (a frozen snapshot of the values,
its XLSX and PDF files, review, approval and submission)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.fields import CountField, PercentField, SmallCountField
from core.history import track
from core.models import BaseModel, Organization, User
from core.text import validate_identifier


class PeriodType(models.TextChoices):
    MONTH = "month", _("Monthly")
    QUARTER = "quarter", _("Quarterly")
    HALF_YEAR = "half_year", _("Half-yearly")
    YEAR = "year", _("Yearly")


@track()
class ReportDefinition(BaseModel):
    code = models.CharField(_("code"), max_length=50, unique=True, validators=[validate_identifier])
    name = models.CharField(_("name"), max_length=255)
    recipient = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="report_definitions",
        verbose_name=_("recipient agency"),
    )
    period_type = models.CharField(_("period"), max_length=16, choices=PeriodType.choices)
    cutoff_day = SmallCountField(
        _("data cut-off day"),
        default=0,
        max_value=28,
        help_text=_(
            "0: data up to the last day of the period. 1–28: data up to that day of the period's "
            "last month (the period then starts the day after the previous cut-off)."
        ),
    )
    deadline_days = SmallCountField(_("days to submit after the cut-off"), default=5, max_value=366)
    heading = models.CharField(_("heading"), max_length=500, blank=True)
    intro = models.TextField(_("introduction"), blank=True)
    sections = models.JSONField(
        _("sections"),
        default=list,
        help_text=_('[{"title": …, "indicators": [keys], "by": "" or a dimension}]'),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("report definition")
        verbose_name_plural = _("report definitions")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cutoff_day__lte=28), name="reportdefinition_cutoff_day_range"
            )
        ]

    def __str__(self):
        return self.name


@track()
class ReportRun(BaseModel):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        READY = "ready", _("Ready for review")
        APPROVED = "approved", pgettext_lazy("report", "Approved")
        SUBMITTED = "submitted", pgettext_lazy("report", "Submitted")
        FAILED = "failed", _("Failed")

    definition = models.ForeignKey(
        ReportDefinition, on_delete=models.PROTECT, related_name="runs", verbose_name=_("report")
    )
    period_key = models.CharField(_("period"), max_length=16)
    period_label = models.CharField(_("period"), max_length=64)
    period_start = models.DateField(_("data from"))
    cutoff = models.DateField(_("data cut-off"))
    deadline = models.DateField(_("submission deadline"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    progress = PercentField(_("progress (%)"), default=0)
    error = models.TextField(_("error"), blank=True)
    snapshot = models.JSONField(_("values"), null=True, blank=True, editable=False)
    xlsx = models.FileField(_("XLSX file"), upload_to="reports/%Y/", blank=True)
    pdf = models.FileField(_("PDF file"), upload_to="reports/%Y/", blank=True)
    requested_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    submitted_at = models.DateTimeField(
        pgettext_lazy("report", "submitted at"), null=True, blank=True
    )
    attempts = SmallCountField(_("attempts"), default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    version = CountField(default=1, editable=False, max_value=2_000_000_000)

    scope_field = "definition__recipient"

    class Meta:
        verbose_name = _("report run")
        verbose_name_plural = _("report runs")
        ordering = ["-cutoff", "definition_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["definition", "period_key"], name="reportrun_one_per_period"
            )
        ]

    def __str__(self):
        return f"{self.definition} · {self.period_label}"

    @property
    def finished(self):
        return self.status not in (self.Status.QUEUED, self.Status.RUNNING)
