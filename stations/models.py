from decimal import Decimal

from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from core.fields import CountField, HeightField, SizeField, SmallCountField
from core.history import track
from core.models import (
    AdministrativeUnit,
    BaseModel,
    Organization,
    SourceRecordModel,
    TimelineEvent,
    User,
    source_record_constraint,
)
from core.text import fold, validate_identifier

MAX_HEIGHT_M = 300
HEIGHT_VALIDATORS = [
    MinValueValidator(Decimal("0.1"), _("A height must be more than 0 m.")),
    MaxValueValidator(Decimal(MAX_HEIGHT_M), _("A height over 300 m is not plausible.")),
]
BUILDING_HEIGHT_VALIDATORS = [
    MinValueValidator(Decimal("1"), _("A building must be at least 1 m high.")),
    MaxValueValidator(Decimal(MAX_HEIGHT_M), _("A height over 300 m is not plausible.")),
]


class StructureType(models.TextChoices):
    LATTICE_TOWER = "lattice_tower", _("Self-supporting lattice tower")
    GUYED_MAST = "guyed_mast", _("Guyed mast")
    MONOPOLE = "monopole", _("Monopole")
    ROOFTOP_MAST = "rooftop_mast", _("Rooftop mast")
    CAMOUFLAGED_MAST = "camouflaged_mast", _("Camouflaged mast")
    POLE = "pole", _("Pole")


class Technology(models.TextChoices):
    G2 = "2G", "2G"
    G3 = "3G", "3G"
    G4 = "4G", "4G"
    G5 = "5G", "5G"


class LandCategory(models.TextChoices):
    PUBLIC_LAND = "public_land", _("Public land")
    PUBLIC_BUILDING = "public_building", _("Public building")
    PUBLIC_PLACE = "public_place", _("Public place")
    PUBLIC_WORKS = "public_works", _("Public works")
    PRIVATE = "private", _("Private")


# --- The "non-bulky" rule (cột ăng ten không cồng kềnh), stated once --------------------------------
# A rooftop mast no higher than 3 m and no higher than 20% of its host building, or any camouflaged
# mast, needs no construction permit. The database column and the Python check both come from here.
NON_BULKY_MAX_HEIGHT_M = Decimal("3")
NON_BULKY_MAX_RATIO = Decimal("0.2")


def non_bulky_condition(prefix=""):
    height = f"{prefix}structure_height_m__lte"
    rooftop = (
        Q(**{f"{prefix}structure_type": StructureType.ROOFTOP_MAST})
        & Q(**{height: NON_BULKY_MAX_HEIGHT_M})
        & Q(**{height: models.F(f"{prefix}building_height_m") * NON_BULKY_MAX_RATIO})
    )
    return Q(**{f"{prefix}structure_type": StructureType.CAMOUFLAGED_MAST}) | rooftop


def is_non_bulky(structure_type, structure_height_m, building_height_m):
    """The same rule in Python, for forms that answer before anything is saved."""
    if structure_type == StructureType.CAMOUFLAGED_MAST:
        return True
    if structure_type != StructureType.ROOFTOP_MAST or structure_height_m is None:
        return False
    if building_height_m is None:
        return False
    height, building = Decimal(structure_height_m), Decimal(building_height_m)
    return height <= NON_BULKY_MAX_HEIGHT_M and height <= building * NON_BULKY_MAX_RATIO


