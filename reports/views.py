"""HTML pages of the reports app: report definitions (officials read them, administrators edit
them), runs (list with deadline status, "run now", detail with a progress bar polled while the
Celery worker computes, the snapshot compared with the previous period and the same period last
year, breakdown charts, downloads, approval, submission and recomputation).

Views parse the request, call a selector or a service and render. Who reads what is
``reports.selectors`` (officials everything; the recipient agency's staff and API client their
submitted runs; nobody else anything); every write goes through ``reports.services``; a domain
error becomes a form error or a message, never a 500. The home dashboard is reports.dashboard.
"""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core import indicators
from core.exceptions import DomainError, InvalidInput
from core.exceptions import PermissionDenied as ServicePermissionDenied
from core.web import ListPage, ServiceFormView, history_rows, sort_headers
from reports import charts, dashboard, periods, selectors, services
from reports.forms import DefinitionFilter, DefinitionForm, RunFilter, RunRequestForm
from reports.models import ReportDefinition, ReportRun
from reports.workflows import REPORT_RUN


def may_read_reports(user):
    """Officials, and the staff and API client of an agency that receives reports."""
    return services.is_report_official(user) or selectors.recipient_of(user) is not None


class ReportsAccessMixin:
    """The page is for ``allowed(user)``; anyone else gets 403 (anonymous: the login page)."""

    @staticmethod
    def allowed(user):
        return may_read_reports(user)

    def dispatch(self, request, *args, **kwargs):
        if not self.allowed(request.user):
            raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)


# --- Definitions ---------------------------------------------------------------------------------------

DEFINITION_COLUMNS = [
    ("code", gettext_lazy("Code")),
    ("name", gettext_lazy("Report")),
    (None, gettext_lazy("Recipient agency")),
    (None, gettext_lazy("Period")),
    (None, gettext_lazy("Data cut-off")),
    (None, gettext_lazy("Deadline")),
    (None, gettext_lazy("Sections")),
    (None, gettext_lazy("Latest run")),
]
DEFINITION_ORDERING = {"code": "code", "name": "name"}


def cutoff_text(definition):
    if definition.cutoff_day:
        return _("day %(d)d of the last month") % {"d": definition.cutoff_day}
    return _("end of the period")


class DefinitionListView(ReportsAccessMixin, ListPage):
    template_name = "reports/definition_list.html"
    filterset_class = DefinitionFilter

    def get_queryset(self):
        latest = ReportRun.objects.filter(definition=OuterRef("pk")).order_by("-cutoff", "-id")
        visible = selectors.definitions(self.request.user)
        if not services.is_report_official(self.request.user):
            latest = latest.filter(status=ReportRun.Status.SUBMITTED)
        key = self.request.GET.get("ordering", "")
        field = DEFINITION_ORDERING.get(key.lstrip("-"), "code")
        return visible.annotate(
            latest_run_id=Subquery(latest.values("public_id")[:1]),
            latest_run_period=Subquery(latest.values("period_label")[:1]),
            latest_run_status=Subquery(latest.values("status")[:1]),
        ).order_by(f"-{field}" if key.startswith("-") else field, "id")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        rows = list(ctx["object_list"])
        statuses = dict(ReportRun.Status.choices)
        for d in rows:
            d.cutoff_text = cutoff_text(d)
            d.latest_run_status_label = statuses.get(d.latest_run_status, "")
        ctx.update(
            object_list=rows,
            headers=sort_headers(self.request, DEFINITION_COLUMNS),
            hidden_filters=("ordering",),
            can_administer=services.can_administer(self.request.user),
            tab="definitions",
        )
        return ctx


class DefinitionFormView(ReportsAccessMixin, ServiceFormView):
    template_name = "reports/definition_form.html"
    form_class = DefinitionForm

    allowed = staticmethod(services.can_administer)

    def get_definition(self):
        if "pk" not in self.kwargs:
            return None
        definition = ReportDefinition.objects.filter(pk=self.kwargs["pk"]).first()
        if definition is None:
            raise Http404
        return definition

    def get_initial(self):
        if "pk" in self.kwargs:
            return {}
        example = [
            {
                "title": _("Base stations"),
                "indicators": ["stations.count"],
                "by": "operator",
            }
        ]
        return {
            "sections": json.dumps(example, ensure_ascii=False, indent=2),
            "deadline_days": 5,
            "active": True,
        }

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.get_definition()}

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["definition"] = ctx["form"].instance if ctx["form"].instance.pk else None
        ctx["registry"] = indicators.all_indicators()
        return ctx

    def perform(self, form):
        definition = services.save_definition(
            self.request.user, definition=self.get_definition(), **form.service_data()
        )
        messages.success(self.request, _("Report “%(name)s” saved.") % {"name": definition.name})
        return definition

    def success_url_for(self, obj):
        return reverse("reports:definition-list")


