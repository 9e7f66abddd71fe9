import csv
import functools
import io
from importlib import import_module

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import module_has_submodule
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView, TemplateView

from core import health, imports, notifications, selectors
from core.access import has_portal_role, no_role_response
from core.exceptions import DomainError
from core.exceptions import PermissionDenied as ServicePermissionDenied
from core.exports import _text
from core.filters import AdministrativeUnitFilter, OrganizationFilter
from core.imports import MAX_ERRORS, can_retry
from core.models import AdministrativeUnit, ImportJob, Notification
from core.scoping import scope_queryset
from core.web import ListPage


@login_not_required
def favicon(request):
    """Browsers ask /favicon.ico whatever the page says: the portal's icon, from static/."""
    from django.http import HttpResponsePermanentRedirect
    from django.templatetags.static import static

    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


@never_cache
@login_not_required
def healthz(request):
    body, status = health.report()
    return JsonResponse(body, status=status)


class HomeView(TemplateView):
    """The home page: the dashboard panels the apps provide for the user (an app's
    ``dashboard.panels(request)``, found the way ``indicators`` modules are: core names no app),
    then the links every role has."""

    template_name = "core/home.html"
    role_required = False  # an account without a role is told so here (core.access)

    def get(self, request, *args, **kwargs):
        if not has_portal_role(request.user):
            return no_role_response(request, status=200)
        return super().get(request, *args, **kwargs)

    @staticmethod
    @functools.cache
    def panel_providers():
        return [
            import_module(f"{config.name}.dashboard").panels
            for config in apps.get_app_configs()
            if module_has_submodule(config.module, "dashboard")
        ]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["panels"] = [
            panel for provider in self.panel_providers() for panel in provider(self.request)
        ]
        ctx["unit_counts"] = selectors.unit_counts()
        ctx["units_with_boundary"] = AdministrativeUnit.objects.filter(
            boundary__isnull=False
        ).count()
        return ctx


class UnitListView(ListPage):
    """The units as a filtered table and, above it, on a map (same filters for both)."""

    template_name = "core/unit_list.html"
    filterset_class = AdministrativeUnitFilter
    paginate_by = 50

    def get_queryset(self):
        return selectors.units(with_boundary=False)


def units_geojson(request):
    """Simplified boundaries of the filtered units, built as GeoJSON by PostgreSQL."""
    filterset = AdministrativeUnitFilter(request.GET, queryset=selectors.units(with_boundary=False))
    qs = filterset.qs if filterset.is_valid() else selectors.units().none()
    qs = qs.filter(map_boundary__isnull=False)
    return HttpResponse(
        selectors.units_geojson(qs, shape="map"), content_type="application/geo+json"
    )


class UnitDetailView(DetailView):
    template_name = "core/unit_detail.html"
    context_object_name = "unit"

    def get_object(self, queryset=None):
        return get_object_or_404(AdministrativeUnit, code=self.kwargs["code"])

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["legacy_mappings"] = selectors.unit_legacy_mappings(self.object)
        return ctx


class OrganizationListView(ListPage):
    template_name = "core/organization_list.html"
    filterset_class = OrganizationFilter
    paginate_by = 50

    def get_queryset(self):
        return selectors.organizations()


