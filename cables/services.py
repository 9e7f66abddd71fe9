"""Every write of the cables app: projects, segments (with their communes clipped once), progress
updates (append-only, corrections), civil-works notices and joint-use registrations, imports."""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cables.models import (
    CableProject,
    CableSegment,
    CivilWorksNotice,
    CivilWorksRegistration,
    ProgressPhoto,
    ProgressUpdate,
)
from core.exceptions import ImportRejected, InvalidInput, InvalidTransition, PermissionDenied
from core.fields import field_errors
from core.files import check_upload
from core.geo import check_location, check_route, length_m
from core.history import acting_as
from core.models import AdministrativeUnit, Organization
from core.notifications import notify, staff_of
from core.permissions import acts_for, is_city_official, is_operator_user
from core.scoping import can_access
from sharing import services as sharing_services

METRICS = ("duct_built_m", "cable_pulled_m", "overhead_removed_m")


def _apply(obj, data, fields):
    unknown = set(data) - set(fields)
    if unknown:
        raise InvalidInput({f: [_("Unknown field.")] for f in sorted(unknown)})
    for key, value in data.items():
        setattr(obj, key, value)


def _full_clean(obj, exclude=()):
    try:
        obj.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise InvalidInput(exc.message_dict) from exc


def can_manage(user, project):
    """City officials and the lead agency's staff manage a project and its segments."""
    return is_city_official(user) or acts_for(user, project.lead_agency_id)


def can_report_on(user, project):
    """Participating operators (for their projects), the lead agency and officials report progress.
    Reads ``project.participants.all()`` (prefetched by the selectors)."""
    if can_manage(user, project):
        return True
    return is_operator_user(user) and any(
        o.pk == user.organization_id for o in project.participants.all()
    )


def reports_civil_works(user, segment):
    """Who reports the civil works of ``segment`` (duct built, poles removed): city officials; the
    segment's responsible operator while it takes part in (or leads) the project; the lead agency
    when it is a state agency, or on a segment without a responsible operator. No other operator,
    not even one leading the project or taking part in it."""
    project = segment.project
    if is_city_official(user):
        return True
    if segment.operator_id is not None and acts_for(user, segment.operator_id):
        return can_report_on(user, project)
    if acts_for(user, project.lead_agency_id):
        return segment.operator_id is None or project.lead_agency.kind == Organization.Kind.AGENCY
    return False


def takes_part(user, project):
    """Staff (or an API client) of one of the project's participating operators. Reads
    ``project.participants.all()`` (prefetched by the selectors)."""
    return is_operator_user(user) and any(
        o.pk == user.organization_id for o in project.participants.all()
    )


def can_report(user, segment):
    """Who may post a progress update on ``segment``, whatever the door: whoever reports its civil
    works (``reports_civil_works``), and every participating operator of the project, which
    reports there the cable it pulled in and the overhead cable it removed (its own updates)."""
    return reports_civil_works(user, segment) or takes_part(user, segment.project)


def civil_works_errors(user, segment, *, duct_built_m=0, poles_removed=0):
    """The field errors of an update by ``user`` on ``segment`` that reports civil works it may not
    report (``reports_civil_works``); {} when there are none. The one rule behind the service, the
    form, the page and the API."""
    if not (duct_built_m or 0) > 0 and not (poles_removed or 0) > 0:
        return {}
    if reports_civil_works(user, segment):
        return {}
    if segment.operator_id is None:
        message = _(
            "This segment has no responsible operator: the lead agency reports its duct built "
            "and poles removed."
        )
    else:
        message = _(
            "Only the segment's responsible operator (%(operator)s) reports the duct built and "
            "poles removed on it; your organisation reports the cable it pulled in and the "
            "overhead cable it removed."
        ) % {"operator": segment.operator.short_name or segment.operator}
    fields = {"duct_built_m": duct_built_m, "poles_removed": poles_removed}
    return {name: [message] for name, value in fields.items() if (value or 0) > 0}