def non_bulky_verdict(structure_type, structure_height_m, building_height_m):
    """The rule's verdict and its reasons, for hints under forms and on detail pages.

    Returns {"state": "yes" | "no" | "unknown", "reasons": [text, ...]}.
    """
    if not structure_type:
        return {"state": "unknown", "reasons": []}
    if structure_type == StructureType.CAMOUFLAGED_MAST:
        return {"state": "yes", "reasons": [_("A camouflaged mast is always non-bulky.")]}
    if structure_type != StructureType.ROOFTOP_MAST:
        return {
            "state": "no",
            "reasons": [_("Only a rooftop mast or a camouflaged mast can be non-bulky.")],
        }
    if structure_height_m is None:
        return {"state": "unknown", "reasons": [_("Enter the structure height.")]}
    if building_height_m is None:
        return {
            "state": "unknown",
            "reasons": [
                _("Enter the host building's height: the mast may be at most %(ratio)s of it.")
                % {"ratio": "20%"}
            ],
        }
    height, building = Decimal(structure_height_m), Decimal(building_height_m)
    ratio_limit = building * NON_BULKY_MAX_RATIO
    reasons = []
    if height > NON_BULKY_MAX_HEIGHT_M:
        reasons.append(_("The mast is %(h)s m high: over the 3 m limit.") % {"h": _metres(height)})
    if height > ratio_limit:
        reasons.append(
            _("The mast is over 20%% of the %(b)s m building (at most %(max)s m).")
            % {"b": _metres(building), "max": _metres(ratio_limit)}
        )
    verdict = is_non_bulky(structure_type, height, building)
    if verdict:
        reasons.append(
            _("At most %(max)s m here: the mast needs no construction permit.")
            % {"max": _metres(min(NON_BULKY_MAX_HEIGHT_M, ratio_limit))}
        )
    return {"state": "yes" if verdict else "no", "reasons": reasons}


def _metres(value):
    return format(Decimal(value).quantize(Decimal("0.01")).normalize(), "f")


class StructureMixin(models.Model):
    """What is built: shared by a station and a permit application's proposal."""

    structure_type = models.CharField(
        _("structure type"), max_length=20, choices=StructureType.choices
    )
    structure_height_m = HeightField(
        _("structure height (m)"),
        min_value=Decimal("0.1"),
        max_value=Decimal(MAX_HEIGHT_M),
        validators=HEIGHT_VALIDATORS,
    )
    building_height_m = HeightField(
        _("host building height (m)"),
        min_value=Decimal("1"),
        max_value=Decimal(MAX_HEIGHT_M),
        null=True,
        blank=True,
        validators=BUILDING_HEIGHT_VALIDATORS,
        help_text=_("For a mast on a roof: the building's height."),
    )
    technologies = ArrayField(
        models.CharField(max_length=2, choices=Technology.choices),
        verbose_name=_("technologies"),
        default=list,
        blank=True,
    )
    land_category = models.CharField(
        _("land category"), max_length=20, choices=LandCategory.choices
    )

    class Meta:
        abstract = True

    @property
    def non_bulky_now(self):
        return is_non_bulky(self.structure_type, self.structure_height_m, self.building_height_m)


@track()
class Station(BaseModel, SourceRecordModel, StructureMixin):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        PERMITTED = "permitted", _("Permitted")
        OPERATING = "operating", _("Operating")
        SUSPENDED = "suspended", _("Suspended")
        DECOMMISSIONED = "decommissioned", _("Decommissioned")

    operator = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="stations",
        verbose_name=_("operator"),
        limit_choices_to={"kind": Organization.Kind.OPERATOR},
    )
    code = models.CharField(_("station code"), max_length=50, validators=[validate_identifier])
    name = models.CharField(_("name"), max_length=255)
    address = models.CharField(_("address"), max_length=500, blank=True)
    commune = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        related_name="stations",
        verbose_name=_("commune"),
    )
    location = models.PointField(_("location"), srid=4326)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PLANNED, db_index=True
    )
    permit_reference = models.CharField(
        _("permit reference"), max_length=100, blank=True, validators=[validate_identifier]
    )
    asset = models.ForeignKey(
        "sharing.InfrastructureAsset",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stations",
        verbose_name=_("tower asset"),
        help_text=_("The tower or mast the station stands on; several operators may share one."),
    )
    commissioned_on = models.DateField(_("commissioning date"), null=True, blank=True)
    non_bulky = models.GeneratedField(
        # CASE, not the bare condition: a missing building height must give false, not NULL.
        expression=models.Case(
            models.When(non_bulky_condition(), then=models.Value(True)), default=models.Value(False)
        ),
        output_field=models.BooleanField(),
        db_persist=True,
        verbose_name=_("non-bulky"),
    )
    search_text = models.TextField(editable=False, default="")

    scope_field = "operator"

    class Meta:
        verbose_name = _("station")
        verbose_name_plural = _("stations")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "code"], name="station_operator_code_uniq"),
            source_record_constraint("station"),
            models.CheckConstraint(
                condition=Q(structure_height_m__gt=0) & Q(structure_height_m__lte=MAX_HEIGHT_M),
                name="station_height_plausible",
            ),
        ]
        indexes = [
            # Metre distances (co-location, distance filter) use the geography cast.
            GistIndex(
                Cast("location", models.PointField(geography=True, srid=4326)),
                name="station_location_geog_idx",
            ),
            GinIndex(fields=["technologies"], name="station_technologies_idx"),
            models.Index(fields=["operator", "status"], name="station_operator_status_idx"),
            models.Index(fields=["commune", "status"], name="station_commune_status_idx"),
        ]

    def __str__(self):
        return f"{self.code} · {self.name}"

    def save(self, *args, **kwargs):
        self.search_text = fold(" ".join([self.code, self.name, self.address]))
        super().save(*args, **kwargs)