class NotificationListView(ListView):
    """The user's notifications, newest first. The ones shown are marked read once displayed
    (their "unread" highlight stays for this view)."""

    template_name = "core/notification_list.html"
    context_object_name = "notifications"
    paginate_by = 50

    def get_queryset(self):
        return Notification.objects.filter(recipient=self.request.user).order_by(
            "-created_at", "-id"
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        shown = list(ctx["notifications"])
        unread = [n.pk for n in shown if n.read_at is None]
        for n in shown:
            n.was_unread = n.read_at is None
        if unread:
            notifications.mark_read(self.request.user, unread)
        ctx["notifications"] = shown
        return ctx


@require_POST
def notifications_mark_all_read(request):
    notifications.mark_read(request.user)
    return redirect("core:notification-list")


# --- Import jobs: the progress of a file a Celery worker imports ----------------------------------


def import_jobs(user):
    """The import jobs ``user`` may follow: their own, their organisation's (for its staff) and,
    for officials, every job."""
    jobs = ImportJob.objects.select_related("created_by", "organization")
    if not user.is_authenticated:
        return jobs.none()
    return scope_queryset(jobs, user) | jobs.filter(created_by=user)


def _job_or_404(user, public_id):
    job = import_jobs(user).filter(public_id=public_id).first()
    if job is None:
        raise Http404
    return job


def import_back_url(job):
    """The import page of the job's kind (its ``page``, else by convention ``<app>:import``, the
    kind being ``<app>.<what>``), or the home page."""
    kind = imports.KINDS.get(job.kind)
    app = job.kind.split(".", 1)[0]
    try:
        return reverse(kind.page if kind and kind.page else f"{app}:import")
    except NoReverseMatch:
        return reverse("home")


def _job_context(job, user=None):
    return {
        "job": job,
        # A draft waits for its mapping step, not for the worker: its page does not poll.
        "running": job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING),
        "can_retry": bool(
            user is not None and job.status == ImportJob.Status.FAILED and can_retry(user, job)
        ),
        "can_cancel": bool(user is not None and not job.finished and can_retry(user, job)),
        "errors_shown": job.errors if job.finished else [],
        "errors_capped": len(job.errors) >= MAX_ERRORS,
        "back_url": import_back_url(job),
    }


@never_cache
def import_job(request, public_id):
    """The job's page: what was uploaded, by whom, and its progress (polled, see below)."""
    job = _job_or_404(request.user, public_id)
    return render(request, "core/import_job.html", _job_context(job, request.user))


@never_cache
def import_job_progress(request, public_id):
    """htmx: the progress bar and counts; polls itself every second while the job is queued or
    running, then shows the result and the row errors and stops."""
    job = _job_or_404(request.user, public_id)
    return render(request, "core/import_job_progress.html", _job_context(job, request.user))


def _job_step(request, public_id, step, done):
    """A button of the job's page (POST) through the service ``step``, then the job's page; the
    job is looked up first, so who may not see it gets a 404 whatever the method."""
    job = _job_or_404(request.user, public_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        step(request.user, job)
    except ServicePermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, done)
    return redirect("core:import-job", public_id=job.public_id)


def import_job_retry(request, public_id):
    """The Retry button of a failed job: queued again."""
    return _job_step(request, public_id, imports.retry, _("The import is queued again."))


def import_job_cancel(request, public_id):
    """The Cancel button of a job waiting or running: the worker stops at its next report."""
    return _job_step(request, public_id, imports.cancel, _("The import is cancelled."))


def import_start(request, kind):
    """The upload page of any import kind that declares its fields (public sites, assets …): the
    file becomes a job, through the mapping step when its columns need it; a small file is
    imported at once and its result shown on the job's page."""
    from core import importsteps
    from core.forms import ImportForm
    from core.models import ImportMapping

    found = imports.KINDS.get(kind)
    if found is None or not found.fields or not request.user.is_authenticated:
        raise Http404
    if not imports.may_import(request.user, found):
        raise DjangoPermissionDenied
    mappings = ImportMapping.objects.filter(
        kind=kind, organization_id__in=[request.user.organization_id, None]
    )
    form = ImportForm(request.POST or None, request.FILES or None, mappings=mappings)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = imports.start_kind(
                found,
                request.user,
                data["file"],
                enqueue=False,
                mapping_name=data["mapping"] or None,
                date_order=data["date_order"] or None,
                mode=data["mode"] or None,
            )
            job = importsteps.submit(job)
        except ServicePermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc.message)) from exc
        except DomainError as exc:
            problems = exc.errors if isinstance(exc.errors, dict) else {}
            form.add_error("file" if not problems else None, str(exc.message))
            for name, messages_ in problems.items():
                form.add_error(name if name in form.fields else None, messages_)
        else:
            if job.status == ImportJob.Status.DRAFT:
                return redirect("core:import-job-mapping", public_id=job.public_id)
            return redirect("core:import-job", public_id=job.public_id)
        status = 400
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "core/import_start.html",
        {"kind": found, "form": form, "fields": found.fields},
        status=status,
    )


