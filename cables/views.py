"""HTML pages of the cables app: undergrounding projects (list, detail with progress, segments,
imports and progress reports), the city map of segments, and civil-works notices with joint-use
registrations.

Views parse the request, call a selector or a service and render. Every write goes through
``cables.services``; a domain error becomes a form error or a message, never a 500. Selectors are
scoped: an operator sees only the projects it takes part in (another project is a 404).
"""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import FloatField, OuterRef, Prefetch, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from cables import selectors, services
from cables.filters import NoticeFilter, ProjectFilter, SegmentFilter
from cables.forms import (
    ImportForm,
    NoticeForm,
    ProgressForm,
    ProjectForm,
    RegistrationForm,
    SegmentForm,
)
from cables.models import (
    CableProject,
    CableSegment,
    CivilWorksNotice,
    ProgressPhoto,
    ProgressUpdate,
    SegmentCommune,
)
from core.exceptions import DomainError, ImportRejected, InvalidInput
from core.exports import EXPORT_LIMIT
from core.geojson import feature_collection
from core.models import Organization
from core.permissions import acts_for, is_city_official, is_operator_user
from core.text import vietnamese
from core.web import (
    ListPage,
    ServiceFormView,
    filtered,
    history_rows,
    sort_headers,
    style_filter_form,
)

# The city map: at most this many segments per request, and the body stays under MAP_MAX_BYTES.
MAP_LIMIT = 2000
MAP_MAX_BYTES = 1_000_000
MAP_FILTERS = ("status", "commune", "operator", "year")

# Colours by progress (% of duct built) and by project status; the legend and the map share them.
PROGRESS_COLOURS = [
    (0, "#dc2626", gettext_lazy("Not started")),
    (1, "#f97316", gettext_lazy("Under 50%")),
    (50, "#eab308", gettext_lazy("50–99%")),
    (100, "#16a34a", gettext_lazy("Done")),
]
STATUS_COLOURS = {
    CableProject.Status.PLANNED: "#6b7280",
    CableProject.Status.APPROVED: "#2563eb",
    CableProject.Status.IN_CONSTRUCTION: "#f97316",
    CableProject.Status.COMPLETED: "#16a34a",
    CableProject.Status.SUSPENDED: "#a855f7",
    CableProject.Status.CANCELLED: "#111827",
}
METRICS = ("duct_built_m", "cable_pulled_m", "overhead_removed_m")


def pct(done, total):
    if not total:
        return 0
    return max(0, min(100, round(100 * (done or 0) / total)))


def progress_colour(percent):
    colour = PROGRESS_COLOURS[0][1]
    for threshold, value, _label in PROGRESS_COLOURS:
        if percent >= threshold:
            colour = value
    return colour


def may_create_project(user):
    """City officials, and the staff of an agency (as the lead agency)."""
    if is_city_official(user):
        return True
    org = user.organization if user.organization_id else None
    return bool(org and org.kind == Organization.Kind.AGENCY and acts_for(user, org.pk))


def lead_agencies_for(user):
    orgs = Organization.objects.order_by(vietnamese("name"))
    if is_city_official(user):
        return orgs.exclude(kind=Organization.Kind.OPERATOR)
    return orgs.filter(pk=user.organization_id)


def may_create_notice(user):
    return is_city_official(user) or bool(
        user.organization_id and acts_for(user, user.organization_id)
    )


def notice_owners_for(user):
    orgs = Organization.objects.order_by(vietnamese("name"))
    if is_city_official(user):
        return orgs
    return orgs.filter(pk=user.organization_id)


def with_progress(totals):
    """km figures and % of the plan for one row of project/commune totals."""
    planned = totals.get("km_planned") or 0
    row = dict(totals)
    row["km_planned"] = planned
    for kind in ("duct_built", "cable_pulled", "overhead_removed"):
        done = row.get(f"km_{kind}") or 0
        row[f"km_{kind}"] = done
        row[f"pct_{kind}"] = pct(done, planned)
    return row


EMPTY_TOTALS = {
    "km_planned": 0,
    "km_duct_built": 0,
    "km_cable_pulled": 0,
    "km_overhead_removed": 0,
    "poles_removed": 0,
}


