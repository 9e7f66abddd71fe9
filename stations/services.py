"""Every write of the stations app: station register, public sites, permit workflow, imports.

Each service takes plain arguments and the acting user, checks permission and state, writes inside
one transaction and returns the object. Views, API, admin actions, commands and tasks call these.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import Conflict, InvalidInput, InvalidTransition, PermissionDenied
from core.files import check_upload
from core.geo import check_location
from core.history import acting_as
from core.notifications import city_officials, notify, staff_of
from core.permissions import acts_for, is_city_official
from core.scoping import can_access, ensure_in_scope
from core.sync.services import check_source_key
from core.workdays import add_working_days, working_days_between
from sharing import services as sharing_services
from sharing.selectors import free_assets_near
from stations import selectors
from stations.models import (
    ApplicationDocument,
    ApplicationEvent,
    PermitApplication,
    PublicSite,
    Station,
)

S = PermitApplication.Status

# --- Who may do what -------------------------------------------------------------------------------


def acts_for_operator(user, operator):
    """Operator staff, or an operator's API client, acting for its own operator."""
    return acts_for(user, operator) and user.organization.kind == "operator"


def can_apply(user):
    """Operator staff (or an operator's API client) may apply for permits, for their own operator."""
    return bool(user and user.is_authenticated and user.organization_id) and acts_for_operator(
        user, user.organization_id
    )


def can_create_stations(user):
    return is_city_official(user) or can_apply(user)


def can_edit_station(user, operator):
    return is_city_official(user) or acts_for_operator(user, operator)


# --- Stations ------------------------------------------------------------------------------------

STATION_FIELDS = (
    "operator",
    "code",
    "name",
    "address",
    "commune",
    "location",
    "structure_type",
    "structure_height_m",
    "building_height_m",
    "technologies",
    "land_category",
    "status",
    "permit_reference",
    "commissioned_on",
    "source",
    "external_id",
)


def _apply(obj, data, fields):
    unknown = set(data) - set(fields)
    if unknown:
        raise InvalidInput({f: [_("Unknown field.")] for f in sorted(unknown)})
    for key, value in data.items():
        setattr(obj, key, value)