class PublicSiteQuerySet(models.QuerySet):
    def with_taken(self):
        """Each site with ``taken``: the applications that take a place on it (taking_sites)."""
        return self.annotate(
            taken=models.Count(
                "applications",
                filter=Q(applications__status__in=PermitApplication.TAKES_SITE),
            )
        )


class PermitApplicationQuerySet(models.QuerySet):
    def taking_sites(self):
        """The applications that take a place on their public site: approved or deemed approved."""
        return self.filter(status__in=PermitApplication.TAKES_SITE)


@track()
class PublicSite(BaseModel, SourceRecordModel):
    """Public land, a public building or a public place the city offers for stations."""

    class Status(models.TextChoices):
        AVAILABLE = "available", _("Available")
        RESERVED = "reserved", _("Reserved")
        OCCUPIED = "occupied", _("Occupied")

    name = models.CharField(_("name"), max_length=255)
    owner = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="public_sites",
        verbose_name=_("owner agency"),
    )
    address = models.CharField(_("address"), max_length=500)
    commune = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        related_name="public_sites",
        verbose_name=_("commune"),
    )
    land_category = models.CharField(
        _("land category"), max_length=20, choices=LandCategory.choices
    )
    location = models.PointField(_("location"), srid=4326)
    area = models.PolygonField(_("area"), srid=4326, null=True, blank=True)
    building_height_m = HeightField(
        _("building height (m)"),
        min_value=Decimal("1"),
        max_value=Decimal(MAX_HEIGHT_M),
        null=True,
        blank=True,
        validators=BUILDING_HEIGHT_VALIDATORS,
    )
    capacity = SmallCountField(
        _("stations it can take"),
        default=1,
        min_value=1,
        max_value=50,
    )
    conditions = models.TextField(_("conditions"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.AVAILABLE, db_index=True
    )
    search_text = models.TextField(editable=False, default="")

    objects = PublicSiteQuerySet.as_manager()

    class Meta:
        verbose_name = _("public site")
        verbose_name_plural = _("public sites")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__gte=1), name="publicsite_capacity_positive"
            ),
            source_record_constraint("publicsite"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.search_text = fold(" ".join([self.name, self.address]))
        super().save(*args, **kwargs)


class DocumentType(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("document type")
        verbose_name_plural = _("document types")

    def __str__(self):
        return self.name


class ApplicationType(models.Model):
    """A kind of permit application with its statutory clocks (set by an administrator)."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=255)
    completeness_days = SmallCountField(
        _("completeness check (working days)"), default=3, min_value=1, max_value=365
    )
    decision_days = SmallCountField(
        _("decision (working days)"), default=10, min_value=1, max_value=365
    )
    tacit_approval = models.BooleanField(
        _("tacit approval"),
        default=False,
        help_text=_("Past the decision deadline, the application is deemed approved."),
    )
    required_documents = models.ManyToManyField(
        DocumentType,
        blank=True,
        related_name="application_types",
        verbose_name=_("required documents"),
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("application type")
        verbose_name_plural = _("application types")

    def __str__(self):
        return self.name


@track(exclude=["colocation_candidates"])
class PermitApplication(BaseModel, StructureMixin):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        RETURNED = "returned", _("Returned for supplement")
        RESUBMITTED = "resubmitted", _("Resubmitted")
        UNDER_REVIEW = "under_review", _("Under review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        DEEMED_APPROVED = "deemed_approved", _("Deemed approved")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    # The statuses in which an application takes a place on its public site.
    TAKES_SITE = (Status.APPROVED, Status.DEEMED_APPROVED)

    number = models.CharField(
        _("application number"), max_length=20, unique=True, null=True, blank=True
    )
    applicant = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="permit_applications",
        verbose_name=_("applicant"),
        limit_choices_to={"kind": Organization.Kind.OPERATOR},
    )
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    application_type = models.ForeignKey(
        ApplicationType,
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("application type"),
    )
    public_site = models.ForeignKey(
        PublicSite,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
        verbose_name=_("public site"),
    )
    station = models.ForeignKey(
        Station,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="applications",
        verbose_name=_("station"),
    )
    station_code = models.CharField(
        _("station code"), max_length=50, validators=[validate_identifier]
    )
    station_name = models.CharField(_("station name"), max_length=255)
    address = models.CharField(_("address"), max_length=500)
    commune = models.ForeignKey(
        AdministrativeUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("commune")
    )
    location = models.PointField(_("proposed location"), srid=4326)
    sharing_justification = models.TextField(
        _("why not share an existing structure"),
        blank=True,
    )
    colocation_candidates = models.JSONField(default=list, blank=True, editable=False)
    sharing_requests = models.ManyToManyField(
        "sharing.SharingRequest",
        blank=True,
        related_name="+",
        verbose_name=_("sharing requests raised from the co-location check"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    version = CountField(default=1, editable=False, max_value=2_000_000_000)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    # The statutory clock, in working days: days used before the last stop, and the day it
    # (re)started when running.
    clock_running = models.BooleanField(default=False, editable=False)
    clock_started_on = models.DateField(null=True, blank=True, editable=False)
    days_used_before = SmallCountField(default=0, editable=False, max_value=10_000)
    completeness_due = models.DateField(_("completeness check due"), null=True, blank=True)
    decision_due = models.DateField(_("decision due"), null=True, blank=True, db_index=True)
    overdue = models.BooleanField(_("overdue"), default=False, db_index=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_number = models.CharField(
        _("decision number"), max_length=100, blank=True, validators=[validate_identifier]
    )
    decision_reason = models.TextField(_("reasons"), blank=True)
    search_text = models.TextField(editable=False, default="")

    scope_field = "applicant"

    objects = PermitApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("permit application")
        verbose_name_plural = _("permit applications")
        ordering = ["-id"]
        indexes = [models.Index(fields=["applicant", "status"], name="permit_applicant_status_idx")]

    def __str__(self):
        return self.number or _("Draft application #%(id)s") % {"id": self.pk}

    def save(self, *args, **kwargs):
        self.search_text = fold(
            " ".join(
                filter(None, [self.number, self.station_code, self.station_name, self.address])
            )
        )
        super().save(*args, **kwargs)


def document_upload_to(instance, filename):
    return f"permits/{instance.application.public_id}/{instance.document_type.code}-{filename}"


class ApplicationDocument(models.Model):
    application = models.ForeignKey(
        PermitApplication, on_delete=models.CASCADE, related_name="documents"
    )
    document_type = models.ForeignKey(DocumentType, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(_("file"), upload_to=document_upload_to, max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=50)
    size = SizeField()
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document_type_id", "-uploaded_at"]
        verbose_name = _("application document")
        verbose_name_plural = _("application documents")


class ApplicationEvent(TimelineEvent):
    """The application's timeline: every status change, message, document and deadline event."""

    application = models.ForeignKey(
        PermitApplication, on_delete=models.CASCADE, related_name="timeline"
    )

    class Meta(TimelineEvent.Meta):
        verbose_name = _("application event")
        verbose_name_plural = _("application events")