# --- Projects ----------------------------------------------------------------------------------

PROJECT_COLUMNS = [
    ("code", gettext_lazy("Code")),
    ("name", gettext_lazy("Name")),
    ("year", gettext_lazy("Year")),
    (None, gettext_lazy("Lead agency")),
    (None, gettext_lazy("Operators")),
    (None, gettext_lazy("Status")),
    (None, gettext_lazy("Planned (km)")),
    (None, gettext_lazy("Duct built")),
    (None, gettext_lazy("Cable pulled in")),
    (None, gettext_lazy("Overhead removed")),
]
PROJECT_ORDERING = {"code": "code", "name": "name", "year": "year"}


def ordered_projects(request, qs):
    key = request.GET.get("ordering", "")
    field = PROJECT_ORDERING.get(key.lstrip("-"))
    if field is None:
        return qs.order_by("-year", "code", "id")
    return qs.order_by(f"-{field}" if key.startswith("-") else field, "id")


def project_export_columns(totals):
    def total(name):
        return lambda p: round(totals.get(p.pk, EMPTY_TOTALS)[name] or 0, 3)

    return [
        ("code", "code"),
        ("name", "name"),
        ("year", "year"),
        ("status", "status"),
        ("lead_agency", "lead_agency.code"),
        ("participants", lambda p: [o.code for o in p.participants.all()]),
        ("programme", "programme"),
        ("streets", "streets"),
        ("planned_start", "planned_start"),
        ("planned_end", "planned_end"),
        ("budget_source", "budget_source"),
        ("km_planned", total("km_planned")),
        ("km_duct_built", total("km_duct_built")),
        ("km_cable_pulled", total("km_cable_pulled")),
        ("km_overhead_removed", total("km_overhead_removed")),
        ("poles_removed", total("poles_removed")),
        ("id", "public_id"),
        ("updated_at", "updated_at"),
    ]


class ProjectListView(ListPage):
    template_name = "cables/project_list.html"
    filterset_class = ProjectFilter

    def get_queryset(self):
        return ordered_projects(self.request, selectors.projects(self.request.user))

    export_name = "cable-projects"
    export_title = _("Undergrounding projects")

    def export_columns(self, queryset):
        ids = list(queryset.values_list("pk", flat=True)[:EXPORT_LIMIT])
        return project_export_columns(selectors.project_totals(ids))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        rows = list(ctx["object_list"])
        totals = selectors.project_totals([p.pk for p in rows]) if rows else {}
        for project in rows:
            project.totals = with_progress(totals.get(project.pk, EMPTY_TOTALS))
        ctx.update(
            object_list=rows,
            headers=sort_headers(self.request, PROJECT_COLUMNS),
            hidden_filters=("ordering",),
            can_create=may_create_project(self.request.user),
            tab="projects",
        )
        return ctx


class ProjectCreateView(ServiceFormView):
    template_name = "cables/project_form.html"
    form_class = ProjectForm

    def dispatch(self, request, *args, **kwargs):
        if not may_create_project(request.user):
            raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "lead_agencies": lead_agencies_for(self.request.user)}

    def perform(self, form):
        participants, data = form.service_data()
        project = services.save_project(self.request.user, participants=participants, **data)
        messages.success(self.request, _("Project %(p)s saved.") % {"p": project})
        return project

    def success_url_for(self, obj):
        return reverse("cables:project-detail", args=[obj.pk])


def _project_or_404(user, pk):
    project = selectors.projects(user).filter(pk=pk).first()
    if project is None:
        raise Http404
    return project


def reportable_segments(user, project):
    """The project's segments the user may report progress on (services.can_report's rule: the
    participating operators report cable and overhead on every segment of the project)."""
    return services.reportable_segments(user, project).order_by("id")


def civil_works_ids(user, project):
    """Ids of the project's segments whose duct and poles the user reports (the others it reports
    on take cable and overhead only: services.reports_civil_works's rule)."""
    return set(services.civil_works_segments(user, project).values_list("pk", flat=True))


def open_updates(user, project):
    """Updates of the project that the user's new report may correct (not yet corrected, its own
    organisation's unless a city official)."""
    return (
        services.correctable_updates(user, project)
        .select_related("segment", "operator")
        .order_by("-reported_on", "-id")
    )