# --- Runs --------------------------------------------------------------------------------------------------

RUN_COLUMNS = [
    ("definition__code", gettext_lazy("Report")),
    ("cutoff", gettext_lazy("Period")),
    (None, gettext_lazy("Recipient agency")),
    (None, gettext_lazy("Status")),
    ("deadline", gettext_lazy("Deadline")),
    (None, gettext_lazy("Deadline status")),
    (None, pgettext_lazy("report", "Approved")),
    (None, gettext_lazy("Submitted")),
]
RUN_ORDERING = {"definition__code": "definition__code", "cutoff": "cutoff", "deadline": "deadline"}


def annotate_deadline(run, today):
    run.deadline_state = dashboard.deadline_state(run, today)
    run.days_left = (run.deadline - today).days
    run.days_late = -run.days_left


class RunListView(ReportsAccessMixin, ListPage):
    template_name = "reports/run_list.html"
    filterset_class = RunFilter

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        filterset.filters["definition"].queryset = selectors.definitions(
            self.request.user
        ).order_by("code")
        return filterset

    def get_queryset(self):
        key = self.request.GET.get("ordering", "")
        field = RUN_ORDERING.get(key.lstrip("-"))
        runs = selectors.runs(self.request.user)
        if field is None:
            return runs.order_by("-cutoff", "definition__code", "id")
        return runs.order_by(f"-{field}" if key.startswith("-") else field, "id")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        rows = list(ctx["object_list"])
        today = timezone.localdate()
        for run in rows:
            annotate_deadline(run, today)
        official = services.is_report_official(self.request.user)
        ctx.update(
            object_list=rows,
            headers=sort_headers(self.request, RUN_COLUMNS),
            hidden_filters=("ordering",),
            reports_official=official,
            run_form=RunRequestForm() if official else None,
            tab="runs",
        )
        return ctx


class RunCreateView(ReportsAccessMixin, ServiceFormView):
    """Run a report now: the run of that definition and period (created and queued if new; the
    existing one is opened if not)."""

    template_name = "reports/run_form.html"
    form_class = RunRequestForm
    allowed = staticmethod(services.is_report_official)

    def get_initial(self):
        initial = {}
        definition = self.request.GET.get("definition", "")
        if definition.isdigit():
            initial["definition"] = int(definition)
        if self.request.GET.get("period"):
            initial["period"] = self.request.GET["period"][:16]
        return initial

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        today = timezone.localdate()
        latest = []
        for d in ctx["form"].fields["definition"].queryset:
            per = periods.latest_closed(d.period_type, today, d.cutoff_day)
            latest.append({"definition": d, "key": per.key, "label": per.label})
        ctx["latest"] = latest
        return ctx

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response

    def perform(self, form):
        asked = timezone.now()
        run = services.request_run(
            self.request.user, form.cleaned_data["definition"], form.cleaned_data["period"]
        )
        if run.created_at >= asked:
            messages.success(
                self.request,
                _("The report for %(period)s is being computed.") % {"period": run.period_label},
            )
        else:
            messages.info(
                self.request,
                _("The report for %(period)s was already requested: here it is.")
                % {"period": run.period_label},
            )
        return run

    def success_url_for(self, obj):
        return reverse("reports:run-detail", args=[obj.public_id])


def _run_or_404(user, public_id):
    run = selectors.runs(user).filter(public_id=public_id).first()
    if run is None:
        raise Http404
    return run


def _row(row, lower_is_better):
    unit = row.get("unit", "count")
    return {
        **row,
        "vs_previous": charts.compare(row.get("value"), row.get("previous"), lower_is_better),
        "vs_last_year": charts.compare(row.get("value"), row.get("last_year"), lower_is_better),
        "chart_points": [(b["label"], b["value"]) for b in row.get("breakdown") or []],
        "unit": unit,
    }