def _validate_structure(obj):
    """Model validation (heights, choices, technologies) as field errors."""
    from django.core.exceptions import ValidationError

    try:
        obj.full_clean(
            exclude=["commune", "operator", "applicant", "created_by", "application_type"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        raise InvalidInput(exc.message_dict) from exc


def commissioning_error(status, commissioned_on):
    """The one rule on a station's commissioning date, for every door (forms, API, bulk, import):
    a station in operation was commissioned on a day that has come. None when the date is fine."""
    if (
        status == Station.Status.OPERATING
        and commissioned_on is not None
        and commissioned_on > timezone.localdate()
    ):
        return _("An operating station cannot have been commissioned in the future.")
    return None


CODE_TAKEN = gettext_lazy("This operator already has a station with this code.")
EXTERNAL_ID_TAKEN = gettext_lazy("A station with this source and external id exists.")

# Key by key through the unique index (LATERAL … LIMIT 1: index probes, not a hash join).
_CODES_SQL = """
    SELECT s.id, s.operator_id, s.code
    FROM unnest(%s::bigint[], %s::text[]) AS k(operator_id, code)
    CROSS JOIN LATERAL (
        SELECT s.id, s.operator_id, s.code FROM stations_station s
        WHERE s.operator_id = k.operator_id AND s.code = k.code LIMIT 1
    ) s
"""


def validate_stations(user, rows, *, errors=None, unique=True, editable=None):
    """The station rules, checked for a batch in a few queries whatever its size: the form and the
    API's single save (a batch of one), the CSV import and the sync API's bulk upsert.

    ``rows`` are dicts (None: skipped) with
      - ``operator``: the Organization chosen (left out: the stored one stays, not checked again),
        which must be a telecom operator the user may edit;
      - ``status`` and ``commissioned_on`` (commissioning_error);
      - ``lon``, ``lat`` (WGS84), ``commune`` (the unit id given, or None) and ``locate`` (default
        True; False: the point and its commune are as stored and not checked again): the point is
        in Vietnam, in one of Hanoi's communes, in the commune given (core.geo.check_locations);
        ``commune_id`` (the stored commune) is kept when no boundaries are loaded and none is given;
      - ``operator_id``, ``code`` and ``id`` (the row's own station, or None): with ``unique``, one
        code per operator, within the batch and against the stored stations.
    Sets ``row["commune_id"]`` of each located row. Returns one {field: [message, …]} per row;
    ``errors`` (one dict per row) is extended in place when given, and a row already in error gets
    its own fields checked but is neither located nor compared. A denied operator is reported as
    {"operator": [PermissionDenied.default_message]}.
    """
    from core.geo import check_locations
    from core.selectors import boundaries_loaded

    errors = errors if errors is not None else [{} for _row in rows]
    if editable is None:
        cache = {}

        def editable(operator_id):
            if operator_id not in cache:
                cache[operator_id] = can_edit_station(user, operator_id)
            return cache[operator_id]

    def fail(i, name, message):
        errors[i].setdefault(name, []).append(str(message))

    for i, row in enumerate(rows):
        if row is None:
            continue
        error = commissioning_error(row.get("status"), row.get("commissioned_on"))
        if error:
            fail(i, "commissioned_on", error)
        if "operator" in row:
            operator = row["operator"]
            if operator is None or operator.kind != "operator":
                fail(i, "operator", _("Choose a telecom operator."))
            elif not editable(operator.pk):
                fail(i, "operator", PermissionDenied.default_message)

    to_locate = [
        i
        for i, row in enumerate(rows)
        if row is not None and not errors[i] and row.get("locate", True)
    ]
    fallback = any(
        rows[i].get("commune") is None and rows[i].get("commune_id") is not None for i in to_locate
    )
    keep_stored = fallback and not boundaries_loaded()
    items = []
    for i in to_locate:
        row = rows[i]
        given = row.get("commune")
        if given is None and keep_stored:
            given = row.get("commune_id")
        items.append((row.get("lon"), row.get("lat"), given))
    for i, (commune_id, row_errors) in zip(to_locate, check_locations(items), strict=True):
        for name, messages in row_errors.items():
            for message in messages:
                fail(i, name, message)
        if not row_errors:
            rows[i]["commune_id"] = commune_id

    if unique:
        candidates = [i for i, row in enumerate(rows) if row is not None and not errors[i]]
        taken = {}
        if candidates:
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute(
                    _CODES_SQL,
                    [
                        [rows[i]["operator_id"] for i in candidates],
                        [rows[i]["code"] for i in candidates],
                    ],
                )
                taken = {(op, code): pk for pk, op, code in cursor}
        seen = {}
        for i in candidates:
            row = rows[i]
            key = (row["operator_id"], row["code"])
            if key in seen:
                fail(
                    i,
                    "code",
                    _("Record %(index)d of this batch has this code.") % {"index": seen[key]},
                )
            elif key in taken and taken[key] != row.get("id"):
                fail(i, "code", CODE_TAKEN)
            seen.setdefault(key, i)
    return errors


def _station_row(station):
    """The rules' view of a station about to be saved (validate_stations)."""
    point = station.location
    if point is not None and point.srid not in (None, 4326):
        point = point.transform(4326, clone=True)
    return {
        "operator": station.operator if station.operator_id else None,
        "status": station.status,
        "commissioned_on": station.commissioned_on,
        "lon": point.x if point is not None else None,
        "lat": point.y if point is not None else None,
        "commune": station.commune_id,
        "operator_id": station.operator_id,
        "code": station.code,
        "id": station.pk,
    }


def _save_station(user, station, data):
    _apply(station, data, STATION_FIELDS)
    row = _station_row(station)
    (errors,) = validate_stations(user, [row])
    denied = errors.get("operator") == [str(PermissionDenied.default_message)]
    if denied:
        del errors["operator"]
    if errors:
        raise InvalidInput(errors)
    if denied:
        raise PermissionDenied()
    check_source_key(user, station)
    station.commune_id = row["commune_id"]
    _validate_structure(station)
    try:
        with transaction.atomic():
            station.save()
            ensure_in_scope(user, station)
    except IntegrityError as exc:  # a concurrent writer took the code or the key meanwhile
        if "station_operator_code_uniq" in str(exc):
            raise InvalidInput({"code": [str(CODE_TAKEN)]}) from exc
        if "station_source_external_id_uniq" in str(exc):
            raise InvalidInput({"external_id": [str(EXTERNAL_ID_TAKEN)]}) from exc
        raise
    return station


@transaction.atomic
def create_station(user, **data):
    with acting_as(user):
        return _save_station(user, Station(), data)


@transaction.atomic
def update_station(user, station, **data):
    if not can_edit_station(user, station.operator) or not can_access(user, station):
        raise PermissionDenied()
    with acting_as(user):
        return _save_station(user, station, data)


@transaction.atomic
def delete_station(user, station):
    """Remove a station from the register (its operator's staff or clients, or city officials).
    The change feed keeps a tombstone; a station a permit application still names cannot go."""
    from django.db.models import ProtectedError

    if not can_edit_station(user, station.operator) or not can_access(user, station):
        raise PermissionDenied()
    try:
        with transaction.atomic(), acting_as(user, action="stations.delete"):
            station.delete()
    except ProtectedError as exc:
        raise Conflict(
            _("Permit applications refer to this station; it cannot be deleted.")
        ) from exc


# --- Public sites ----------------------------------------------------------------------------------

PUBLIC_SITE_FIELDS = (
    "name",
    "owner",
    "address",
    "commune",
    "land_category",
    "location",
    "area",
    "building_height_m",
    "capacity",
    "conditions",
    "status",
    "source",
    "external_id",
)


@transaction.atomic
def save_public_site(user, site=None, **data):
    if not is_city_official(user):
        raise PermissionDenied()
    site = site or PublicSite()
    _apply(site, data, PUBLIC_SITE_FIELDS)
    check_source_key(user, site)
    site.commune = check_location(site.location, site.commune if site.commune_id else None)
    from django.core.exceptions import ValidationError

    try:
        site.full_clean(exclude=["commune", "owner"])
    except ValidationError as exc:
        raise InvalidInput(exc.message_dict) from exc
    try:
        with transaction.atomic(), acting_as(user):
            site.save()
    except IntegrityError as exc:  # a concurrent writer took the same source and external id
        if "publicsite_source_external_id_uniq" in str(exc):
            raise InvalidInput(
                {"external_id": [_("A public site with this source and external id exists.")]}
            ) from exc
        raise
    return site


@transaction.atomic
def delete_public_site(user, site):
    """Withdraw a site from the catalogue (city officials); not one that applications name."""
    from django.db.models import ProtectedError

    if not is_city_official(user):
        raise PermissionDenied()
    try:
        with transaction.atomic(), acting_as(user, action="stations.delete_site"):
            site.delete()
    except ProtectedError as exc:
        raise Conflict(_("Permit applications refer to this site; it cannot be deleted.")) from exc


def refresh_site_occupancy(site):
    """A site is occupied once its approved stations reach its capacity."""
    taken = site.applications.taking_sites().count()
    status = PublicSite.Status.OCCUPIED if taken >= site.capacity else site.status
    if status == PublicSite.Status.OCCUPIED and site.status != status:
        site.status = status
        site.save(update_fields=["status", "updated_at"])


# --- Permit applications: the workflow ----------------------------------------------------------------
# The states and moves are declared once in stations.workflows (PERMIT, core.workflow); the actions
# below keep their signatures for the demo, the tasks and the tests, and all go through its perform.

OPEN_STATUSES = (S.SUBMITTED, S.RETURNED, S.RESUBMITTED, S.UNDER_REVIEW)
DECIDED_STATUSES = (S.APPROVED, S.REJECTED, S.DEEMED_APPROVED, S.WITHDRAWN)


def _perform(user, application, action, **inputs):
    from stations.workflows import PERMIT  # the declaration imports this module's rules and hooks

    return PERMIT.perform(user, application, action, **inputs)


def run_clock(app, from_status, to_status, today):
    """The statutory clock: runs from submission, stops while returned, restarts on resubmission."""
    kind = app.application_type
    if to_status == S.SUBMITTED:
        app.submitted_at = timezone.now()
        app.days_used_before = 0
        _start_clock(app, today)
    elif to_status == S.RESUBMITTED:
        _start_clock(app, today)
    elif to_status == S.RETURNED:
        app.days_used_before = min(kind.decision_days, days_used(app, today))
        app.clock_running = False
        app.completeness_due = None
    elif to_status == S.UNDER_REVIEW:
        app.completeness_due = None
    elif to_status in DECIDED_STATUSES:
        if app.clock_running:
            app.days_used_before = days_used(app, today)
        app.clock_running = False
        app.completeness_due = None


def _start_clock(app, today):
    kind = app.application_type
    app.clock_running = True
    app.clock_started_on = today
    app.completeness_due = add_working_days(today, kind.completeness_days)
    app.decision_due = add_working_days(today, max(kind.decision_days - app.days_used_before, 0))
    app.overdue = False


def days_used(app, today=None):
    """Working days the clock has run so far."""
    today = today or timezone.localdate()
    used = app.days_used_before
    if app.clock_running and app.clock_started_on:
        used += max(working_days_between(app.clock_started_on, today), 0)
    return used


def days_left(app, today=None):
    """Working days left before the decision deadline (negative when late; None before submission)."""
    if app.status == S.DRAFT:
        return None
    return app.application_type.decision_days - days_used(app, today)


def notify_change(user, app, to_status, note):
    url = reverse("stations:application-detail", args=[app.pk])
    title = _("Application %(number)s: %(status)s") % {
        "number": app.number,
        "status": app.get_status_display(),
    }
    recipients = list(staff_of(app.applicant))
    if to_status in (S.SUBMITTED, S.RESUBMITTED, S.WITHDRAWN):
        recipients += list(city_officials())
    notify([u for u in recipients if user is None or u.pk != user.pk], title, url=url, body=note)


# --- Permit applications: the actions ------------------------------------------------------------------

APPLICATION_FIELDS = (
    "application_type",
    "public_site",
    "station",
    "station_code",
    "station_name",
    "address",
    "commune",
    "location",
    "structure_type",
    "structure_height_m",
    "building_height_m",
    "technologies",
    "land_category",
    "sharing_justification",
)


@transaction.atomic
def save_draft(user, application=None, **data):
    """Create or edit a draft. The applicant is the user's operator; a public site fills in the
    location, commune, address and land category."""
    if application is None:
        if not user.organization_id or not acts_for_operator(user, user.organization_id):
            raise PermissionDenied(_("Only an operator's staff can apply."))
        application = PermitApplication(applicant=user.organization, created_by=user)
    elif application.status != S.DRAFT:
        raise InvalidTransition(_("Only a draft can be edited."))
    elif not acts_for_operator(user, application.applicant_id):
        raise PermissionDenied()
    site = data.get("public_site")
    if site is not None:
        if site.status == PublicSite.Status.OCCUPIED:
            raise InvalidInput({"public_site": [_("This site is already occupied.")]})
        for key, value in (
            ("location", site.location),
            ("commune", site.commune),
            ("address", site.address),
            ("land_category", site.land_category),
            ("building_height_m", site.building_height_m),
        ):
            if data.get(key) in (None, "") and value not in (None, ""):
                data[key] = value
    station = data.get("station")
    if station is not None and station.operator_id != application.applicant_id:
        raise InvalidInput({"station": [_("The station belongs to another operator.")]})
    _apply(application, data, APPLICATION_FIELDS)
    application.commune = check_location(
        application.location, application.commune if application.commune_id else None
    )
    _validate_structure(application)
    with acting_as(user):
        application.save()
    return application


def colocation_candidates(application):
    """Other operators' stations near the proposed location, nearest first (distance in metres)."""
    return selectors.nearby_stations(
        application.location,
        settings.COLOCATION_RADIUS_M,
        exclude_operator=application.applicant_id,
    )


def shareable_structures(application):
    """Towers and poles of other owners with free capacity within the co-location radius."""
    return free_assets_near(
        application.location, settings.COLOCATION_RADIUS_M, exclude_owner=application.applicant_id
    )


@transaction.atomic
def raise_sharing_request(user, application, asset, units=1):
    """From the co-location check, in one step: ask the owner of ``asset`` to share it for this
    application's antennas. The request is linked to the application."""
    if not acts_for_operator(user, application.applicant_id) or not can_access(user, application):
        raise PermissionDenied()
    needs = _("For permit application %(number)s: %(structure)s, %(height)s m, %(tech)s.") % {
        "number": application.number or application.pk,
        "structure": application.get_structure_type_display(),
        "height": application.structure_height_m,
        "tech": ", ".join(application.technologies) or "—",
    }
    request = sharing_services.create_request(user, asset=asset, units=units, needs=needs)
    application.sharing_requests.add(request)
    ApplicationEvent.objects.create(
        application=application,
        kind=ApplicationEvent.Kind.MESSAGE,
        actor=user,
        note=_("Sharing request %(number)s sent to %(owner)s for %(asset)s.")
        % {"number": request.number, "owner": asset.owner, "asset": asset.code},
    )
    return request


def submit(user, application, sharing_justification=None, expected_version=None, today=None):
    """Submit a draft: numbers it, runs the co-location check and starts the clock.

    When other operators' structures stand within the radius, the applicant must say why it will
    not share one (``sharing_justification``; None keeps the draft's own).
    """
    return _perform(
        user,
        application,
        "submit",
        expected_version=expected_version,
        sharing_justification=sharing_justification,
        today=today,
    )


def resubmit(user, application, note="", expected_version=None, today=None):
    return _perform(
        user, application, "resubmit", note=note, expected_version=expected_version, today=today
    )


def withdraw(user, application, note="", expected_version=None, today=None):
    return _perform(
        user, application, "withdraw", note=note, expected_version=expected_version, today=today
    )


def return_for_supplement(user, application, note, expected_version=None, today=None):
    return _perform(
        user, application, "return", note=note, expected_version=expected_version, today=today
    )


def accept(user, application, note="", expected_version=None, today=None):
    return _perform(
        user, application, "accept", note=note, expected_version=expected_version, today=today
    )


def approve(user, application, decision_number, note="", expected_version=None, today=None):
    """Approve; the station is created or updated (permitted) and the public site occupied."""
    return _perform(
        user,
        application,
        "approve",
        decision_number=decision_number,
        note=note,
        expected_version=expected_version,
        today=today,
    )


def reject(user, application, reasons, expected_version=None, today=None):
    return _perform(
        user, application, "reject", reasons=reasons, expected_version=expected_version, today=today
    )


def grant(user, app):
    """An approved (or deemed approved) permit creates or updates the station and occupies the site."""
    station = app.station or Station(operator_id=app.applicant_id, code=app.station_code)
    for field in (
        "structure_type",
        "structure_height_m",
        "building_height_m",
        "technologies",
        "land_category",
        "location",
        "commune",
        "address",
    ):
        setattr(station, field, getattr(app, field))
    station.name = app.station_name
    station.status = Station.Status.PERMITTED
    station.permit_reference = app.decision_number or app.number
    with acting_as(user, action="permit.grant"):
        station.save()
        if app.station_id != station.pk:
            app.station = station
            app.save(update_fields=["station", "updated_at"])
    if app.public_site_id:
        refresh_site_occupancy(app.public_site)
    return app


@transaction.atomic
def post_message(user, application, text):
    if not can_access(user, application) or not (
        is_city_official(user) or acts_for_operator(user, application.applicant_id)
    ):
        raise PermissionDenied()
    if not (text or "").strip():
        raise InvalidInput({"text": [_("Write a message.")]})
    event = ApplicationEvent.objects.create(
        application=application, kind=ApplicationEvent.Kind.MESSAGE, actor=user, note=text.strip()
    )
    recipients = staff_of(application.applicant) if is_city_official(user) else city_officials()
    notify(
        [u for u in recipients if u.pk != user.pk],
        _("New message on application %(number)s")
        % {"number": application.number or application.pk},
        url=reverse("stations:application-detail", args=[application.pk]),
        body=text,
    )
    return event


@transaction.atomic
def upload_document(user, application, document_type, uploaded):
    """Attach a document; its content must be PDF, JPEG or PNG whatever its name says."""
    if not acts_for_operator(user, application.applicant_id):
        raise PermissionDenied()
    if application.status not in (S.DRAFT, S.RETURNED, S.SUBMITTED, S.RESUBMITTED, S.UNDER_REVIEW):
        raise InvalidTransition(_("Documents cannot be added to a decided application."))
    content_type = check_upload(uploaded)
    document = ApplicationDocument(
        application=application,
        document_type=document_type,
        original_name=uploaded.name[:255],
        content_type=content_type,
        size=uploaded.size,
        uploaded_by=user,
    )
    document.file.save(uploaded.name, uploaded, save=False)
    document.save()
    ApplicationEvent.objects.create(
        application=application,
        kind=ApplicationEvent.Kind.DOCUMENT,
        actor=user,
        note=f"{document_type.name}: {uploaded.name}",
    )
    return document


# --- Deadlines (Celery beat, daily) -------------------------------------------------------------------


@dataclass
class DeadlineRun:
    overdue: int = 0
    deemed_approved: int = 0


def process_deadlines(today=None):
    """Mark applications past their decision deadline overdue, notify both sides, and move those
    whose type allows tacit approval to "deemed approved". Idempotent: a second run changes nothing."""
    today = today or timezone.localdate()
    result = DeadlineRun()
    late = PermitApplication.objects.filter(
        status__in=OPEN_STATUSES, clock_running=True, decision_due__lt=today
    ).select_related("application_type", "applicant")
    for app in late:
        with transaction.atomic():
            if app.application_type.tacit_approval and app.status != S.RETURNED:
                _perform(
                    None,
                    app,
                    "deem_approved",
                    today=today,
                    note=_("Deemed approved: no decision by %(date)s.")
                    % {"date": app.decision_due.strftime("%d/%m/%Y")},
                )
                result.deemed_approved += 1
            elif not app.overdue:
                app.overdue = True
                app.save(update_fields=["overdue", "updated_at"])
                ApplicationEvent.objects.create(
                    application=app,
                    kind=ApplicationEvent.Kind.OVERDUE,
                    note=_("The decision deadline %(date)s has passed.")
                    % {"date": app.decision_due.strftime("%d/%m/%Y")},
                )
                title = _("Application %(number)s is overdue") % {"number": app.number}
                url = reverse("stations:application-detail", args=[app.pk])
                notify(list(staff_of(app.applicant)) + list(city_officials()), title, url=url)
                result.overdue += 1
    return result


# --- Bulk import of the register -------------------------------------------------------------------

IMPORT_COLUMNS = (
    "operator",
    "code",
    "name",
    "address",
    "commune",
    "lon",
    "lat",
    "structure_type",
    "structure_height_m",
    "building_height_m",
    "technologies",
    "land_category",
    "status",
    "permit_reference",
    "commissioned_on",
)
REQUIRED_COLUMNS = (
    "operator",
    "code",
    "name",
    "lon",
    "lat",
    "structure_type",
    "structure_height_m",
    "land_category",
)


def _row_form_class():
    from django import forms

    from stations.models import (
        BUILDING_HEIGHT_VALIDATORS,
        HEIGHT_VALIDATORS,
        LandCategory,
        StructureType,
        Technology,
    )

    class StationRowForm(forms.Form):
        operator = forms.CharField(max_length=32)
        code = forms.CharField(max_length=50)
        name = forms.CharField(max_length=255)
        address = forms.CharField(max_length=500, required=False)
        commune = forms.CharField(max_length=5, required=False)
        lon = forms.FloatField(min_value=-180, max_value=180)
        lat = forms.FloatField(min_value=-90, max_value=90)
        structure_type = forms.ChoiceField(choices=StructureType.choices)
        structure_height_m = forms.DecimalField(
            max_digits=6, decimal_places=2, validators=HEIGHT_VALIDATORS
        )
        building_height_m = forms.DecimalField(
            max_digits=6, decimal_places=2, required=False, validators=BUILDING_HEIGHT_VALIDATORS
        )
        technologies = forms.CharField(required=False)
        land_category = forms.ChoiceField(choices=LandCategory.choices)
        status = forms.ChoiceField(choices=Station.Status.choices, required=False)
        permit_reference = forms.CharField(max_length=100, required=False)
        commissioned_on = forms.DateField(required=False, input_formats=["%d/%m/%Y", "%Y-%m-%d"])

        def clean_technologies(self):
            values = [
                v.strip().upper()
                for v in self.cleaned_data["technologies"].replace(",", ";").split(";")
                if v.strip()
            ]
            valid = set(Technology.values)
            bad = [v for v in values if v not in valid]
            if bad:
                raise forms.ValidationError(
                    _("Unknown technology: %(v)s (use 2G, 3G, 4G, 5G).") % {"v": ", ".join(bad)}
                )
            return sorted(set(values))

    return StationRowForm


def _row_cleaner(form_class):
    """Validate a row with the form's fields, built once (a Form per row costs ~40% of an import)."""
    from django.core.exceptions import ValidationError

    form = form_class()
    fields = form.fields

    def clean(values):
        data, errors = {}, []
        for name, field in fields.items():
            try:
                data[name] = field.clean(values.get(name, ""))
                hook = getattr(form, f"clean_{name}", None)
                if hook is not None:
                    form.cleaned_data = data
                    data[name] = hook()
            except ValidationError as exc:
                errors += [(name, str(m)) for m in exc.messages]
        return data, errors

    return clean


def import_stations(user, uploaded):
    """Create or update stations from a CSV/XLSX file (one row a station, keyed by operator + code).

    Every row is checked first; any error refuses the whole file with (row, column, message) for each
    problem, and nothing is written. Returns ImportResult(created, updated).
    """

    from core.exceptions import ImportRejected
    from core.models import AdministrativeUnit, Organization
    from core.services import ImportResult
    from core.tabular import read_table

    header, rows = read_table(uploaded)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ImportRejected(_("Missing columns: %(cols)s") % {"cols": ", ".join(missing)})
    clean_row = _row_cleaner(_row_form_class())
    operators = {o.code: o for o in Organization.objects.filter(kind=Organization.Kind.OPERATOR)}
    communes = dict(AdministrativeUnit.objects.values_list("code", "id"))
    errors, valid, seen = [], [], {}
    for number, values in rows:
        data, row_errors = clean_row(values)
        if row_errors:
            errors += [{"row": number, "column": col, "message": msg} for col, msg in row_errors]
            continue
        operator = operators.get(data["operator"].strip().upper())
        if operator is None:
            errors.append(
                {
                    "row": number,
                    "column": "operator",
                    "message": _("Unknown operator %(code)s.") % {"code": data["operator"]},
                }
            )
            continue
        if not can_edit_station(user, operator):
            errors.append(
                {
                    "row": number,
                    "column": "operator",
                    "message": _("You may not import stations of %(op)s.") % {"op": operator},
                }
            )
            continue
        if data["commune"] and data["commune"] not in communes:
            errors.append(
                {
                    "row": number,
                    "column": "commune",
                    "message": _("Unknown unit code %(code)s: not one of Hanoi's units.")
                    % {"code": data["commune"]},
                }
            )
            continue
        key = (operator.pk, data["code"])
        if key in seen:
            errors.append(
                {
                    "row": number,
                    "column": "code",
                    "message": _("Station %(code)s already appears on row %(row)d.")
                    % {"code": data["code"], "row": seen[key]},
                }
            )
            continue
        seen[key] = number
        valid.append((number, operator, data))
    # The station rules (commissioning, point and commune); the operator was checked above, and
    # a row is keyed by operator and code: it updates the station that has them.
    checks = [
        {
            # A row without a status imports an operating station (see _copy_stations).
            "status": data["status"] or Station.Status.OPERATING,
            "commissioned_on": data["commissioned_on"],
            "lon": data["lon"],
            "lat": data["lat"],
            "commune": communes.get(data["commune"]) if data["commune"] else None,
        }
        for _number, _operator, data in valid
    ]
    for check, (number, _operator, data), row_errors in zip(
        checks, valid, validate_stations(user, checks, unique=False), strict=True
    ):
        for name, messages in row_errors.items():
            column = "lon" if name == "location" else name
            errors += [{"row": number, "column": column, "message": m} for m in messages]
        data["commune_id"] = check.get("commune_id")
    if errors:
        raise ImportRejected(errors=sorted(errors, key=lambda e: e["row"]))
    with transaction.atomic(), acting_as(user, action="stations.import"):
        created, updated = _copy_stations(valid)
    return ImportResult(created=created, updated=updated)


# Columns written by an import, in COPY order.
_COPY_COLUMNS = (
    "operator_id",
    "code",
    "name",
    "address",
    "commune_id",
    "lon",
    "lat",
    "structure_type",
    "structure_height_m",
    "building_height_m",
    "technologies",
    "land_category",
    "status",
    "permit_reference",
    "commissioned_on",
    "search_text",
)
_UPSERT_SQL = """
    WITH written AS (
        INSERT INTO stations_station AS s (
            public_id, created_at, updated_at, source, external_id, operator_id, code, name, address,
            commune_id, location, structure_type, structure_height_m, building_height_m,
            technologies, land_category, status, permit_reference, commissioned_on, search_text)
        SELECT gen_random_uuid(), now(), now(), '', '', operator_id, code, name, COALESCE(address, ''), commune_id,
               ST_SetSRID(ST_MakePoint(lon, lat), 4326), structure_type, structure_height_m,
               building_height_m, technologies, land_category, COALESCE(status, 'operating'),
               COALESCE(permit_reference, ''), commissioned_on, search_text
        FROM station_import
        ON CONFLICT (operator_id, code) DO UPDATE SET
            updated_at = now(), name = EXCLUDED.name, address = EXCLUDED.address,
            commune_id = EXCLUDED.commune_id, location = EXCLUDED.location,
            structure_type = EXCLUDED.structure_type, structure_height_m = EXCLUDED.structure_height_m,
            building_height_m = EXCLUDED.building_height_m, technologies = EXCLUDED.technologies,
            land_category = EXCLUDED.land_category,
            status = COALESCE((SELECT i.status FROM station_import i
                               WHERE i.operator_id = s.operator_id AND i.code = s.code), s.status),
            permit_reference = EXCLUDED.permit_reference, commissioned_on = EXCLUDED.commissioned_on,
            search_text = EXCLUDED.search_text
        RETURNING (xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written
"""


def _copy_stations(valid):
    """Write validated rows with COPY into a temporary table and one INSERT … ON CONFLICT (upsert by
    operator + code): the database does the bulk work; history triggers still record every row."""
    import csv
    import io

    from django.db import connection

    from core.text import fold

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for _number, operator, d in valid:
        writer.writerow(
            [
                operator.pk,
                d["code"],
                d["name"],
                d["address"],
                d["commune_id"],
                d["lon"],
                d["lat"],
                d["structure_type"],
                d["structure_height_m"],
                "" if d["building_height_m"] is None else d["building_height_m"],
                "{" + ",".join(d["technologies"]) + "}",
                d["land_category"],
                d["status"] or "",
                d["permit_reference"],
                d["commissioned_on"].isoformat() if d["commissioned_on"] else "",
                fold(" ".join([d["code"], d["name"], d["address"]])),
            ]
        )
    buffer.seek(0)
    with connection.cursor() as cursor:
        # Dropped at commit; dropped here too for a second import inside the same transaction.
        cursor.execute("DROP TABLE IF EXISTS pg_temp.station_import")
        cursor.execute("""
            CREATE TEMPORARY TABLE station_import (
                operator_id bigint, code text, name text, address text, commune_id bigint,
                lon float8, lat float8, structure_type text, structure_height_m numeric,
                building_height_m numeric, technologies varchar(2)[], land_category text, status text,
                permit_reference text, commissioned_on date, search_text text
            ) ON COMMIT DROP
        """)
        cursor.copy_expert(
            f"COPY station_import ({', '.join(_COPY_COLUMNS)}) FROM STDIN WITH (FORMAT csv, NULL '')",
            buffer,
        )
        cursor.execute(_UPSERT_SQL)
        created, updated = cursor.fetchone()
    return created, updated


# --- Bulk upsert by (source, external_id): the sync API's batches --------------------------------------

BULK_CREATED, BULK_UPDATED, BULK_UNCHANGED, BULK_ERROR, BULK_NOT_APPLIED = (
    "created",
    "updated",
    "unchanged",
    "error",
    "not_applied",
)
# The columns a bulk upsert writes (and compares), in COPY order after the batch position ``n``.
_BULK_COLUMNS = (
    "source",
    "external_id",
    "operator_id",
    "code",
    "name",
    "address",
    "commune_id",
    "lon",
    "lat",
    "structure_type",
    "structure_height_m",
    "building_height_m",
    "technologies",
    "land_category",
    "status",
    "permit_reference",
    "commissioned_on",
)
_BULK_REQUIRED = (
    "operator",
    "code",
    "name",
    "location",
    "structure_type",
    "structure_height_m",
    "land_category",
)
_BULK_DEFAULTS = {
    "address": "",
    "commune_id": None,
    "building_height_m": None,
    "technologies": [],
    "status": Station.Status.PLANNED,
    "permit_reference": "",
    "commissioned_on": None,
}
# Key by key through the unique indexes (LATERAL … LIMIT 1: a nested loop of index probes; a plain
# join of 1,000 keys is planned as a hash join over the whole table), locked in key order, the
# same order for every writer.
_BULK_EXISTING_SQL = """
    SELECT s.* FROM (
        SELECT DISTINCT source, external_id FROM unnest(%s::text[], %s::text[]) AS k(source, external_id)
        WHERE external_id <> '' ORDER BY source, external_id
    ) k
    CROSS JOIN LATERAL (
        SELECT s.id, s.public_id, s.source, s.external_id, s.operator_id, s.code, s.name,
               s.address, s.commune_id, ST_X(s.location), ST_Y(s.location), s.structure_type,
               s.structure_height_m, s.building_height_m, s.technologies, s.land_category,
               s.status, s.permit_reference, s.commissioned_on
        FROM stations_station s
        WHERE s.source = k.source AND s.external_id = k.external_id AND s.external_id <> ''
        LIMIT 1 FOR UPDATE
    ) s
"""
_BULK_TABLE_SQL = """
    CREATE TEMPORARY TABLE IF NOT EXISTS station_bulk (
        n int, source text, external_id text, operator_id bigint, code text, name text,
        address text, commune_id bigint, lon float8, lat float8, structure_type text,
        structure_height_m numeric, building_height_m numeric, technologies varchar(2)[],
        land_category text, status text, permit_reference text, commissioned_on date,
        search_text text
    ) ON COMMIT DELETE ROWS;
    TRUNCATE station_bulk;
"""
_BULK_UPSERT_SQL = """
    INSERT INTO stations_station AS s (
        public_id, created_at, updated_at, source, external_id, operator_id, code, name, address,
        commune_id, location, structure_type, structure_height_m, building_height_m, technologies,
        land_category, status, permit_reference, commissioned_on, search_text)
    SELECT gen_random_uuid(), now(), now(), source, external_id, operator_id, code, name, address,
           commune_id, ST_SetSRID(ST_MakePoint(lon, lat), 4326), structure_type,
           structure_height_m, building_height_m, technologies, land_category, status,
           permit_reference, commissioned_on, search_text
    FROM station_bulk ORDER BY source, external_id  -- one order for all writers: no deadlock
    ON CONFLICT (source, external_id) WHERE external_id <> '' DO UPDATE SET
        updated_at = now(), operator_id = EXCLUDED.operator_id, code = EXCLUDED.code,
        name = EXCLUDED.name, address = EXCLUDED.address, commune_id = EXCLUDED.commune_id,
        location = EXCLUDED.location, structure_type = EXCLUDED.structure_type,
        structure_height_m = EXCLUDED.structure_height_m,
        building_height_m = EXCLUDED.building_height_m, technologies = EXCLUDED.technologies,
        land_category = EXCLUDED.land_category, status = EXCLUDED.status,
        permit_reference = EXCLUDED.permit_reference, commissioned_on = EXCLUDED.commissioned_on,
        search_text = EXCLUDED.search_text
    RETURNING s.source, s.external_id, s.public_id, (s.xmax = 0) AS inserted
"""
_POINT_TOLERANCE = 1e-9  # degrees: a point sent again as stored is unchanged


def _copy_text(value):
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, (list, tuple)):
        return "{" + ",".join(str(v) for v in value) + "}"
    if isinstance(value, float):
        return repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    if any(c in text for c in "\\\t\n\r"):
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def _same_row(stored, final):
    for name in _BULK_COLUMNS:
        old, new = stored[name], final[name]
        if name in ("lon", "lat"):
            if abs(old - new) > _POINT_TOLERANCE:
                return False
        elif name == "technologies":
            if sorted(old or []) != sorted(new or []):
                return False
        elif old != new:
            return False
    return True


def _write_bulk_rows(rows):
    """COPY ``rows`` [(n, final), …] into a temporary table, then one INSERT … ON CONFLICT on the
    (source, external_id) key. Returns {(source, external_id): (public_id, inserted)}."""
    import io

    from django.db import connection

    from core.text import fold

    buffer = io.StringIO()
    for n, final in rows:
        values = [n, *(final[c] for c in _BULK_COLUMNS)]
        values.append(fold(" ".join([final["code"], final["name"], final["address"]])))
        buffer.write("\t".join(_copy_text(v) for v in values))
        buffer.write("\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.execute(_BULK_TABLE_SQL)
        cursor.copy_expert(
            f"COPY station_bulk (n, {', '.join(_BULK_COLUMNS)}, search_text) FROM STDIN",
            buffer,
        )
        cursor.execute(_BULK_UPSERT_SQL)
        return {(source, ext): (pid, inserted) for source, ext, pid, inserted in cursor}


def _write_bulk_rows_retrying(rows, attempts=3):
    """_write_bulk_rows in a savepoint, tried again when PostgreSQL broke a deadlock with another
    writer by failing this one (the savepoint's rollback released its locks: the other goes on)."""
    from django.db import OperationalError

    for attempt in range(attempts):
        try:
            with transaction.atomic():
                return _write_bulk_rows(rows)
        except OperationalError as exc:
            if getattr(exc.__cause__, "pgcode", None) != "40P01" or attempt == attempts - 1:
                raise
    return {}  # pragma: no cover - the loop returns or raises


def _bulk_db_error(exc):
    constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
    if constraint == "station_operator_code_uniq":
        return {"code": [str(CODE_TAKEN)]}
    if constraint == "station_height_plausible":
        return {"structure_height_m": [_("A height over 300 m is not plausible.")]}
    return {"non_field_errors": [_("The database refused this station.")]}


def bulk_upsert_stations(user, records, atomic=True):
    """Create or update many stations at once, each keyed by (source, external_id): the sync API's
    bulk endpoint (up to 1,000 records a call).

    ``records`` are the API's validated data (as create_station takes them: ``operator`` and
    ``commune`` records, ``location`` a Point …) with ``source`` and ``external_id``; a field left
    out keeps its stored value (or the default, for a new station). The same rules as
    create_station/update_station apply (operator the user may edit, point inside Vietnam and in a
    Hanoi commune, the commune given must contain it, heights, one code per operator), checked in
    batches: a few queries per call whatever its size. A record whose every field already holds
    the value sent is ``unchanged`` and not written. Changed rows are written with one COPY and one
    INSERT … ON CONFLICT, inside ``acting_as(user)`` so the history names the user (and API client).

    Returns one outcome per record, in order: {"status": created | updated | unchanged | error |
    not_applied, "id": public id or None, "errors": {field: [message, …]}}. With ``atomic``, any
    error writes nothing (the others are ``not_applied``); otherwise the valid ones are written.
    """
    from django.core.exceptions import ValidationError
    from django.db import connection

    from core.scoping import sees_everything
    from stations.models import BUILDING_HEIGHT_VALIDATORS, HEIGHT_VALIDATORS

    count = len(records)
    errors = [{} for _i in range(count)]
    statuses = [None] * count
    public_ids = [None] * count

    def fail(i, name, message):
        errors[i].setdefault(name, []).append(str(message))

    def outcomes():
        return [
            {
                "status": BULK_ERROR if errors[i] else statuses[i],
                "id": None if errors[i] else public_ids[i],
                "errors": errors[i],
            }
            for i in range(count)
        ]

    with transaction.atomic(), acting_as(user, action="stations.bulk"):
        # The stored rows of the batch's keys, locked until the end of the transaction.
        with connection.cursor() as cursor:
            cursor.execute(
                _BULK_EXISTING_SQL,
                [[r.get("source") for r in records], [r.get("external_id") for r in records]],
            )
            columns = ["id", "public_id", *_BULK_COLUMNS]
            stored = {(row[2], row[3]): dict(zip(columns, row, strict=True)) for row in cursor}
        may_edit = {}

        def editable(operator_id):
            if operator_id not in may_edit:
                may_edit[operator_id] = can_edit_station(user, operator_id)
            return may_edit[operator_id]

        finals = [None] * count
        checks = [None] * count
        for i, data in enumerate(records):
            unknown = set(data) - set(STATION_FIELDS)
            for name in sorted(unknown):
                fail(i, name, _("Unknown field."))
            for name in ("source", "external_id"):
                if not data.get(name):
                    fail(i, name, _("This field is required."))
            if errors[i]:
                continue
            old = stored.get((data.get("source"), data.get("external_id")))
            if old is not None and not editable(old["operator_id"]):
                if sees_everything(user):
                    fail(i, "non_field_errors", PermissionDenied.default_message)
                else:  # not in the user's scope: as if it did not exist, but its key is taken
                    fail(i, "external_id", EXTERNAL_ID_TAKEN)
                continue
            if old is None:
                for name in _BULK_REQUIRED:
                    if data.get(name) in (None, ""):
                        fail(i, name, _("This field is required."))
            if errors[i]:
                continue
            final = dict(old) if old is not None else {**_BULK_DEFAULTS}
            given = None
            for name, value in data.items():
                if name == "operator":
                    final["operator_id"] = value.pk
                elif name == "commune":
                    given = value.pk if value is not None else None
                elif name == "location":
                    final["lon"], final["lat"] = value.x, value.y
                elif name == "technologies":
                    final[name] = sorted(set(value or []))
                elif name in ("address", "permit_reference"):
                    final[name] = value or ""
                else:
                    final[name] = value
            for name, validators in (
                ("structure_height_m", HEIGHT_VALIDATORS),
                ("building_height_m", BUILDING_HEIGHT_VALIDATORS),
            ):
                if final.get(name) is None:
                    continue
                for validator in validators:
                    try:
                        validator(final[name])
                    except ValidationError as exc:
                        for message in exc.messages:
                            fail(i, name, message)
            if final.get("status") is None:
                final["status"] = old["status"] if old is not None else Station.Status.PLANNED
            # A stored point keeps its commune (checked when it was written) unless another is named.
            moved = old is None or abs(old["lon"] - final["lon"]) > _POINT_TOLERANCE
            moved = moved or abs(old["lat"] - final["lat"]) > _POINT_TOLERANCE
            check = {
                "status": final["status"],
                "commissioned_on": final.get("commissioned_on"),
                "lon": final["lon"],
                "lat": final["lat"],
                "commune": given,
                "commune_id": final.get("commune_id"),
                "locate": moved or (given is not None and given != old["commune_id"]),
                "operator_id": final["operator_id"],
                "code": final["code"],
                "id": final.get("id"),
            }
            if "operator" in data:
                check["operator"] = data["operator"]
            finals[i], checks[i] = final, check

        # The station rules (operator, commissioning, point and commune, one code per operator).
        validate_stations(user, checks, errors=errors, editable=editable)
        candidates = [i for i in range(count) if finals[i] is not None and not errors[i]]
        for i in candidates:
            finals[i]["commune_id"] = checks[i]["commune_id"]

        # What is to be written.
        rows = []
        for i in candidates:
            if errors[i]:
                continue
            final = finals[i]
            old = stored.get((final["source"], final["external_id"]))
            if old is not None and _same_row(old, final):
                statuses[i], public_ids[i] = BULK_UNCHANGED, old["public_id"]
            else:
                rows.append((i, final))
        if atomic and any(errors):
            for i in range(count):
                if not errors[i]:
                    statuses[i], public_ids[i] = BULK_NOT_APPLIED, None
            return outcomes()
        if rows:
            _apply_bulk_rows(rows, atomic, fail, statuses, public_ids, errors)
        if atomic and any(errors):
            transaction.set_rollback(True)
            for i in range(count):
                if not errors[i]:
                    statuses[i], public_ids[i] = BULK_NOT_APPLIED, None
    return outcomes()


def _apply_bulk_rows(rows, atomic, fail, statuses, public_ids, errors):
    """Write the rows in one statement; when the database refuses it (a concurrent writer took a
    code meanwhile), write them one by one, each in a savepoint, to find the ones refused. In
    partial mode an unexpected failure is handled the same way (the row it comes from gets an
    error, the others are written); in atomic mode it is raised (the caller rolls back all)."""
    import logging

    logger = logging.getLogger("stations.bulk")
    try:
        written = _write_bulk_rows_retrying(rows)
    except Exception as exc:
        if atomic and not isinstance(exc, IntegrityError):
            raise
        written = {}
        for row in rows:
            try:
                written.update(_write_bulk_rows_retrying([row]))
            except IntegrityError as exc:
                for name, messages in _bulk_db_error(exc).items():
                    for message in messages:
                        fail(row[0], name, message)
                if atomic:
                    break
            except Exception as exc:
                if atomic:
                    raise
                logger.error("Bulk stations: record %d failed", row[0], exc_info=exc)
                fail(
                    row[0],
                    "non_field_errors",
                    _(
                        "This record could not be saved (an error on our side, logged); "
                        "nothing of it was stored."
                    ),
                )
    for i, final in rows:
        if errors[i]:
            continue
        result = written.get((final["source"], final["external_id"]))
        if result is None:
            continue
        public_ids[i] = result[0]
        statuses[i] = BULK_CREATED if result[1] else BULK_UPDATED