def render_project(request, project, status=200, forms=None, import_errors=None):
    user = request.user
    forms = forms or {}
    segments = list(
        CableSegment.objects.filter(project=project)
        .select_related("operator")
        .prefetch_related(
            Prefetch(
                "pieces",
                queryset=SegmentCommune.objects.select_related("commune").defer(
                    *selectors.UNIT_DEFERRED
                ),
            )
        )
        .order_by("id")
    )
    done = services.segment_totals([s.pk for s in segments]) if segments else {}
    features = []
    for seg in segments:
        seg.done = done.get(seg.pk, {})
        seg.pct = {m: pct(seg.done.get(m), seg.length_m) for m in METRICS}
        seg.colour = progress_colour(seg.pct["duct_built_m"])
        seg.commune_names = [p.commune.name for p in seg.pieces.all()]
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(seg.route.geojson),
                "properties": {
                    "name": seg.name,
                    "colour": seg.colour,
                    "pct": seg.pct["duct_built_m"],
                    "operator": seg.operator.short_name if seg.operator else "",
                    "length_m": round(seg.length_m),
                },
            }
        )
    totals = with_progress(selectors.project_totals([project.pk]).get(project.pk, EMPTY_TOTALS))
    by_operator = selectors.totals_by_operator(project_ids=[project.pk])
    planned = totals["km_planned"]
    for row in by_operator:
        row["share_duct"] = pct(row["km_duct_built"], totals["km_duct_built"])
        row["pct_duct"] = pct(row["km_duct_built"], planned)
        row["pct_cable"] = pct(row["km_cable_pulled"], planned)
    by_commune = [with_progress(r) for r in selectors.totals_by_commune(project_ids=[project.pk])]
    timeline = list(
        ProgressUpdate.objects.filter(segment__project=project)
        .select_related("segment", "operator", "created_by", "corrects", "corrected_by")
        .prefetch_related("photos")
        .order_by("-reported_on", "-id")
    )
    can_manage = services.can_manage(user, project)
    reportable = reportable_segments(user, project)
    can_report = reportable.exists()
    context = {
        "project": project,
        "participants": list(project.participants.all()),
        "segments": segments,
        "totals": totals,
        "by_operator": by_operator,
        "by_commune": by_commune,
        "timeline": timeline,
        "can_manage": can_manage,
        "can_report": can_report,
        "segment_form": (forms.get("segment") or SegmentForm(project=project))
        if can_manage
        else None,
        "import_form": (forms.get("import") or ImportForm()) if can_manage else None,
        "import_errors": import_errors or [],
        "progress_form": (
            forms.get("progress")
            or ProgressForm(
                segments=reportable,
                updates=open_updates(user, project),
                civil_works=civil_works_ids(user, project),
                initial={"reported_on": timezone.localdate()},
            )
        )
        if can_report
        else None,
        "map_data": {"type": "FeatureCollection", "features": features},
        "legend": [{"colour": c, "label": str(label)} for _t, c, label in PROGRESS_COLOURS],
        "history": history_rows(project, CableProject),
    }
    return render(request, "cables/project_detail.html", context, status=status)


def project_detail(request, pk):
    return render_project(request, _project_or_404(request.user, pk))


@require_POST
def segment_create(request, pk):
    project = _project_or_404(request.user, pk)
    if not services.can_manage(request.user, project):
        raise DjangoPermissionDenied
    form = SegmentForm(request.POST, project=project)
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "route_text"}
        try:
            segment = services.save_segment(request.user, project, **data)
        except InvalidInput as exc:
            form.add_service_errors(exc)
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(
                request,
                _("Segment %(name)s added: %(m)s m.")
                % {"name": segment.name, "m": number_format(round(segment.length_m))},
            )
            return redirect(reverse("cables:project-detail", args=[project.pk]) + "#segments")
    return render_project(request, project, status=400, forms={"segment": form})