def reportable_segments(user, project):
    """The project's segments ``user`` may report on: ``can_report`` as a queryset (the forms offer
    these and no others). ``civil_works_segments`` tells which of them take duct and poles."""
    segments = CableSegment.objects.filter(project=project)
    if is_city_official(user) or takes_part(user, project):
        return segments
    return civil_works_segments(user, project)


def civil_works_segments(user, project):
    """The project's segments whose civil works (duct, poles) ``user`` reports:
    ``reports_civil_works`` as a queryset."""
    segments = CableSegment.objects.filter(project=project)
    if is_city_official(user):
        return segments
    leads = acts_for(user, project.lead_agency_id)
    if leads and project.lead_agency.kind == Organization.Kind.AGENCY:
        return segments
    allowed = Q(pk__in=[])
    if (
        user.organization_id
        and acts_for(user, user.organization_id)
        and can_report_on(user, project)
    ):
        allowed |= Q(operator_id=user.organization_id)
    if leads:
        allowed |= Q(operator__isnull=True)
    return segments.filter(allowed)


def can_correct(user, update):
    """A correction supersedes ``update`` (its figures stop counting): only the organisation that
    reported it, or a city official, may post one."""
    return is_city_official(user) or acts_for(user, update.operator_id)


def misreported_civil_works():
    """Updates that still count and report civil works (duct built, poles removed) their reporter
    does not report: another operator's duct or poles on a segment with a responsible operator,
    posted before ``civil_works_errors`` guarded every door. The same rule as
    ``reports_civil_works``, read from what was stored: the responsible operator, a city
    official, or the lead agency where it reports them."""
    candidates = (
        ProgressUpdate.objects.filter(corrected_by__isnull=True)
        .filter(Q(duct_built_m__gt=0) | Q(poles_removed__gt=0))
        .exclude(segment__operator_id__isnull=True)
        .exclude(operator_id=models.F("segment__operator_id"))
        .select_related("segment__project__lead_agency", "segment__operator", "created_by")
        .order_by("id")
    )
    return [
        update
        for update in candidates
        if not is_city_official(update.created_by)
        and not (
            update.operator_id == update.segment.project.lead_agency_id
            and update.segment.project.lead_agency.kind == Organization.Kind.AGENCY
        )
    ]


def correct_misreported_civil_works(user):
    """Supersede every ``misreported_civil_works`` update by a correction in the reporter's name
    that keeps its cable pulled in and overhead cable removed and drops the duct and poles (which
    the segment's responsible operator reports), recorded as ``user``'s (a city official) with a
    note saying why. Nothing is deleted or changed in place; returns the corrections."""
    if not is_city_official(user):
        raise PermissionDenied()
    corrections = []
    with transaction.atomic(), acting_as(user, action="cables.progress.correct_civil_works"):
        for update in misreported_civil_works():
            note = _(
                "Correction: the duct built (%(duct).0f m) and poles removed (%(poles)d) are "
                "reported by the segment's responsible operator (%(operator)s), not by "
                "%(reporter)s."
            ) % {
                "duct": update.duct_built_m,
                "poles": update.poles_removed,
                "operator": update.segment.operator.short_name or update.segment.operator,
                "reporter": update.operator.short_name or update.operator,
            }
            corrections.append(
                ProgressUpdate.objects.create(
                    segment=update.segment,
                    operator=update.operator,
                    reported_on=update.reported_on,
                    duct_built_m=0,
                    cable_pulled_m=update.cable_pulled_m,
                    overhead_removed_m=update.overhead_removed_m,
                    poles_removed=0,
                    note=note,
                    corrects=update,
                    created_by=user,
                )
            )
    return corrections


def correctable_updates(user, project):
    """Updates of the project that ``user`` may correct: not yet corrected, on a segment the user
    reports on, reported by the user's own organisation (any, for a city official)."""
    updates = ProgressUpdate.objects.filter(
        segment__in=reportable_segments(user, project), corrected_by__isnull=True
    )
    if is_city_official(user):
        return updates
    if not (user.organization_id and acts_for(user, user.organization_id)):
        return updates.none()
    return updates.filter(operator_id=user.organization_id)