def import_job_mapping(request, public_id):
    """The mapping step of a job waiting for it (core.importsteps): the file's columns with sample
    values beside the template's fields, pre-filled; the date order when the file needs it."""
    from core import importsteps
    from core.dateorder import ORDERS

    job = _job_or_404(request.user, public_id)
    if not can_retry(request.user, job):
        raise DjangoPermissionDenied
    kind = imports.KINDS.get(job.kind)
    if kind is None or not kind.fields or job.status != ImportJob.Status.DRAFT:
        return redirect("core:import-job", public_id=job.public_id)
    errors, posted, date_order = {}, None, job.options.get("date_order") or ""
    try:
        found = importsteps.preview(job)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(import_back_url(job))
    if request.method == "POST":
        date_order = request.POST.get("date_order", "")
        try:
            posted = importsteps.mapping_from_form(request.POST, found.header, kind.fields)
            importsteps.apply_mapping(
                request.user,
                job,
                posted,
                date_order=date_order or None,
                save_as=request.POST.get("save_as", ""),
            )
        except DomainError as exc:
            errors = exc.errors if isinstance(exc.errors, dict) else {"__all__": [exc.message]}
        else:
            return redirect("core:import-job", public_id=job.public_id)
        if date_order not in ORDERS:
            date_order = ""  # shown as the default choice again
        try:
            found = importsteps.preview(job, posted, date_order or None)
        except DomainError as exc:
            errors.setdefault("__all__", []).append(str(exc.message))
    chosen = (posted or {}).get("columns", {})
    constants = (posted or {}).get("constants", {})
    columns = [
        {
            "index": i,
            "name": column,
            "samples": found.samples.get(column, []),
            "field": chosen.get(column, found.suggested.get(column, ""))
            if posted
            else found.suggested.get(column, ""),
            "errors": errors.get(f"column-{i}", []),
        }
        for i, column in enumerate(found.header)
    ]
    return render(
        request,
        "core/import_mapping.html",
        {
            "job": job,
            "kind": kind,
            "columns": columns,
            "fields": [{"field": f, "constant": constants.get(f.name, "")} for f in kind.fields],
            "missing": found.missing,
            "date_problem": found.date_problem,
            "date_order": date_order,
            "save_as": request.POST.get("save_as", "")[:100],
            "constants_given": bool(constants),
            # Every problem not shown beside its column: the mapping's, the date order's, the name's.
            "errors": [
                str(m)
                for name, problems in errors.items()
                if not name.startswith("column-")
                for m in (problems if isinstance(problems, list) else [problems])
            ],
            "back_url": import_back_url(job),
        },
        status=400 if errors else 200,
    )


def import_job_errors(request, public_id, fmt="csv"):
    """The job's row errors as CSV (UTF-8 with a BOM, for Excel) or XLSX."""
    job = _job_or_404(request.user, public_id)
    if fmt == "xlsx":
        return _errors_xlsx(job)

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())

    def lines():
        yield "\ufeff" + writer.writerow(["row", "column", "value", "message", "duplicate"])
        for error in _row_errors(job):
            yield writer.writerow(
                [
                    "" if error.row is None else error.row,
                    _text(error.column),
                    _text(error.value),
                    _text(error.message),
                    _text(error.duplicate),
                ]
            )

    # Every row error (ImportRowError), streamed: a file may have refused 100,000 rows.
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-errors-{job.public_id}.csv"'
    return response


def _row_errors(job):
    """Every row error of the job, in row order, read in batches."""
    return job.row_errors.order_by("row", "id").iterator(chunk_size=5000)


def _errors_xlsx(job):
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Rows not stored")[:31])
    sheet.append([_("Row"), _("Column"), _("Value"), _("Problem"), _("duplicate")])
    for error in _row_errors(job):
        sheet.append(
            [
                error.row,
                _text(error.column),
                _text(error.value),
                _text(error.message),
                _("yes") if error.duplicate else "",
            ]
        )
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="import-errors-{job.public_id}.xlsx"'
    return response


def search_page(request):
    """The navbar's search box: every register the user may see, by kind (core.search)."""
    from core.search import MAX_QUERY, search

    query = " ".join(request.GET.get("q", "").split())
    too_long = len(query) > MAX_QUERY
    groups = [] if too_long else search(request.user, query, request=request)
    return render(
        request,
        "core/search.html",
        {"q": query, "groups": groups, "too_long": too_long, "max_query": MAX_QUERY},
    )
