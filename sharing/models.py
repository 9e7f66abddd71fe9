from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GistIndex
from django.db.models import F, Q
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from core.fields import CountField, MetresField, SizeField
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


class AssetKind(models.TextChoices):
    TOWER = "tower", _("Tower or mast")
    POLE = "pole", _("Pole")
    DUCT = "duct", _("Duct route")
    MANHOLE = "manhole", _("Manhole")
    CABINET = "cabinet", _("Street cabinet")
    EQUIPMENT_ROOM = "equipment_room", _("Equipment room")


# What one unit of capacity is, per kind (shown beside capacities).
CAPACITY_UNITS = {
    AssetKind.TOWER: _("antenna slots"),
    AssetKind.POLE: _("attachment positions"),
    AssetKind.DUCT: _("bores"),
    AssetKind.MANHOLE: _("cable positions"),
    AssetKind.CABINET: _("rack units"),
    AssetKind.EQUIPMENT_ROOM: _("rack spaces"),
}
LINE_KINDS = (AssetKind.DUCT,)

# The terms a tenancy is granted on: stated by the owner when it accepts or counter-offers, held by
# the tenancy (and, while offered, by the request's counter_* fields) with the same limits.
LOCATION_MAX_LENGTH = 255
CONTRACT_NUMBER_MAX_LENGTH = 100
LOCATION_HELP = _("Where on the asset, e.g. “Tầng ăng-ten 2, hướng Đông”; cable in bore 3.")


@track()
class InfrastructureAsset(BaseModel, SourceRecordModel):
    """A passive structure that several operators can use: a tower, a pole, a duct route …

    ``used_capacity`` is kept by the services from the active tenancies, inside the same transaction,
    and the database refuses ``used_capacity > capacity``: over-allocation cannot happen, even in a race.
    """

    class Condition(models.TextChoices):
        GOOD = "good", _("Good")
        FAIR = "fair", _("Fair")
        POOR = "poor", _("Poor")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ACTIVE = "active", _("In service")
        OUT_OF_SERVICE = "out_of_service", _("Out of service")
        DECOMMISSIONED = "decommissioned", _("Decommissioned")

    code = models.CharField(_("code"), max_length=50, validators=[validate_identifier])
    name = models.CharField(_("name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=20, choices=AssetKind.choices, db_index=True)
    owner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="assets", verbose_name=_("owner")
    )
    geometry = models.GeometryField(_("location or route"), srid=4326)
    commune = models.ForeignKey(
        AdministrativeUnit,
        on_delete=models.PROTECT,
        related_name="assets",
        verbose_name=_("commune"),
    )
    address = models.CharField(_("address"), max_length=500, blank=True)
    capacity = CountField(_("capacity"), min_value=1, max_value=10_000)
    used_capacity = CountField(_("used capacity"), default=0, editable=False)
    free_capacity = models.GeneratedField(
        expression=F("capacity") - F("used_capacity"),
        output_field=models.IntegerField(),
        db_persist=True,
        verbose_name=_("free capacity"),
    )
    length_m = MetresField(_("length (m)"), null=True, blank=True, editable=False)
    condition = models.CharField(
        _("condition"), max_length=10, choices=Condition.choices, default=Condition.GOOD
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    shareable = models.BooleanField(
        _("offered for sharing"),
        default=True,
        help_text=_("The owner offers free capacity to other operators."),
    )
    search_text = models.TextField(editable=False, default="")

    scope_field = "owner"

    class Meta:
        verbose_name = _("infrastructure asset")
        verbose_name_plural = _("infrastructure assets")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "code"], name="asset_owner_code_uniq"),
            source_record_constraint("asset"),
            models.CheckConstraint(
                condition=Q(used_capacity__lte=F("capacity")),
                name="asset_not_over_allocated",
                violation_error_message=_("The asset has no free capacity left."),
            ),
        ]
        indexes = [
            GistIndex(
                Cast("geometry", models.GeometryField(geography=True, srid=4326)),
                name="asset_geometry_geog_idx",
            ),
            models.Index(fields=["kind", "status"], name="asset_kind_status_idx"),
            models.Index(fields=["owner", "kind"], name="asset_owner_kind_idx"),
        ]

    def __str__(self):
        return f"{self.code} · {self.name}"

    def save(self, *args, **kwargs):
        self.search_text = fold(" ".join([self.code, self.name, self.address]))
        super().save(*args, **kwargs)

    @property
    def capacity_unit(self):
        return CAPACITY_UNITS.get(self.kind, "")