def snapshot_sections(snapshot):
    """The snapshot's sections with each row compared to the previous period and the same period
    last year (up is bad for indicators tagged "overdue")."""
    sections = []
    for section in (snapshot or {}).get("sections", []):
        rows = []
        for row in section.get("rows", []):
            indicator = indicators.REGISTRY.get(row.get("key"))
            lower = bool(indicator and "overdue" in indicator.tags)
            rows.append(_row(row, lower))
        sections.append({**section, "rows": rows})
    return sections


def _run_context(user, run):
    official = services.is_report_official(user)
    status = ReportRun.Status
    today = timezone.localdate()
    annotate_deadline(run, today)
    moves = REPORT_RUN.allowed_actions(user, run)  # the buttons: the workflow's rules
    return {
        "run": run,
        "running": not run.finished,
        "reports_official": official,
        "can_approve": "approve" in moves,
        "can_submit": "submit" in moves,
        "can_recompute": "recompute" in moves,  # "Retry" for a failed run
        "has_files": run.status in (status.READY, status.APPROVED, status.SUBMITTED)
        and bool(run.xlsx)
        and bool(run.pdf),
    }


# The computation's bookkeeping: not what a reader of the history looks for.
RUN_HISTORY_HIDDEN = ("snapshot", "progress", "attempts", "started_at", "finished_at")


def run_history(run):
    """The run's recorded changes that say something (status, files, approval, submission)."""
    return [
        row
        for row in history_rows(run, ReportRun, hidden=RUN_HISTORY_HIDDEN)
        if row["changes"] or row["label"] != "update"
    ]


@never_cache
def run_detail(request, public_id):
    run = _run_or_404(request.user, public_id)
    context = _run_context(request.user, run)
    snapshot = run.snapshot or {}
    context.update(
        snapshot=snapshot,
        sections=snapshot_sections(snapshot) if run.finished else [],
        history=run_history(run) if context["reports_official"] else [],
    )
    return render(request, "reports/run_detail.html", context)


@never_cache
def run_progress(request, public_id):
    """htmx: the run's status and progress bar, polling itself every second while the run is
    queued or running; once it has finished, the page reloads to show the report."""
    run = _run_or_404(request.user, public_id)
    response = render(request, "reports/_run_progress.html", _run_context(request.user, run))
    if run.finished and request.headers.get("HX-Request") and request.GET.get("poll"):
        response["HX-Refresh"] = "true"
    return response


DOWNLOADS = {
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pdf": ("pdf", "application/pdf"),
}


def run_download(request, public_id, fmt):
    """The run's XLSX or PDF, for those who may read the run (never by a public media URL)."""
    if fmt not in DOWNLOADS:
        raise Http404
    run = _run_or_404(request.user, public_id)
    field, content_type = DOWNLOADS[fmt]
    document = getattr(run, field)
    if (
        run.status
        not in (
            ReportRun.Status.READY,
            ReportRun.Status.APPROVED,
            ReportRun.Status.SUBMITTED,
        )
        or not document
    ):
        raise Http404
    try:
        handle = document.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{run.definition.code}-{run.period_key}.{fmt}",
        content_type=content_type,
    )


ACTIONS = {
    "approve": (services.approve, gettext_lazy("The report for %(period)s is approved.")),
    "submit": (
        services.submit,
        gettext_lazy("The report for %(period)s is submitted to %(recipient)s."),
    ),
    "recompute": (
        services.recompute,
        gettext_lazy("The report for %(period)s is being computed again."),
    ),
    "retry": (
        services.retry,
        gettext_lazy("The report for %(period)s is being computed again."),
    ),
}


def _posted_version(request):
    """The version of the run the page showed (None when the form sent none)."""
    version = request.POST.get("version", "").strip()
    if not version:
        return None
    if not version.isdigit():
        raise InvalidInput(message=_("The form was incomplete. Reload the page and try again."))
    return int(version)


@require_POST
def run_action(request, public_id, action):
    """Approve, submit, recompute or retry the run: the service decides; a refusal is a
    message."""
    if action not in ACTIONS:
        raise Http404
    run = _run_or_404(request.user, public_id)
    if not services.is_report_official(request.user):
        raise DjangoPermissionDenied
    service, done = ACTIONS[action]
    try:
        run = service(request.user, run, expected_version=_posted_version(request))
    except ServicePermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            str(done) % {"period": run.period_label, "recipient": run.definition.recipient},
        )
    return redirect("reports:run-detail", public_id=run.public_id)
