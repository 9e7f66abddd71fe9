"""Permit applications: the workflow's rules and hooks (declared in stations.workflows), the
actions (thin, through PERMIT.perform), messages, documents and the daily deadlines."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import InvalidInput, InvalidTransition, PermissionDenied
from core.files import check_upload
from core.geo import check_location
from core.history import acting_as
from core.notifications import city_officials, notify, staff_of
from core.permissions import is_city_official
from core.scoping import can_access
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
from stations.services.register import _apply, _validate_structure, acts_for_operator
from stations.services.sites import refresh_site_occupancy

S = PermitApplication.Status

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