@track()
class Tenancy(BaseModel):
    """An operator's use of an asset: how much of its capacity, since when, on which terms."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")

    asset = models.ForeignKey(
        InfrastructureAsset,
        on_delete=models.PROTECT,
        related_name="tenancies",
        verbose_name=_("asset"),
    )
    operator = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="tenancies",
        verbose_name=_("operator"),
        limit_choices_to={"kind": Organization.Kind.OPERATOR},
    )
    units = CountField(_("capacity used"), min_value=1, max_value=10_000)
    occupies = models.CharField(
        _("location on the asset"),
        max_length=LOCATION_MAX_LENGTH,
        blank=True,
        help_text=LOCATION_HELP,
    )
    since = models.DateField(_("since"))
    until = models.DateField(
        _("until"),
        null=True,
        blank=True,
        help_text=_("The contract's end date, or the day the tenancy was ended."),
    )
    terms_reference = models.CharField(
        _("contract number"),
        max_length=CONTRACT_NUMBER_MAX_LENGTH,
        blank=True,
        validators=[validate_identifier],
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    request = models.ForeignKey(
        "SharingRequest",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tenancies",
        verbose_name=_("sharing request"),
    )

    scope_field = ("operator", "asset__owner")

    class Meta:
        verbose_name = _("tenancy")
        verbose_name_plural = _("tenancies")
        ordering = ["id"]
        indexes = [models.Index(fields=["asset", "status"], name="tenancy_asset_status_idx")]

    def __str__(self):
        return f"{self.operator} @ {self.asset}"


@track()
class SharingRequest(BaseModel):
    """An operator asks another's asset (or anything of theirs near a point) to share."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        COUNTERED = "countered", _("Counter-offer")
        ACCEPTED = "accepted", _("Accepted")
        REFUSED = "refused", _("Refused")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        DISPUTED = "disputed", _("Disputed")
        DECIDED = "decided", _("Decided by the regulator")

    class Outcome(models.TextChoices):
        SHARE = "share", _("Share: the owner must lease")
        NO_SHARE = "no_share", _("No sharing: the refusal stands")

    number = models.CharField(
        _("request number"), max_length=20, unique=True, null=True, blank=True
    )
    requester = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="sharing_requests_made",
        verbose_name=_("requesting operator"),
    )
    owner = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="sharing_requests_received",
        verbose_name=_("owner"),
    )
    asset = models.ForeignKey(
        InfrastructureAsset,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name=_("asset"),
    )
    point = models.PointField(_("near point"), srid=4326, null=True, blank=True)
    radius_m = CountField(_("radius (m)"), null=True, blank=True, min_value=1, max_value=5000)
    units = CountField(_("capacity needed"), min_value=1, max_value=10_000)
    needs = models.TextField(_("what is needed"))
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    version = CountField(default=1, editable=False, max_value=2_000_000_000)
    submitted_on = models.DateField(_("submitted on"))
    response_due = models.DateField(_("response due"), db_index=True)
    overdue = models.BooleanField(_("overdue"), default=False, db_index=True)
    counter_units = CountField(_("capacity offered"), null=True, blank=True, max_value=10_000)
    # The terms of the tenancy the counter-offer proposes; accepting it grants exactly these.
    counter_location = models.CharField(
        _("location offered"), max_length=LOCATION_MAX_LENGTH, blank=True, help_text=LOCATION_HELP
    )
    counter_contract_number = models.CharField(
        _("contract number offered"),
        max_length=CONTRACT_NUMBER_MAX_LENGTH,
        blank=True,
        validators=[validate_identifier],
    )
    counter_start_date = models.DateField(
        _("start date offered"),
        null=True,
        blank=True,
        help_text=_("Empty: the tenancy starts the day the requester accepts."),
    )
    counter_end_date = models.DateField(_("end date offered"), null=True, blank=True)
    counter_terms = models.TextField(
        _("counter-offer note"),
        blank=True,
        help_text=_("Free text to the requester (price, conditions); never a tenancy field."),
    )
    refusal_reason = models.TextField(_("reason for refusal"), blank=True)
    escalated_by = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("escalated by"),
    )
    outcome = models.CharField(_("decision"), max_length=10, choices=Outcome.choices, blank=True)
    decision_number = models.CharField(
        _("decision number"), max_length=100, blank=True, validators=[validate_identifier]
    )
    decision_text = models.TextField(_("decision"), blank=True)
    decided_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    search_text = models.TextField(editable=False, default="")

    scope_field = ("requester", "owner")

    class Meta:
        verbose_name = _("sharing request")
        verbose_name_plural = _("sharing requests")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(requester=F("owner")),
                name="sharing_request_not_own_asset",
                violation_error_message=_("An operator cannot ask to share its own asset."),
            ),
            models.CheckConstraint(
                condition=Q(asset__isnull=False)
                | (Q(point__isnull=False) & Q(radius_m__isnull=False)),
                name="sharing_request_asset_or_area",
            ),
            models.CheckConstraint(
                condition=Q(counter_start_date__isnull=True)
                | Q(counter_end_date__isnull=True)
                | Q(counter_end_date__gte=F("counter_start_date")),
                name="sharing_request_counter_dates_ordered",
                violation_error_message=_("The end date cannot be before the start date."),
            ),
        ]

    def __str__(self):
        return self.number or str(self.pk)

    def save(self, *args, **kwargs):
        self.search_text = fold(" ".join(filter(None, [self.number, self.needs[:200]])))
        super().save(*args, **kwargs)


class SharingEvent(TimelineEvent):
    request = models.ForeignKey(SharingRequest, on_delete=models.CASCADE, related_name="timeline")

    class Meta(TimelineEvent.Meta):
        verbose_name = _("sharing request event")
        verbose_name_plural = _("sharing request events")


def request_document_upload_to(instance, filename):
    return f"sharing/{instance.request.public_id}/{filename}"


class RequestDocument(models.Model):
    request = models.ForeignKey(SharingRequest, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(_("file"), upload_to=request_document_upload_to, max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=50)
    size = SizeField()
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at"]
        verbose_name = _("request document")
        verbose_name_plural = _("request documents")