@require_POST
def segment_import(request, pk):
    project = _project_or_404(request.user, pk)
    if not services.can_manage(request.user, project):
        raise DjangoPermissionDenied
    form = ImportForm(request.POST, request.FILES)
    errors = []
    if form.is_valid():
        try:
            result = services.import_segments(request.user, project, form.cleaned_data["file"])
        except ImportRejected as exc:
            errors = exc.errors if isinstance(exc.errors, list) else []
            form.add_error(None, str(exc.message))
        except InvalidInput as exc:
            form.add_error(None, str(exc.message))
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("%(n)s segments imported.") % {"n": result.created})
            return redirect(reverse("cables:project-detail", args=[project.pk]) + "#segments")
    return render_project(
        request, project, status=400, forms={"import": form}, import_errors=errors
    )


@require_POST
def progress_create(request, pk):
    project = _project_or_404(request.user, pk)
    reportable = reportable_segments(request.user, project)
    if not reportable.exists():
        raise DjangoPermissionDenied
    form = ProgressForm(
        request.POST,
        request.FILES,
        segments=reportable,
        updates=open_updates(request.user, project),
        civil_works=civil_works_ids(request.user, project),
    )
    if form.is_valid():
        try:
            services.record_progress(
                request.user, form.cleaned_data["segment"], **form.service_data()
            )
        except InvalidInput as exc:
            form.add_service_errors(exc)
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Progress recorded."))
            return redirect(reverse("cables:project-detail", args=[project.pk]) + "#timeline")
    return render_project(request, project, status=400, forms={"progress": form})


def progress_photo(request, pk):
    """A progress photo of a project the user may see (never by a public media URL)."""
    photo = get_object_or_404(ProgressPhoto.objects.select_related("update__segment"), pk=pk)
    _project_or_404(request.user, photo.update.segment.project_id)
    return FileResponse(photo.file.open("rb"), content_type=photo.content_type)


# --- The city map ----------------------------------------------------------------------------------


def _map_filter(params, queryset):
    filterset = SegmentFilter(params, queryset=queryset)
    return filterset


class SegmentMapView(TemplateView):
    template_name = "cables/segment_map.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        filterset = _map_filter(self.request.GET, CableSegment.objects.none())
        filterset.form.fields = {k: v for k, v in filterset.form.fields.items() if k in MAP_FILTERS}
        style_filter_form(filterset)
        params = self.request.GET.copy()
        for name in ("bbox", "page", "export", "ordering"):
            params.pop(name, None)
        query = params.urlencode()
        ctx.update(
            filter=filterset,
            hidden_filters=(),
            tab="map",
            progress_legend=[
                {"colour": c, "label": str(label)} for _t, c, label in PROGRESS_COLOURS
            ],
            status_legend=[
                {"colour": STATUS_COLOURS[s], "label": str(label)}
                for s, label in CableProject.Status.choices
            ],
            map_config={
                "geojsonUrl": reverse("cables:segment-geojson") + (f"?{query}" if query else ""),
                "limit": MAP_LIMIT,
                "progressColours": [[t, c] for t, c, _label in PROGRESS_COLOURS],
                "statusColours": {str(k): v for k, v in STATUS_COLOURS.items()},
                "statuses": {str(k): str(v) for k, v in CableProject.Status.choices},
                "text": {
                    "project": _("Project"),
                    "operator": _("Operator"),
                    "length": _("Length"),
                    "duct": _("Duct built"),
                    "loading": _("Loading…"),
                    "shown": _("Segments shown:"),
                    "more": _("(the first ones only; zoom in to see the rest)"),
                    "failed": _("The segments could not be loaded."),
                },
            },
        )
        return ctx


def _duct_built():
    """Metres of duct built on the segment by the updates in force (corrected ones left out)."""
    return Coalesce(
        Subquery(
            ProgressUpdate.objects.filter(segment=OuterRef("pk"), corrected_by__isnull=True)
            .order_by()
            .values("segment")
            .annotate(total=Sum("duct_built_m"))
            .values("total")[:1],
            output_field=FloatField(),
        ),
        0.0,
        output_field=FloatField(),
    )


