from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GistIndex
from django.db.models import F, Q
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from core.fields import CountField, MetresField, SizeField, SmallCountField, YearField
from core.history import track
from core.models import (
    AdministrativeUnit,
    BaseModel,
    DatedModel,
    Organization,
    TimestampedModel,
    User,
    dated_constraint,
)
from core.text import fold, validate_identifier


@track()
class CableProject(BaseModel):
    """A project moving overhead telecom cable underground along one or more streets."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        APPROVED = "approved", _("Approved")
        IN_CONSTRUCTION = "in_construction", _("In construction")
        COMPLETED = "completed", _("Completed")
        SUSPENDED = "suspended", _("Suspended")
        CANCELLED = "cancelled", _("Cancelled")

    code = models.CharField(_("code"), max_length=50, unique=True, validators=[validate_identifier])
    name = models.CharField(_("name"), max_length=255)
    lead_agency = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="led_cable_projects",
        verbose_name=_("lead agency"),
    )
    participants = models.ManyToManyField(
        Organization,
        blank=True,
        related_name="cable_projects",
        verbose_name=_("participating operators"),
        limit_choices_to={"kind": Organization.Kind.OPERATOR},
    )
    programme = models.CharField(_("plan or programme"), max_length=255, blank=True)
    year = YearField(_("year"), min_value=2000, db_index=True)
    streets = models.TextField(_("streets covered"), blank=True)
    planned_start = models.DateField(_("planned start"), null=True, blank=True)
    planned_end = models.DateField(_("planned end"), null=True, blank=True)
    budget_source = models.CharField(_("budget source"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PLANNED, db_index=True
    )
    search_text = models.TextField(editable=False, default="")

    scope_field = ("participants", "lead_agency")

    class Meta:
        verbose_name = _("undergrounding project")
        verbose_name_plural = _("undergrounding projects")
        ordering = ["-year", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_start__isnull=True)
                | Q(planned_end__isnull=True)
                | Q(planned_end__gte=F("planned_start")),
                name="cableproject_dates_ordered",
                violation_error_message=_("The end date cannot be before the start date."),
            )
        ]

    def __str__(self):
        return f"{self.code} · {self.name}"

    def save(self, *args, **kwargs):
        self.search_text = fold(" ".join([self.code, self.name, self.streets, self.programme]))
        super().save(*args, **kwargs)


@track()
class CableSegment(BaseModel):
    """A street section of a project, with its route. Its length is computed from the route."""

    class Method(models.TextChoices):
        NEW_DUCT_BANK = "new_duct_bank", _("New duct bank")
        EXISTING_DUCT = "existing_duct", _("Existing duct")
        MICRO_TRENCHING = "micro_trenching", _("Micro-trenching")

    project = models.ForeignKey(
        CableProject, on_delete=models.CASCADE, related_name="segments", verbose_name=_("project")
    )
    name = models.CharField(_("street section"), max_length=255)
    route = models.LineStringField(_("route"), srid=4326)
    length_m = MetresField(_("length (m)"), editable=False)
    method = models.CharField(_("method"), max_length=20, choices=Method.choices)
    operator = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cable_segments",
        verbose_name=_("responsible operator"),
        limit_choices_to={"kind": Organization.Kind.OPERATOR},
    )
    bores = SmallCountField(_("duct bores"), default=4, min_value=1, max_value=200)
    communes = models.ManyToManyField(
        AdministrativeUnit,
        through="SegmentCommune",
        related_name="cable_segments",
        verbose_name=_("communes crossed"),
    )
    duct_asset = models.ForeignKey(
        "sharing.InfrastructureAsset",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cable_segments",
        editable=False,
        verbose_name=_("duct asset"),
        help_text=_("The shareable duct route registered once the duct bank is built."),
    )

    scope_field = ("project__participants", "project__lead_agency")

    class Meta:
        verbose_name = _("cable segment")
        verbose_name_plural = _("cable segments")
        ordering = ["project_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(length_m__gt=0), name="cablesegment_length_positive")
        ]
        indexes = [
            GistIndex(
                Cast("route", models.LineStringField(geography=True, srid=4326)),
                name="cablesegment_route_geog_idx",
            )
        ]

    def __str__(self):
        return self.name


class SegmentCommune(models.Model):
    """The part of a segment inside one commune, clipped when the route is saved, so that kilometre
    totals per commune are a plain sum (no clipping at query time)."""

    segment = models.ForeignKey(CableSegment, on_delete=models.CASCADE, related_name="pieces")
    commune = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    length_m = MetresField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "commune"], name="segment_commune_uniq")
        ]
        indexes = [models.Index(fields=["commune"], name="segmentcommune_commune_idx")]


class ProgressUpdate(TimestampedModel):
    """A dated report of work done on a segment (metres by kind). Append-only: a correction is a new
    update that names the one it corrects, which then no longer counts."""

    segment = models.ForeignKey(CableSegment, on_delete=models.PROTECT, related_name="updates")
    operator = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("reported by")
    )
    reported_on = models.DateField(_("date of the work"))
    duct_built_m = MetresField(_("duct built (m)"), default=0, max_value=100_000)
    cable_pulled_m = MetresField(_("cable pulled in (m)"), default=0, max_value=100_000)
    overhead_removed_m = MetresField(_("overhead cable removed (m)"), default=0, max_value=100_000)
    poles_removed = CountField(_("poles removed"), default=0, max_value=10_000)
    note = models.TextField(_("note"), blank=True)
    corrects = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrected_by",
        verbose_name=_("corrects"),
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("progress update")
        verbose_name_plural = _("progress updates")
        ordering = ["reported_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duct_built_m__gte=0)
                & Q(cable_pulled_m__gte=0)
                & Q(overhead_removed_m__gte=0),
                name="progressupdate_non_negative",
            )
        ]
        indexes = [
            models.Index(fields=["segment", "reported_on"], name="progress_segment_date_idx")
        ]


def photo_upload_to(instance, filename):
    return f"cables/{instance.update.segment_id}/{instance.update_id}-{filename}"


class ProgressPhoto(models.Model):
    update = models.ForeignKey(ProgressUpdate, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(_("photo"), upload_to=photo_upload_to, max_length=300)
    content_type = models.CharField(max_length=50)
    size = SizeField()


@track()
class CivilWorksNotice(BaseModel, DatedModel):
    """A planned road or utility dig, announced so operators can register to lay ducts or cable in
    the same trench (joint use). ``effective_from``/``effective_to`` are the works' dates."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open for registration")
        CLOSED = "closed", _("Closed")

    title = models.CharField(_("title"), max_length=255)
    owner = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="civil_works",
        verbose_name=_("works owner"),
    )
    route = models.LineStringField(_("route"), srid=4326)
    commune = models.ForeignKey(
        AdministrativeUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("commune")
    )
    description = models.TextField(_("description"), blank=True)
    registration_deadline = models.DateField(_("registration deadline"), db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )

    class Meta:
        verbose_name = _("civil-works notice")
        verbose_name_plural = _("civil-works notices")
        ordering = ["registration_deadline", "id"]
        constraints = [dated_constraint("civilworksnotice")]

    def __str__(self):
        return self.title


class CivilWorksRegistration(TimestampedModel):
    class Need(models.TextChoices):
        DUCT = "duct", _("Lay ducts")
        CABLE = "cable", _("Pull cable")

    notice = models.ForeignKey(
        CivilWorksNotice, on_delete=models.CASCADE, related_name="registrations"
    )
    operator = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("operator")
    )
    need = models.CharField(_("what"), max_length=10, choices=Need.choices)
    bores = SmallCountField(_("bores"), default=1, min_value=1, max_value=50)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    scope_field = ("operator", "notice__owner")

    class Meta:
        verbose_name = _("joint-use registration")
        verbose_name_plural = _("joint-use registrations")
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "operator"], name="civilworks_one_per_operator"
            )
        ]