# --- Projects and segments ---------------------------------------------------------------------

PROJECT_FIELDS = (
    "code",
    "name",
    "lead_agency",
    "programme",
    "year",
    "streets",
    "planned_start",
    "planned_end",
    "budget_source",
    "status",
)


@transaction.atomic
def save_project(user, project=None, participants=None, **data):
    project = project or CableProject()
    if project.pk and not can_manage(user, project):
        raise PermissionDenied()
    _apply(project, data, PROJECT_FIELDS)
    if project.lead_agency_id is None:
        raise InvalidInput({"lead_agency": [_("Choose the lead agency.")]})
    if not can_manage(user, project):
        raise PermissionDenied()
    if (
        project.planned_start
        and project.planned_end
        and project.planned_end < project.planned_start
    ):
        raise InvalidInput({"planned_end": [_("The end date cannot be before the start date.")]})
    _full_clean(project, exclude=["lead_agency"])
    try:
        with transaction.atomic(), acting_as(user):
            project.save()
    except IntegrityError as exc:
        raise InvalidInput({"code": [_("A project with this code exists.")]}) from exc
    if participants is not None:
        bad = [o for o in participants if o.kind != Organization.Kind.OPERATOR]
        if bad:
            raise InvalidInput({"participants": [_("Only telecom operators take part.")]})
        project.participants.set(participants)
    return project


SEGMENT_FIELDS = ("name", "route", "method", "operator", "bores")


def _clip_communes(segment):
    """Store the segment's length inside each commune (clipped once, here, not at query time)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cables_segmentcommune WHERE segment_id = %s", [segment.pk])
        cursor.execute(
            """
            INSERT INTO cables_segmentcommune (segment_id, commune_id, length_m)
            SELECT %(id)s, u.id, ST_Length(ST_Intersection(u.boundary, s.route)::geography)
            FROM cables_cablesegment s JOIN core_administrativeunit u ON ST_Intersects(u.boundary, s.route)
            WHERE s.id = %(id)s
            """,
            {"id": segment.pk},
        )


@transaction.atomic
def save_segment(user, project, segment=None, **data):
    """Create or change a segment; its length (m) and communes follow from the route."""
    if not can_manage(user, project):
        raise PermissionDenied()
    segment = segment or CableSegment(project=project)
    if segment.project_id != project.pk:
        raise InvalidInput({"project": [_("The segment belongs to another project.")]})
    if "route" in data:
        data["route"] = check_route(data["route"])
    _apply(segment, data, SEGMENT_FIELDS)
    segment.route = check_route(segment.route)
    segment.length_m = length_m(segment.route)
    if segment.operator_id and not project.participants.filter(pk=segment.operator_id).exists():
        raise InvalidInput({"operator": [_("The operator does not take part in this project.")]})
    _full_clean(segment, exclude=["project", "operator", "route"])
    if segment.pk:
        done = segment_totals([segment.pk]).get(segment.pk, {})
        if any(done.get(m, 0) > segment.length_m + 0.5 for m in METRICS):
            raise InvalidInput(
                {"route": [_("The new route is shorter than the work already reported on it.")]}
            )
    with acting_as(user):
        segment.save()
        _clip_communes(segment)
    return segment


# --- Progress ------------------------------------------------------------------------------------

TOTALS_SQL = """
    SELECT u.segment_id, SUM(u.duct_built_m), SUM(u.cable_pulled_m), SUM(u.overhead_removed_m),
           SUM(u.poles_removed)
    FROM cables_progressupdate u
    WHERE u.segment_id = ANY(%(ids)s) AND u.reported_on <= %(as_of)s
      AND NOT EXISTS (SELECT 1 FROM cables_progressupdate c
                      WHERE c.corrects_id = u.id AND c.reported_on <= %(as_of)s)
    GROUP BY u.segment_id
