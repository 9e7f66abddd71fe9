import uuid

from django.contrib.auth.models import AbstractUser
from django.contrib.gis.db import models
from django.contrib.gis.geos import MultiPolygon
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import F, Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from core import roles
from core.fields import CountField, RangedDecimalField, SmallCountField
from core.history import track
from core.text import fold, name_key, validate_identifier

UNIT_CODE_VALIDATOR = RegexValidator(r"^\d{5}$", _("A unit code has exactly 5 digits."))
REORGANISATION_DATE = "2025-07-01"


# --- Small mixins every domain model composes --------------------------------------------------


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        abstract = True


class PublicIdModel(models.Model):
    """A stable public identifier for the API and sync; never the database id."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        abstract = True


class SourceRecordModel(models.Model):
    """A record another agency owns: (source, external_id) is its identity for idempotent upserts.

    Concrete models add ``source_record_constraint("<model>")`` to their Meta.constraints.
    """

    source = models.CharField(
        _("source"), max_length=64, blank=True, default="", validators=[validate_identifier]
    )
    external_id = models.CharField(
        _("external id"), max_length=128, blank=True, default="", validators=[validate_identifier]
    )

    class Meta:
        abstract = True


def source_record_constraint(prefix):
    return models.UniqueConstraint(
        fields=["source", "external_id"],
        condition=~Q(external_id=""),
        name=f"{prefix}_source_external_id_uniq",
    )


class DatedModel(models.Model):
    """Something valid from one date to another (both optional, both inclusive)."""

    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    effective_to = models.DateField(_("effective to"), null=True, blank=True)

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValidationError(
                {"effective_to": _("The end date cannot be before the start date.")}
            )

    def is_active_on(self, day=None):
        day = day or timezone.localdate()
        starts = self.effective_from is None or self.effective_from <= day
        ends = self.effective_to is None or day <= self.effective_to
        return starts and ends


def dated_constraint(prefix):
    return models.CheckConstraint(
        condition=Q(effective_from__isnull=True)
        | Q(effective_to__isnull=True)
        | Q(effective_to__gte=F("effective_from")),
        name=f"{prefix}_effective_dates_ordered",
        violation_error_message=_("The end date cannot be before the start date."),
    )


class BaseModel(TimestampedModel, PublicIdModel):
    class Meta:
        abstract = True


# --- Organisations ---------------------------------------------------------------------------


@track()
class Organization(BaseModel, DatedModel):
    class Kind(models.TextChoices):
        AGENCY = "agency", _("State agency")
        OPERATOR = "operator", _("Telecom operator")
        OTHER = "other", _("Other")

    code = models.CharField(
        _("code"),
        max_length=32,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9_]+$", _("Use capital letters, digits and _."))],
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, db_index=True)
    name = models.CharField(_("Vietnamese name"), max_length=255)
    short_name = models.CharField(_("short name"), max_length=64, blank=True)
    name_en = models.CharField(_("English name"), max_length=255, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    successor = models.ForeignKey(
        "self",
        verbose_name=_("successor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="predecessors",
        help_text=_("The organisation that took over when this one ended."),
    )
    search_text = models.TextField(editable=False, default="")

    scope_field = "pk"

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            dated_constraint("organization"),
            models.CheckConstraint(
                condition=~Q(successor=F("id")), name="organization_not_own_successor"
            ),
        ]

    def __str__(self):
        return self.short_name or self.name

    def clean(self):
        super().clean()
        if self.successor_id and self.successor_id == self.pk:
            raise ValidationError({"successor": _("An organisation cannot succeed itself.")})
        if self.parent_id and self.parent_id == self.pk:
            raise ValidationError({"parent": _("An organisation cannot be its own parent.")})

    def save(self, *args, **kwargs):
        self.search_text = fold(" ".join([self.code, self.name, self.short_name, self.name_en]))
        super().save(*args, **kwargs)

    @property
    def current(self):
        """The organisation that carries this one's duties today (itself if it still exists)."""
        org, seen = self, set()
        while org.successor_id and org.pk not in seen:
            seen.add(org.pk)
            org = org.successor
        return org


# --- Administrative units ----------------------------------------------------------------------