def segment_geojson(request):
    """Filtered segments in the map's box, with the metres of duct built, as GeoJSON written by
    PostgreSQL: at most MAP_LIMIT features and under MAP_MAX_BYTES (fewer features if needed)."""
    filterset = _map_filter(request.GET, selectors.segments(request.user))
    qs = filtered(filterset)
    properties = {
        **selectors.SEGMENT_PROPERTIES,
        "project_id": "project_id",
        "duct_built_m": _duct_built(),
    }
    limit = MAP_LIMIT
    while True:
        limited = CableSegment.objects.filter(pk__in=qs.order_by("id").values("pk")[:limit])
        body = feature_collection(
            limited, geometry="route", properties=properties, id_field="id", precision=6
        )
        if len(body) <= MAP_MAX_BYTES or limit <= 50:
            break
        limit //= 2
    response = HttpResponse(body, content_type="application/geo+json")
    response["X-Feature-Limit"] = str(limit)
    return response


# --- Civil-works notices -------------------------------------------------------------------------


class NoticeListView(ListPage):
    template_name = "cables/notice_list.html"
    filterset_class = NoticeFilter

    def get_queryset(self):
        return selectors.notices(self.request.user).order_by("registration_deadline", "id")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        rows = list(ctx["object_list"])
        today = timezone.localdate()
        for notice in rows:
            notice.is_open = (
                notice.status == CivilWorksNotice.Status.OPEN
                and notice.registration_deadline >= today
            )
        features = [
            {
                "type": "Feature",
                "geometry": json.loads(n.route.geojson),
                "properties": {
                    "title": n.title,
                    "url": reverse("cables:notice-detail", args=[n.pk]),
                    "colour": "#2563eb" if n.is_open else "#6b7280",
                },
            }
            for n in rows
        ]
        ctx.update(
            object_list=rows,
            hidden_filters=("bbox",),
            can_create=may_create_notice(self.request.user),
            map_data={"type": "FeatureCollection", "features": features},
            tab="notices",
        )
        return ctx


class NoticeCreateView(ServiceFormView):
    template_name = "cables/notice_form.html"
    form_class = NoticeForm

    def dispatch(self, request, *args, **kwargs):
        if not may_create_notice(request.user):
            raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "owners": notice_owners_for(self.request.user)}

    def perform(self, form):
        notice = services.save_notice(self.request.user, **form.service_data())
        messages.success(self.request, _("Civil-works notice %(n)s published.") % {"n": notice})
        return notice

    def success_url_for(self, obj):
        return reverse("cables:notice-detail", args=[obj.pk])


def render_notice(request, notice, status=200, form=None):
    user = request.user
    today = timezone.localdate()
    is_open = (
        notice.status == CivilWorksNotice.Status.OPEN and notice.registration_deadline >= today
    )
    registrations = list(
        selectors.registrations(user)
        .filter(notice=notice)
        .select_related("created_by")
        .order_by("created_at", "id")
    )
    registered = bool(user.organization_id) and any(
        r.operator_id == user.organization_id for r in registrations
    )
    can_register = is_open and is_operator_user(user) and not registered
    context = {
        "notice": notice,
        "is_open": is_open,
        "registrations": registrations,
        "registered": registered,
        "form": (form or RegistrationForm()) if can_register or form else None,
        "map_data": {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": json.loads(notice.route.geojson),
                    "properties": {"title": notice.title, "colour": "#2563eb"},
                }
            ],
        },
        "history": history_rows(notice, CivilWorksNotice),
    }
    return render(request, "cables/notice_detail.html", context, status=status)


def _notice_or_404(user, pk):
    notice = selectors.notices(user).filter(pk=pk).first()
    if notice is None:
        raise Http404
    return notice


def notice_detail(request, pk):
    return render_notice(request, _notice_or_404(request.user, pk))


@require_POST
def notice_register(request, pk):
    notice = _notice_or_404(request.user, pk)
    if not is_operator_user(request.user):
        raise DjangoPermissionDenied
    form = RegistrationForm(request.POST)
    if form.is_valid():
        try:
            services.register_joint_use(request.user, notice, **form.cleaned_data)
        except InvalidInput as exc:
            form.add_service_errors(exc)
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return redirect("cables:notice-detail", pk=notice.pk)
        else:
            messages.success(
                request, _("Registered for joint use of the trench: %(t)s.") % {"t": notice}
            )
            return redirect(reverse("cables:notice-detail", args=[notice.pk]) + "#registrations")
    return render_notice(request, notice, status=400, form=form)