"""


def segment_totals(segment_ids, as_of=None):
    """{segment id: {metric: metres}} of the updates in force on ``as_of`` (corrected ones excluded)."""
    with connection.cursor() as cursor:
        cursor.execute(TOTALS_SQL, {"ids": list(segment_ids), "as_of": as_of or date.max})
        return {
            row[0]: {
                "duct_built_m": row[1],
                "cable_pulled_m": row[2],
                "overhead_removed_m": row[3],
                "poles_removed": row[4],
            }
            for row in cursor.fetchall()
        }


@transaction.atomic
def record_progress(
    user,
    segment,
    *,
    reported_on,
    duct_built_m=0,
    cable_pulled_m=0,
    overhead_removed_m=0,
    poles_removed=0,
    note="",
    photos=(),
    corrects=None,
):
    """Append a progress update. A correction names the update it replaces; totals may never exceed
    the segment's length. Returns the update."""
    segment = (
        CableSegment.objects.select_for_update(of=("self",))
        .select_related("project__lead_agency", "operator")
        .get(pk=segment.pk)
    )
    if not can_access(user, segment.project):
        raise PermissionDenied()
    if not can_report(user, segment):
        raise PermissionDenied(
            _("Only the segment's responsible operator or a city official reports progress on it.")
        )
    errors = {}
    if reported_on is None:
        errors["reported_on"] = [_("Give the date of the work.")]
    elif reported_on > timezone.localdate():
        errors["reported_on"] = [_("The date of the work cannot be in the future.")]
    values = {
        "duct_built_m": duct_built_m,
        "cable_pulled_m": cable_pulled_m,
        "overhead_removed_m": overhead_removed_m,
    }
    for name, value in values.items():
        if value is None or value < 0:
            errors[name] = [_("Metres cannot be negative.")]
    if poles_removed is None or poles_removed < 0:
        errors["poles_removed"] = [_("A count cannot be negative.")]
    # Duct and poles come from the segment's responsible operator alone (see civil_works_errors).
    errors.update(
        civil_works_errors(user, segment, duct_built_m=duct_built_m, poles_removed=poles_removed)
    )
    # The model fields' ranges (core.fields), for whichever door the values came through.
    ranged = field_errors(ProgressUpdate, poles_removed=poles_removed, **values)
    errors = {**ranged, **errors}
    if corrects is not None:
        if corrects.segment_id != segment.pk:
            errors["corrects"] = [_("The corrected update belongs to another segment.")]
        elif ProgressUpdate.objects.filter(corrects=corrects).exists():
            errors["corrects"] = [_("This update has already been corrected.")]
        elif not can_correct(user, corrects):
            errors["corrects"] = [
                _(
                    "Only the organisation that reported this update, or a city official, may correct it."
                )
            ]
    if errors:
        raise InvalidInput(errors)
    current = segment_totals([segment.pk]).get(segment.pk, {})
    for name, value in values.items():
        total = (current.get(name) or 0) - (getattr(corrects, name) if corrects else 0) + value
        if total > segment.length_m + 0.5:
            errors[name] = [
                _("That makes %(total).0f m on a %(length).0f m segment.")
                % {"total": total, "length": segment.length_m}
            ]
    if errors:
        raise InvalidInput(errors)
    operator = user.organization if user.organization_id else segment.project.lead_agency
    with acting_as(user, action="cables.progress"):
        update = ProgressUpdate.objects.create(
            segment=segment,
            operator=operator,
            reported_on=reported_on,
            note=note,
            corrects=corrects,
            poles_removed=poles_removed,
            created_by=user,
            **values,
        )
        for uploaded in photos:
            content_type = check_upload(
                uploaded, allowed=("image/jpeg", "image/png"), field="photos"
            )
            photo = ProgressPhoto(update=update, content_type=content_type, size=uploaded.size)
            photo.file.save(uploaded.name, uploaded, save=False)
            photo.save()
    _register_built_duct(segment)
    return update