@track(exclude=["boundary", "map_boundary"])
class AdministrativeUnit(BaseModel, DatedModel):
    """One of Hanoi's commune-level units (phường or xã) in force since 1 July 2025."""

    class Kind(models.TextChoices):
        WARD = "phuong", _("Ward (phường)")
        COMMUNE = "xa", _("Commune (xã)")

    code = models.CharField(_("code"), max_length=5, unique=True, validators=[UNIT_CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=128)
    short_name = models.CharField(_("short name"), max_length=128)
    name_en = models.CharField(_("English name"), max_length=128, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, db_index=True)
    province_code = models.CharField(_("province code"), max_length=2, default="01")
    area_km2 = RangedDecimalField(
        _("area (km²)"),
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        min_value=0,
        max_value=400_000,  # Vietnam is 331,000 km²
    )
    boundary = models.MultiPolygonField(_("boundary"), srid=4326, null=True, blank=True)
    # The boundary simplified to ~20 m (0.0002°) for city maps: ~10x lighter, computed on save.
    map_boundary = models.MultiPolygonField(srid=4326, null=True, blank=True, editable=False)
    name_key = models.CharField(max_length=128, editable=False, db_index=True, default="")
    short_name_key = models.CharField(max_length=128, editable=False, db_index=True, default="")
    name_fold = models.CharField(max_length=128, editable=False, db_index=True, default="")
    short_name_fold = models.CharField(max_length=128, editable=False, db_index=True, default="")
    search_text = models.TextField(editable=False, default="")

    MAP_TOLERANCE = 0.0002

    class Meta:
        ordering = ["code"]
        verbose_name = _("administrative unit")
        verbose_name_plural = _("administrative units")
        constraints = [dated_constraint("administrativeunit")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.name_key = name_key(self.name)
        self.short_name_key = name_key(self.short_name)
        self.name_fold = fold(self.name)
        self.short_name_fold = fold(self.short_name)
        self.search_text = fold(" ".join([self.code, self.name, self.name_en]))
        self.map_boundary = self._simplified_boundary()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "boundary" in update_fields:
            kwargs["update_fields"] = {*update_fields, "map_boundary"}
        super().save(*args, **kwargs)

    def _simplified_boundary(self):
        if self.boundary is None:
            return None
        shape = self.boundary.simplify(self.MAP_TOLERANCE, preserve_topology=True)
        if shape.geom_type == "Polygon":
            shape = MultiPolygon(shape, srid=4326)
        shape.srid = 4326
        return shape if shape.geom_type == "MultiPolygon" and not shape.empty else self.boundary


class UnitPiece(models.Model):
    """A unit's boundary cut into small pieces (ST_Subdivide, at most PIECE_VERTICES vertices each),
    kept by a database trigger on AdministrativeUnit whatever writes its boundary: a point is
    located in a piece ~3x faster than in a whole commune (a large TOASTed polygon, read again for
    every point). core.geo.check_locations looks points up here."""

    PIECE_VERTICES = 64

    unit = models.ForeignKey(
        AdministrativeUnit, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    geom = models.GeometryField(srid=4326, spatial_index=True)


@track()
class LegacyUnit(TimestampedModel):
    """A commune-level unit as it was before 1 July 2025 (526 in Hanoi), kept to resolve old addresses."""

    code = models.CharField(_("code"), max_length=5, unique=True, validators=[UNIT_CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=128)
    district = models.CharField(_("district"), max_length=128)
    district_code = models.CharField(_("district code"), max_length=3, blank=True)
    name_key = models.CharField(max_length=128, editable=False, db_index=True, default="")
    name_fold = models.CharField(max_length=128, editable=False, db_index=True, default="")
    district_key = models.CharField(max_length=128, editable=False, default="")
    successors = models.ManyToManyField(
        AdministrativeUnit,
        through="LegacyUnitMapping",
        related_name="legacy_units",
        verbose_name=_("units it went into"),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("pre-2025 unit")
        verbose_name_plural = _("pre-2025 units")

    def __str__(self):
        return f"{self.name}, {self.district}"

    def save(self, *args, **kwargs):
        self.name_key = name_key(self.name)
        self.name_fold = fold(self.name)
        self.district_key = name_key(self.district)
        super().save(*args, **kwargs)


@track()
class LegacyUnitMapping(models.Model):
    legacy_unit = models.ForeignKey(LegacyUnit, on_delete=models.CASCADE, related_name="mappings")
    unit = models.ForeignKey(AdministrativeUnit, on_delete=models.PROTECT, related_name="+")
    whole = models.BooleanField(
        _("merged whole"), help_text=_("False when only part of the old unit went into this one.")
    )
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("old-to-new unit mapping")
        verbose_name_plural = _("old-to-new unit mappings")
        constraints = [
            models.UniqueConstraint(fields=["legacy_unit", "unit"], name="legacy_unit_mapping_uniq")
        ]


# --- Users -----------------------------------------------------------------------------------


@track(exclude=["password", "last_login"])
class User(AbstractUser):
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )

    scope_field = "organization"

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def get_full_name(self):
        """Vietnamese order: family and middle names (last_name) before the given name."""
        return " ".join(part for part in (self.last_name, self.first_name) if part).strip()

    @cached_property
    def role_names(self):
        """The user's roles (group names), read once per request."""
        if not self.is_active:
            return frozenset()
        names = set(self.groups.values_list("name", flat=True))
        if self.is_superuser:
            names.add(roles.ADMINISTRATOR)
        return frozenset(names & set(roles.ALL_ROLES))

    def has_role(self, *names):
        return bool(self.role_names.intersection(names))

    @property
    def role_labels(self):
        return [roles.ROLE_LABELS[r] for r in roles.ALL_ROLES if r in self.role_names]


# --- Timelines ---------------------------------------------------------------------------------


class TimelineEvent(models.Model):
    """One entry of a case's timeline (a permit application, a sharing request …): a status change,
    a message, a document or a deadline event, with who did it. Apps add the FK to their case."""

    class Kind(models.TextChoices):
        STATUS = "status", _("Status change")
        MESSAGE = "message", _("Message")
        DOCUMENT = "document", _("Document")
        OVERDUE = "overdue", _("Deadline passed")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]


# --- In-app notifications ----------------------------------------------------------------------


class Notification(TimestampedModel):
    """A message to one user about a change they care about (an application's status, a request)."""

    recipient = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    title = models.CharField(_("title"), max_length=255)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    scope_field = "recipient__organization"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]

    def __str__(self):
        return self.title


# --- Long imports run by Celery ----------------------------------------------------------------


class ImportJob(BaseModel):
    """An uploaded file imported by a Celery worker: its progress, its row errors and its result.

    Apps register a handler per ``kind`` (core.imports); the page polls the job's progress.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Waiting for its column mapping")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("kind"), max_length=64, db_index=True)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    options = models.JSONField(_("options"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    total = CountField(_("rows in the file"), null=True, blank=True, max_value=100_000_000)
    processed = CountField(_("rows processed"), default=0, max_value=100_000_000)
    created_count = CountField(_("rows stored"), default=0, max_value=100_000_000)
    duplicate_count = CountField(_("duplicates"), default=0, max_value=100_000_000)
    error_count = CountField(_("rows refused"), default=0, max_value=100_000_000)
    # The first core.imports.MAX_ERRORS row errors, for the page; all of them are ImportRowErrors.
    errors = models.JSONField(_("row errors"), default=list, blank=True)
    notices = models.JSONField(_("notices"), default=list, blank=True)  # columns ignored, dates …
    message = models.TextField(_("message"), blank=True)
    attempts = SmallCountField(_("attempts"), default=0)
    created_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        related_name="import_jobs",
        verbose_name=_("started by"),
    )
    organization = models.ForeignKey(
        "core.Organization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="import_jobs",
        verbose_name=_("organisation"),
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    scope_field = "organization"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self):
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def percent(self):
        if self.status == self.Status.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, int(100 * self.processed / self.total))

    @property
    def finished(self):
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.CANCELLED)


def _storable(text):
    """A problem's text as PostgreSQL stores it: a NUL or a lone surrogate the file held is
    written as its escape, visibly, instead of failing the whole list."""
    text = str(text or "")
    if "\x00" in text or any("\ud800" <= ch <= "\udfff" for ch in text):
        text = text.encode("unicode_escape", "backslashreplace").decode("ascii")
    return text


class ImportRowError(models.Model):
    """One refused row's problem (row, column, value, reason): every one of a job, however many
    (the job's ``errors`` keeps the first ones for its page); the downloads list them all."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row = CountField(_("row"), null=True, blank=True, max_value=100_000_000)
    column = models.CharField(_("column"), max_length=255, blank=True)
    value = models.TextField(_("value"), blank=True)
    message = models.TextField(_("problem"))
    duplicate = models.BooleanField(_("duplicate"), default=False)

    class Meta:
        ordering = ["job", "id"]
        verbose_name = _("row error")
        verbose_name_plural = _("row errors")

    @classmethod
    def of(cls, job_id, error):
        """A row error of ``job_id`` from an error dict ({"row", "column", "value", "message"})."""
        row = error.get("row")
        return cls(
            job_id=job_id,
            row=row if isinstance(row, int) and 0 <= row <= 100_000_000 else None,
            column=_storable(error.get("column"))[:255],
            value=_storable(error.get("value")),
            message=_storable(error.get("message")),
            duplicate=bool(error.get("duplicate")),
        )


class ImportMapping(BaseModel):
    """Which column of another system's file feeds which field of an import kind, saved under a
    name by an organisation ("VNPT OSS") for its next file of the same source (core.importmap)."""

    kind = models.CharField(_("kind"), max_length=64)
    name = models.CharField(_("name"), max_length=100)
    organization = models.ForeignKey(
        "core.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="import_mappings",
        verbose_name=_("organisation"),
    )
    columns = models.JSONField(_("columns"), default=dict, blank=True)  # file column -> field
    constants = models.JSONField(_("constant values"), default=dict, blank=True)  # field -> value
    date_order = models.CharField(
        _("date order"),
        max_length=3,
        blank=True,
        choices=[("dmy", _("day/month/year")), ("mdy", _("month/day/year"))],
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("saved by")
    )

    scope_field = "organization"

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("column mapping")
        verbose_name_plural = _("column mappings")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "organization", "name"],
                name="core_importmapping_unique_name",
                nulls_distinct=False,
            )
        ]

    def __str__(self):
        return self.name

    @property
    def mapping(self):
        return {"columns": self.columns, "constants": self.constants}


class OutboxMessage(models.Model):
    """A Celery task to send, written in the same transaction as the business row that needs it
    (core.outbox): sent after commit, or later by the drain when the broker was down."""

    task = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    kwargs = models.JSONField(_("keyword arguments"), default=dict, blank=True)
    options = models.JSONField(_("sending options"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(
                fields=["created_at"], name="core_outbox_unsent", condition=Q(sent_at__isnull=True)
            )
        ]

    def __str__(self):
        return f"{self.task}{tuple(self.args)}"