def _register_built_duct(segment):
    """Once a new duct bank is fully built, it appears in the sharing register with its free bores."""
    if segment.method != CableSegment.Method.NEW_DUCT_BANK or segment.duct_asset_id:
        return
    built = segment_totals([segment.pk]).get(segment.pk, {}).get("duct_built_m") or 0
    if built < segment.length_m - 0.5:
        return
    owner = segment.operator or segment.project.lead_agency
    asset = sharing_services.save_asset(
        None,
        code=f"{segment.project.code}-S{segment.pk}",
        name=segment.name,
        kind="duct",
        owner=owner,
        geometry=segment.route,
        capacity=segment.bores,
    )
    CableSegment.objects.filter(pk=segment.pk).update(duct_asset=asset)


# --- Civil works and joint use --------------------------------------------------------------------

NOTICE_FIELDS = (
    "title",
    "owner",
    "route",
    "commune",
    "description",
    "effective_from",
    "effective_to",
    "registration_deadline",
)


@transaction.atomic
def save_notice(user, notice=None, **data):
    notice = notice or CivilWorksNotice()
    if notice.pk and not (is_city_official(user) or acts_for(user, notice.owner_id)):
        raise PermissionDenied()
    if "route" in data:
        data["route"] = check_route(data["route"])
    _apply(notice, data, NOTICE_FIELDS)
    if notice.owner_id is None:
        raise InvalidInput({"owner": [_("Choose the works owner.")]})
    if not (is_city_official(user) or acts_for(user, notice.owner_id)):
        raise PermissionDenied()
    notice.route = check_route(notice.route)
    middle = notice.route.interpolate_normalized(0.5)
    middle.srid = 4326
    notice.commune = check_location(
        middle, notice.commune if notice.commune_id else None, field="route"
    )
    if (
        notice.effective_from
        and notice.effective_to
        and notice.effective_to < notice.effective_from
    ):
        raise InvalidInput({"effective_to": [_("The end date cannot be before the start date.")]})
    if (
        notice.registration_deadline
        and notice.effective_from
        and notice.registration_deadline > notice.effective_from
    ):
        raise InvalidInput(
            {"registration_deadline": [_("Registration must close before the works start.")]}
        )
    _full_clean(notice, exclude=["owner", "commune", "route"])
    created = notice.pk is None
    with acting_as(user):
        notice.save()
    if created:  # every operator hears of a new joint-use window
        operators = Organization.objects.filter(kind=Organization.Kind.OPERATOR)
        users = [u for org in operators for u in staff_of(org)]
        notify(
            users,
            _("Civil works: %(title)s — register by %(date)s")
            % {"title": notice.title, "date": notice.registration_deadline.strftime("%d/%m/%Y")},
        )
    return notice


@transaction.atomic
def register_joint_use(user, notice, need, bores=1, note="", today=None):
    today = today or timezone.localdate()
    if not (
        user
        and user.organization_id
        and user.organization.kind == Organization.Kind.OPERATOR
        and acts_for(user, user.organization_id)
    ):
        raise PermissionDenied(_("Only an operator's staff can register."))
    notice = CivilWorksNotice.objects.select_for_update().get(pk=notice.pk)
    if notice.status != CivilWorksNotice.Status.OPEN or notice.registration_deadline < today:
        raise InvalidTransition(_("Registration for this notice is closed."))
    registration = CivilWorksRegistration(
        notice=notice,
        operator=user.organization,
        need=need,
        bores=bores,
        note=note,
        created_by=user,
    )
    _full_clean(registration, exclude=["notice", "operator", "created_by"])
    try:
        with transaction.atomic(), acting_as(user):
            registration.save()
    except IntegrityError as exc:
        raise InvalidInput(
            {"need": [_("Your organisation is already registered for this notice.")]}
        ) from exc
    notify(
        staff_of(notice.owner),
        _("%(op)s registered for joint use: %(title)s")
        % {"op": user.organization, "title": notice.title},
    )
    return registration


@dataclass
class CloseRun:
    closed: int = 0


def close_expired_notices(today=None):
    """Notices whose registration deadline has passed close by themselves (Celery beat, daily)."""
    today = today or timezone.localdate()
    with acting_as(None, action="cables.close_notices"):
        closed = CivilWorksNotice.objects.filter(
            status=CivilWorksNotice.Status.OPEN, registration_deadline__lt=today
        ).update(status=CivilWorksNotice.Status.CLOSED, updated_at=timezone.now())
    return CloseRun(closed=closed)


# --- Import of segments -----------------------------------------------------------------------------


def import_segments(user, project, uploaded):
    """Segments from GeoJSON (LineString features), KML (Placemarks with a LineString) or CSV with a
    ``wkt`` column; properties/columns ``name``, ``method``, ``operator`` (code), ``bores``.
    Every row is checked first; any error refuses the file, nothing is written."""
    from cables.importing import read_segments
    from core.services import ImportResult

    if not can_manage(user, project):
        raise PermissionDenied()
    rows = read_segments(uploaded)
    operators = {o.code: o for o in project.participants.all()}
    methods = set(CableSegment.Method.values)
    errors, valid = [], []
    for number, row in rows:
        if row.get("error"):
            errors.append({"row": number, "column": "geometry", "message": row["error"]})
            continue
        try:
            route = check_route(row["route"], field="geometry")
        except InvalidInput as exc:
            errors += [
                {"row": number, "column": "geometry", "message": str(m)}
                for m in exc.errors["geometry"]
            ]
            continue
        if not row.get("name"):
            errors.append(
                {"row": number, "column": "name", "message": _("This field is required.")}
            )
        if row.get("method") not in methods:
            errors.append(
                {
                    "row": number,
                    "column": "method",
                    "message": _("Use one of: %(m)s.") % {"m": ", ".join(sorted(methods))},
                }
            )
        operator = None
        if row.get("operator"):
            operator = operators.get(row["operator"].strip().upper())
            if operator is None:
                errors.append(
                    {
                        "row": number,
                        "column": "operator",
                        "message": _("%(code)s does not take part in this project.")
                        % {"code": row["operator"]},
                    }
                )
        try:
            bores = int(row.get("bores") or 4)
            if not 1 <= bores <= 200:
                raise ValueError
        except ValueError:
            errors.append({"row": number, "column": "bores", "message": _("Between 1 and 200.")})
            bores = None
        valid.append((number, route, row, operator, bores))
    if errors:
        raise ImportRejected(errors=errors)
    created = 0
    with transaction.atomic():
        for _number, route, row, operator, bores in valid:
            save_segment(
                user,
                project,
                name=row["name"][:255],
                route=route,
                method=row["method"],
                operator=operator,
                bores=bores,
            )
            created += 1
    return ImportResult(created=created)


def unit_names():
    return dict(AdministrativeUnit.objects.values_list("id", "name"))


# --- The segment import as a job of core.imports (manage.py import_file and the worker) ------------

SEGMENT_KIND = "cables.segments"


def start_segment_import(user, uploaded, enqueue=True, project=None, **options):
    """Queue an import of a project's segments (core.imports); ``project``: its code or id. The
    file is taken whole or not at all (atomic), as on the project's page."""
    from core import imports

    found = None
    if project:
        found = CableProject.objects.filter(code=str(project)).first()
        if found is None:
            try:
                found = CableProject.objects.filter(public_id=project).first()
            except (ValueError, ValidationError):
                found = None
    if found is None:
        raise InvalidInput({"project": [_("Name the project (its code) the segments belong to.")]})
    if not can_manage(user, found):
        raise PermissionDenied()
    options = {k: v for k, v in options.items() if v not in (None, "")}
    options.update(project=str(found.public_id), mode="atomic")
    return imports.start(user, SEGMENT_KIND, uploaded, options, enqueue=enqueue)


def run_segment_import(job, progress):
    """core.imports' handler: the project's segments from the job's file, all or nothing."""
    project = CableProject.objects.get(public_id=job.options["project"])
    with job.file.open("rb") as handle:
        result = import_segments(job.created_by, project, handle)
    progress(result.created, total=result.created, created_count=result.created)
    return _("%(created)d segments created.") % {"created": result.created}
