"""HTML pages of the spam_reports app: cases (list, detail with flags, breakdown, reports,
assignments and history), reports (list, detail, new report, 5656 message, the citizens' public
form), the import page (the progress is core's import-job page), the operators' assignments, the
statistics with a server-drawn trend chart, and subscriber-information inspections.

Views parse the request, call a selector or a service and render. Every write goes through
``spam_reports.services``; a domain error becomes a form error, never a 500. Selectors are scoped:
an operator's staff see their own operator's cases, reports and assignments (another operator's
case is a 404).
"""

import csv
import io
import time
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from core.exceptions import DomainError, InvalidInput
from core.exceptions import PermissionDenied as ServicePermissionDenied
from core.exports import XLSX_CONTENT_TYPE, _text
from core.models import Organization
from core.permissions import acts_for
from core.scoping import sees_everything
from core.web import ListPage, ServiceFormView, history_rows, sort_headers
from spam_reports import rules, selectors, services, workflows
from spam_reports.filters import ActionFilter, CaseFilter, InspectionFilter, ReportFilter
from spam_reports.forms import (
    AssignForm,
    CaseOperatorForm,
    CaseStatusForm,
    FollowUpForm,
    ImportForm,
    InspectionForm,
    MarkReportForm,
    PublicComplaintForm,
    Report5656Form,
    ReportForm,
    RespondForm,
    StatisticsForm,
)
from spam_reports.models import (
    Channel,
    Evidence,
    Origin,
    SpamCase,
    SpamReport,
    SubscriberInspection,
)

CASE_REPORTS_PER_PAGE = 20


def flag_rows(flags):
    """The case's flags with the rule's label and legal basis (unknown codes shown as they are)."""
    return [
        {
            "code": code,
            "label": rules.RULES.get(code, {}).get("label", code),
            "basis": rules.RULES.get(code, {}).get("basis", ""),
        }
        for code in flags
    ]


def _service_error(form, exc):
    """A service's domain error on a form (field messages, or one message for the form)."""
    if isinstance(exc, ServicePermissionDenied):
        raise DjangoPermissionDenied(str(exc.message)) from exc
    if isinstance(exc, InvalidInput):
        form.add_service_errors(exc)
    else:
        form.add_error(None, str(exc.message))


# --- Cases ----------------------------------------------------------------------------------------

CASE_COLUMNS = [
    ("sender", gettext_lazy("Sender")),
    (None, gettext_lazy("Kind of sender")),
    (None, gettext_lazy("Sender's operator")),
    (None, gettext_lazy("Status")),
    (None, gettext_lazy("Rule flags")),
    ("report_count", gettext_lazy("Reports")),
    ("first_seen_at", gettext_lazy("First seen")),
    ("last_seen_at", gettext_lazy("Last seen")),
]
CASE_EXPORT = [
    ("sender", "sender"),
    ("sender_kind", "sender_kind"),
    ("operator", "operator.code"),
    ("status", "status"),
    ("flags", "flags"),
    ("flag_labels", lambda c: [str(label) for label in rules.labels(c.flags)]),
    ("first_channel", "channel"),
    ("report_count", "report_count"),
    ("first_seen_at", "first_seen_at"),
    ("last_seen_at", "last_seen_at"),
    ("confirmed_at", "confirmed_at"),
    ("closed_at", "closed_at"),
    ("id", "public_id"),
]


class CaseListView(ListPage):
    template_name = "spam_reports/case_list.html"
    filterset_class = CaseFilter
    export_name = "spam-cases"
    export_title = gettext_lazy("Spam cases")

    def get_queryset(self):
        return selectors.cases(self.request.user)

    def export_columns(self, queryset):
        return CASE_EXPORT

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        rows = list(ctx["object_list"])
        for case in rows:
            case.flag_labels = rules.labels(case.flags)
        ctx.update(
            object_list=rows,
            headers=sort_headers(self.request, CASE_COLUMNS),
            hidden_filters=("ordering",),
            can_report=services.can_report(self.request.user),
            tab="cases",
        )
        return ctx


def _case_or_404(user, public_id):
    case = selectors.cases(user).filter(public_id=public_id).first()
    if case is None:
        raise Http404
    return case


def render_case(request, case, status=200, forms=None):
    user = request.user
    forms = forms or {}
    breakdown = selectors.case_breakdown(case)
    for row in breakdown["per_channel"]:
        row["label"] = Channel(row["channel"]).label if row["channel"] in Channel.values else "?"
    reports_page = Paginator(selectors.case_reports(case), CASE_REPORTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    actions = list(case.actions.select_related("operator", "assigned_by", "responded_by"))
    pending = next((a for a in actions if a.is_pending), None)
    official = services.is_spam_official(user)
    # The buttons come from the workflows' rules (spam_reports.workflows): the statuses the user
    # may move the case to, the outcomes the operator's staff may record.
    moves = services.allowed_moves(user, case)
    may_assign = services.may_assign(user, case, pending=pending)
    answers = (
        services.allowed_answers(user, pending)
        if pending is not None and acts_for(user, pending.operator_id)
        else []
    )
    seen = {"version": case.version}
    context = {
        "case": case,
        "flags": flag_rows(case.flags),
        "per_channel": breakdown["per_channel"],
        "per_day": breakdown["per_day"],
        "reports_page": reports_page,
        "actions": actions,
        "pending": pending,
        "official": official,
        "status_form": forms.get("status")
        or (CaseStatusForm(moves=moves, initial=seen) if moves else None),
        "operator_form": forms.get("operator")
        or (CaseOperatorForm(initial={**seen, "operator": case.operator_id}) if official else None),
        "assign_form": forms.get("assign")
        or (AssignForm(case=case, initial=dict(seen)) if may_assign else None),
        "respond_form": forms.get("respond")
        or (
            RespondForm(outcomes=answers, initial={"version": pending.version}) if answers else None
        ),
        # The counters the triggers keep are not history (they change with every report).
        "history": history_rows(
            case, SpamCase, hidden=("report_count", "first_seen_at", "last_seen_at")
        ),
    }
    return render(request, "spam_reports/case_detail.html", context, status=status)


def case_detail(request, public_id):
    return render_case(request, _case_or_404(request.user, public_id))


def _case_url(case, anchor=""):
    return reverse("spam_reports:case-detail", args=[case.public_id]) + anchor


@require_POST
def case_status(request, public_id):
    case = _case_or_404(request.user, public_id)
    if not services.is_spam_official(request.user):
        raise DjangoPermissionDenied
    # Any official status is accepted here: whether the move is possible now is SPAM_CASE's to say
    # (the same answer as the API's), not the form's.
    form = CaseStatusForm(request.POST, moves=list(workflows.MOVES))
    if form.is_valid():
        try:
            case = services.change_status(
                request.user,
                case,
                form.cleaned_data["status"],
                form.cleaned_data["note"],
                expected_version=form.cleaned_data["version"],
            )
        except DomainError as exc:
            _service_error(form, exc)
        else:
            messages.success(
                request, _("The case is now “%(s)s”.") % {"s": case.get_status_display()}
            )
            return redirect(_case_url(case))
    return render_case(request, case, status=400, forms={"status": form})


@require_POST
def case_operator(request, public_id):
    case = _case_or_404(request.user, public_id)
    if not services.is_spam_official(request.user):
        raise DjangoPermissionDenied
    form = CaseOperatorForm(request.POST)
    if form.is_valid():
        try:
            case = services.set_case_operator(
                request.user,
                case,
                form.cleaned_data["operator"],
                expected_version=form.cleaned_data["version"],
            )
        except DomainError as exc:
            _service_error(form, exc)
        else:
            messages.success(request, _("The sender's operator was corrected."))
            return redirect(_case_url(case))
    return render_case(request, case, status=400, forms={"operator": form})


@require_POST
def case_assign(request, public_id):
    case = _case_or_404(request.user, public_id)
    if not services.is_spam_official(request.user):
        raise DjangoPermissionDenied
    form = AssignForm(request.POST, case=case)
    if form.is_valid():
        data = form.cleaned_data
        try:
            action = services.assign(
                request.user,
                case,
                operator=data["operator"],
                sla_hours=data["sla_hours"],
                instructions=data["instructions"],
                expected_version=data["version"],
            )
        except DomainError as exc:
            _service_error(form, exc)
        else:
            messages.success(
                request,
                _("Assigned to %(operator)s, to answer by %(deadline)s.")
                % {
                    "operator": action.operator,
                    "deadline": date_format(
                        timezone.localtime(action.deadline), "SHORT_DATETIME_FORMAT"
                    ),
                },
            )
            return redirect(_case_url(case, "#assignments"))
    return render_case(request, case, status=400, forms={"assign": form})


@require_POST
def action_respond(request, public_id):
    action = selectors.actions(request.user).filter(public_id=public_id).first()
    if action is None:
        raise Http404
    if not services.can_answer(request.user, action):
        raise DjangoPermissionDenied
    case = _case_or_404(request.user, action.case.public_id)
    form = RespondForm(request.POST)
    if form.is_valid():
        try:
            action = services.respond(
                request.user,
                action,
                form.cleaned_data["outcome"],
                form.cleaned_data["note"],
                expected_version=form.cleaned_data["version"],
            )
        except InvalidInput as exc:
            form.add_service_errors(exc)
        except ServicePermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc.message)) from exc
        except DomainError as exc:
            # Already answered or changed (by a colleague, in another tab): the page shows what
            # was recorded.
            messages.error(request, str(exc.message))
            return redirect(_case_url(case, "#assignments"))
        else:
            messages.success(
                request, _("Recorded: %(outcome)s.") % {"outcome": action.get_outcome_display()}
            )
            return redirect(_case_url(case, "#assignments"))
    return render_case(request, case, status=400, forms={"respond": form})


# --- Reports --------------------------------------------------------------------------------------

REPORT_EXPORT = [
    ("received_at", "received_at"),
    ("channel", "channel"),
    ("sender_raw", "sender_raw"),
    ("sender", "sender"),
    ("sender_kind", "sender_kind"),
    ("sender_operator", "sender_operator.code"),
    ("recipient_raw", "recipient_raw"),
    ("recipient", "recipient"),
    ("recipient_operator", "recipient_operator.code"),
    ("content", "content"),
    ("origin", "origin"),
    ("status", "status"),
    ("invalid_reason", "invalid_reason"),
    ("case_id", "case.public_id"),
    ("source", "source"),
    ("external_id", "external_id"),
    ("id", "public_id"),
]


class ReportListView(ListPage):
    template_name = "spam_reports/report_list.html"
    filterset_class = ReportFilter
    export_name = "spam-reports"
    export_title = gettext_lazy("Spam reports")

    def get_queryset(self):
        return selectors.reports(self.request.user)

    def export_columns(self, queryset):
        return REPORT_EXPORT

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(can_report=services.can_report(self.request.user), tab="reports")
        return ctx


def _report_or_404(user, public_id):
    report = selectors.reports(user).filter(public_id=public_id).first()
    if report is None:
        raise Http404
    return report


def render_report(request, report, status=200, form=None):
    user = request.user
    official = services.is_spam_official(user)
    context = {
        "report": report,
        "evidence": list(report.evidence.all()),
        "case_visible": selectors.cases(user).filter(pk=report.case_id).exists(),
        "mark_form": (form or MarkReportForm()) if official else None,
        "history": history_rows(report, SpamReport, hidden=("fingerprint",)),
    }
    return render(request, "spam_reports/report_detail.html", context, status=status)


def report_detail(request, public_id):
    return render_report(request, _report_or_404(request.user, public_id))


@require_POST
def report_mark(request, public_id):
    report = _report_or_404(request.user, public_id)
    if not services.is_spam_official(request.user):
        raise DjangoPermissionDenied
    form = MarkReportForm(request.POST)
    if form.is_valid():
        valid = form.cleaned_data["status"] == SpamReport.Status.VERIFIED
        try:
            report = services.mark_report(request.user, report, valid, form.cleaned_data["reason"])
        except DomainError as exc:
            _service_error(form, exc)
        else:
            messages.success(
                request, _("Report marked “%(s)s”.") % {"s": report.get_status_display()}
            )
            return redirect("spam_reports:report-detail", public_id=report.public_id)
    return render_report(request, report, status=400, form=form)


def evidence_file(request, public_id):
    """An evidence file of a report the user may see (never by a public media URL)."""
    item = Evidence.objects.select_related("report").filter(public_id=public_id).first()
    if item is None:
        raise Http404
    _report_or_404(request.user, item.report.public_id)
    # The type was checked from the file's bytes on upload; nosniff (SecurityMiddleware) keeps
    # the browser from reading it as anything else.
    return FileResponse(
        item.file.open("rb"), content_type=item.content_type, filename=item.original_name
    )


class ReportCreateView(ServiceFormView):
    """A complaint entered by an official or an operator's staff."""

    template_name = "spam_reports/report_form.html"
    form_class = ReportForm
    variant = "report"

    def dispatch(self, request, *args, **kwargs):
        if not services.can_report(request.user):
            raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {"received_at": timezone.localtime().replace(second=0, microsecond=0)}

    def get_context_data(self, **kwargs):
        return super().get_context_data(variant=self.variant, tab="new", **kwargs)

    def perform(self, form):
        report = services.submit_report(self.request.user, **form.service_data())
        self._saved(report)
        return report

    def _saved(self, report):
        count = SpamCase.objects.filter(pk=report.case_id).values_list("report_count", flat=True)
        messages.success(
            self.request,
            _("Report received and attached to the case of %(sender)s (%(n)s reports).")
            % {"sender": report.case.sender, "n": number_format(count.first() or 1)},
        )

    def success_url_for(self, obj):
        return reverse("spam_reports:report-detail", args=[obj.public_id])


class Report5656CreateView(ReportCreateView):
    """A short message a subscriber sent to 5656, typed in by an official."""

    form_class = Report5656Form
    variant = "5656"

    def perform(self, form):
        data = form.cleaned_data
        report = services.submit_5656(
            self.request.user,
            reporter=data["reporter"],
            message=data["message"],
            received_at=data["received_at"],
        )
        self._saved(report)
        return report


# --- The citizens' public form ------------------------------------------------------------------


def client_address(request):
    return request.META.get("REMOTE_ADDR") or "unknown"


def within_rate(request):
    """Count this submission against the address's hourly allowance; False once it is spent."""
    window = int(time.time() // 3600)
    key = f"spam:public-form:{client_address(request)}:{window}"
    cache.add(key, 0, timeout=3700)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3700)
        count = 1
    return count <= settings.SPAM_PUBLIC_RATE_PER_HOUR


@login_not_required
def public_complaint(request):
    """Citizens report spam without an account, when settings.SPAM_PUBLIC_FORM is on."""
    if not settings.SPAM_PUBLIC_FORM:
        raise Http404
    status = 200
    if request.method == "POST":
        form = PublicComplaintForm(request.POST, request.FILES)
        if form.is_bot:
            # A robot filled the hidden field: it is told all went well, and nothing is stored.
            return redirect("spam_reports:public-thanks")
        if not within_rate(request):
            form.is_valid()
            form.add_error(
                None,
                _(
                    "Too many complaints were sent from your address in the last hour. "
                    "Please try again later."
                ),
            )
            status = 429
        elif form.is_valid():
            try:
                services.submit_report(None, **form.service_data())
            except InvalidInput as exc:
                form.add_service_errors(exc)
            except ServicePermissionDenied as exc:
                raise Http404 from exc
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                return redirect("spam_reports:public-thanks")
        if status == 200:
            status = 400
    else:
        form = PublicComplaintForm(
            initial={"received_at": timezone.localtime().replace(second=0, microsecond=0)}
        )
    return render(request, "spam_reports/public_form.html", {"form": form}, status=status)


@login_not_required
def public_thanks(request):
    if not settings.SPAM_PUBLIC_FORM:
        raise Http404
    return render(request, "spam_reports/public_thanks.html")


# --- Import ---------------------------------------------------------------------------------------

TEMPLATE_COLUMNS = {
    Origin.OPERATOR_FEED: [*services.GENERIC_COLUMNS, *services.OPTIONAL_COLUMNS],
    Origin.EXPORT_5656: list(services.EXPORT_5656_COLUMNS),
}


class ImportView(ServiceFormView):
    template_name = "spam_reports/import.html"
    form_class = ImportForm

    def dispatch(self, request, *args, **kwargs):
        if not services.can_import(request.user):
            raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            templates=[
                {
                    "kind": kind,
                    "columns": columns,
                    "url": reverse("spam_reports:import-template", args=[kind]),
                }
                for kind, columns in TEMPLATE_COLUMNS.items()
            ],
            max_mb=settings.SPAM_IMPORT_MAX_BYTES // (1024 * 1024),
            tab="import",
            **kwargs,
        )

    def perform(self, form):
        return services.start_import(
            self.request.user, form.cleaned_data["file"], origin=form.cleaned_data["kind"]
        )

    def success_url_for(self, obj):
        return reverse("core:import-job", args=[obj.public_id])


def import_template(request, kind):
    """An empty CSV (UTF-8 with a BOM, for Excel) with the columns of one kind of import."""
    if kind not in TEMPLATE_COLUMNS:
        raise Http404
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csv.writer(buffer).writerow(TEMPLATE_COLUMNS[kind])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="spam-import-{kind}.csv"'
    return response


# --- Assignments ----------------------------------------------------------------------------------

ACTION_EXPORT = [
    ("case_sender", "case.sender"),
    ("operator", "operator.code"),
    ("assigned_at", "assigned_at"),
    ("sla_hours", "sla_hours"),
    ("deadline", "deadline"),
    ("overdue", "is_overdue"),
    ("outcome", "outcome"),
    ("responded_at", "responded_at"),
    ("handling_hours", lambda a: round(a.handling_hours, 2) if a.responded_at else None),
    ("response_note", "response_note"),
    ("instructions", "instructions"),
    ("case_id", "case.public_id"),
    ("id", "public_id"),
]


class ActionListView(ListPage):
    template_name = "spam_reports/action_list.html"
    filterset_class = ActionFilter
    export_name = "spam-assignments"
    export_title = gettext_lazy("Operator assignments")

    def get_queryset(self):
        return selectors.actions(self.request.user)

    def export_columns(self, queryset):
        return ACTION_EXPORT

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(tab="assignments")
        return ctx


# --- Statistics -----------------------------------------------------------------------------------

TREND_DAYS_FOR_A_DAY = 30
CHART = {"width": 820, "height": 240, "left": 48, "right": 12, "top": 12, "bottom": 34}


def _nice_max(value):
    """A round number at least ``value`` for the chart's top line (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def trend_chart(per, trend):
    """Geometry of the daily trend as an SVG bar chart (received, verified inside), drawn by the
    template: no JavaScript, nothing from a CDN. Numbers are pre-formatted (never localised)."""
    days = [per.start + timedelta(days=i) for i in range((per.end - per.start).days)]
    by_day = {row["day"]: row for row in trend}
    values = [
        (
            day,
            int(by_day.get(day, {}).get("received") or 0),
            int(by_day.get(day, {}).get("verified") or 0),
        )
        for day in days
    ]
    top = _nice_max(max((v[1] for v in values), default=0))
    width, height = CHART["width"], CHART["height"]
    plot_w = width - CHART["left"] - CHART["right"]
    plot_h = height - CHART["top"] - CHART["bottom"]
    slot = plot_w / max(1, len(values))
    bar_w = max(1.0, slot * 0.8)
    base = CHART["top"] + plot_h
    bars = []
    for i, (day, received, verified) in enumerate(values):
        x = CHART["left"] + i * slot + (slot - bar_w) / 2
        h = plot_h * received / top
        hv = plot_h * verified / top
        bars.append(
            {
                "day": day,
                "iso": day.isoformat(),
                "received": received,
                "verified": verified,
                "x": f"{x:.2f}",
                "w": f"{bar_w:.2f}",
                "y": f"{base - h:.2f}",
                "h": f"{h:.2f}",
                "vy": f"{base - hv:.2f}",
                "vh": f"{hv:.2f}",
            }
        )
    steps = 4 if str(top)[0] == "2" else 5
    ticks = [
        {"value": top * k // steps, "y": f"{base - plot_h * k / steps:.2f}"}
        for k in range(steps + 1)
    ]
    label_every = max(1, len(values) // 8)
    labels = [
        {"text": date_format(b["day"], "d/m"), "x": f"{float(b['x']) + bar_w / 2:.2f}"}
        for i, b in enumerate(bars)
        if i % label_every == 0
    ]
    return {
        "width": width,
        "height": height,
        "left": CHART["left"],
        "right": width - CHART["right"],
        "base": f"{base:.2f}",
        "label_y": f"{base + 16:.2f}",
        "bars": bars,
        "ticks": ticks,
        "labels": labels,
        "total": sum(v[1] for v in values),
        "start": per.start,
        "end": per.end - timedelta(days=1),
    }


def _operator_names(rows):
    """Fill the names of operators a statistics row only knows by id."""
    missing = {r["operator_id"] for r in rows if r.get("operator_id") and not r.get("short_name")}
    names = Organization.objects.in_bulk(missing) if missing else {}
    for row in rows:
        org = names.get(row.get("operator_id"))
        if org is not None:
            row["short_name"], row["operator_name"] = org.short_name, org.name
    return rows


def _channel_label(code):
    return Channel(code).label if code in Channel.values else code


def statistics_tables(stats):
    """The statistics as tables ({key: (title, header, rows)}) for the CSV and XLSX exports."""
    unknown = _("Unknown operator")
    counts = [
        [
            r["short_name"] or r["operator_name"] or unknown,
            str(_channel_label(r["channel"])),
            r["received"],
            r["verified"],
            r["invalid"],
        ]
        for r in stats["counts"]
    ]
    handling = [
        [
            r["short_name"] or r["operator_name"] or unknown,
            r["confirmed"],
            r["assigned"],
            r["answered"],
            r["on_time_pct"],
            r["late"],
            r["blocked"],
            round(r["median_hours"], 2) if r["median_hours"] is not None else None,
            round(r["p95_hours"], 2) if r["p95_hours"] is not None else None,
        ]
        for r in stats["handling"]
    ]
    top = [
        [r["sender"], r["sender_kind"], r["status"], ";".join(r["flags"] or []), r["reports"]]
        for r in stats["top_senders"]
    ]
    trend = [[r["day"], r["received"], r["verified"], r["invalid"]] for r in stats["trend"]]
    return {
        "counts": (
            _("Reports per operator and channel"),
            [_("Operator"), _("Channel"), _("Received"), _("Verified"), _("Invalid")],
            counts,
        ),
        "handling": (
            _("Handling per operator"),
            [
                _("Operator"),
                _("Cases confirmed"),
                _("Assigned"),
                _("Answered"),
                _("On time (%)"),
                _("Late"),
                _("Blocked"),
                _("Median hours"),
                _("95th percentile hours"),
            ],
            handling,
        ),
        "top": (
            _("Top senders"),
            [_("Sender"), _("Kind of sender"), _("Status"), _("Rule flags"), _("Reports")],
            top,
        ),
        "trend": (
            _("Reports per day"),
            [_("Day"), _("Received"), _("Verified"), _("Invalid")],
            trend,
        ),
    }


def statistics_export(fmt, table, stats, filename):
    tables = statistics_tables(stats)
    if fmt == "csv":
        title, header, rows = tables.get(table) or tables["counts"]
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        writer.writerow([str(h) for h in header])
        for row in rows:
            writer.writerow([_text(v) for v in row])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{filename}-{table if table in tables else "counts"}.csv"'
        )
        return response
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for title, header, rows in tables.values():
        sheet = workbook.create_sheet(title=str(title)[:31])
        sheet.append([str(h) for h in header])
        for cell in sheet[1]:
            cell.font = bold
        for row in rows:
            sheet.append(row)
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
                elif hasattr(cell.value, "year"):
                    cell.number_format = "DD/MM/YYYY"
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


class StatisticsView(TemplateView):
    template_name = "spam_reports/statistics.html"

    def get(self, request, *args, **kwargs):
        user = request.user
        if not services.can_report(user):
            raise DjangoPermissionDenied
        sees_all = sees_everything(user)
        form = StatisticsForm(request.GET, sees_all=sees_all)
        kind, day, operator_id, channel = form.values()
        per = selectors.period(kind, day)
        stats = selectors.statistics(user, per, operator_id=operator_id, channel=channel)
        _operator_names(stats["handling"])
        fmt = request.GET.get("export")
        filename = f"spam-statistics-{per.kind}-{per.start.isoformat()}"
        if fmt in ("csv", "xlsx"):
            return statistics_export(fmt, request.GET.get("table", "counts"), stats, filename)
        if kind == "day":
            trend_period = selectors.Period(
                "day", day - timedelta(days=TREND_DAYS_FOR_A_DAY - 1), day + timedelta(days=1)
            )
            trend = selectors.daily_trend(user, trend_period, operator_id, channel)
        else:
            trend_period, trend = per, stats["trend"]
        for row in stats["counts"]:
            row["channel_label"] = _channel_label(row["channel"])
        for row in stats["top_senders"]:
            row["flag_labels"] = rules.labels(row["flags"] or [])
            row["status_label"] = (
                SpamCase.Status(row["status"]).label
                if row["status"] in SpamCase.Status.values
                else row["status"]
            )
        query = request.GET.copy()
        query.pop("export", None)
        query.pop("table", None)
        context = self.get_context_data(
            form=form,
            period=per,
            period_end=per.end - timedelta(days=1),
            stats=stats,
            totals=stats["totals"],
            chart=trend_chart(trend_period, trend),
            export_query=query.urlencode(),
            sees_all=sees_all,
            tab="statistics",
        )
        return self.render_to_response(context)


# --- Inspections ----------------------------------------------------------------------------------

INSPECTION_EXPORT = [
    ("operator", "operator.code"),
    ("inspecting_agency", "inspecting_agency.code"),
    ("reference", "reference"),
    ("inspected_on", "inspected_on"),
    ("sample_size", "sample_size"),
    ("nonconforming", "nonconforming"),
    ("nonconforming_pct", "nonconforming_pct"),
    ("actions_required", "actions_required"),
    ("deadline", "deadline"),
    ("status", "status"),
    ("id", "public_id"),
]


class InspectionListView(ListPage):
    template_name = "spam_reports/inspection_list.html"
    filterset_class = InspectionFilter
    export_name = "subscriber-inspections"
    export_title = gettext_lazy("Inspections")

    def get_queryset(self):
        return selectors.inspections(self.request.user)

    def export_columns(self, queryset):
        return INSPECTION_EXPORT

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            can_create=services.is_spam_official(self.request.user),
            today=timezone.localdate(),
            tab="inspections",
        )
        return ctx


def _inspection_or_404(user, public_id):
    inspection = selectors.inspections(user).filter(public_id=public_id).first()
    if inspection is None:
        raise Http404
    return inspection


def may_follow_up(user, inspection):
    return inspection.status != SubscriberInspection.Status.CLOSED and (
        services.is_spam_official(user) or acts_for(user, inspection.operator_id)
    )


def render_inspection(request, inspection, status=200, form=None):
    user = request.user
    official = services.is_spam_official(user)
    context = {
        "inspection": inspection,
        "follow_ups": list(inspection.follow_ups.select_related("recorded_by")),
        "official": official,
        "can_close": official and inspection.status != SubscriberInspection.Status.CLOSED,
        "follow_up_form": (
            form
            or FollowUpForm(
                initial={"recorded_on": timezone.localdate(), "version": inspection.version}
            )
        )
        if may_follow_up(user, inspection)
        else None,
        "overdue": bool(
            inspection.deadline
            and inspection.status == SubscriberInspection.Status.OPEN
            and inspection.deadline < timezone.localdate()
        ),
        "history": history_rows(inspection, SubscriberInspection, hidden=("overdue_notified_on",)),
    }
    return render(request, "spam_reports/inspection_detail.html", context, status=status)


def inspection_detail(request, public_id):
    return render_inspection(request, _inspection_or_404(request.user, public_id))


class InspectionCreateView(ServiceFormView):
    template_name = "spam_reports/inspection_form.html"
    form_class = InspectionForm
    inspection = None

    def dispatch(self, request, *args, **kwargs):
        if not services.is_spam_official(request.user):
            raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        agency = self.request.user.organization
        initial = {"inspected_on": timezone.localdate()}
        if agency is not None and agency.kind == Organization.Kind.AGENCY:
            initial["inspecting_agency"] = agency.pk
        return initial

    def get_context_data(self, **kwargs):
        return super().get_context_data(inspection=self.inspection, tab="inspections", **kwargs)

    def perform(self, form):
        inspection = services.save_inspection(
            self.request.user, self.inspection, **form.service_data()
        )
        messages.success(self.request, _("Inspection %(i)s saved.") % {"i": inspection})
        return inspection

    def success_url_for(self, obj):
        return reverse("spam_reports:inspection-detail", args=[obj.public_id])


class InspectionUpdateView(InspectionCreateView):
    def dispatch(self, request, *args, **kwargs):
        self.inspection = _inspection_or_404(request.user, kwargs["public_id"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.pop("initial", None)
        return {**kwargs, "instance": self.inspection}


@require_POST
def inspection_follow_up(request, public_id):
    inspection = _inspection_or_404(request.user, public_id)
    if not may_follow_up(request.user, inspection):
        raise DjangoPermissionDenied
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            data = dict(form.cleaned_data)
            data["expected_version"] = data.pop("version")
            services.record_follow_up(request.user, inspection, **data)
        except DomainError as exc:
            _service_error(form, exc)
        else:
            messages.success(request, _("Follow-up recorded."))
            return redirect(
                reverse("spam_reports:inspection-detail", args=[inspection.public_id])
                + "#follow-ups"
            )
    return render_inspection(request, inspection, status=400, form=form)


def _posted_version(request):
    """The version a one-button form carries (none, or not a number: the record as it is now)."""
    value = request.POST.get("version", "").strip()
    return int(value) if value.isdigit() else None


@require_POST
def inspection_close(request, public_id):
    inspection = _inspection_or_404(request.user, public_id)
    if not services.is_spam_official(request.user):
        raise DjangoPermissionDenied
    try:
        services.close_inspection(
            request.user, inspection, expected_version=_posted_version(request)
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Inspection closed."))
    return redirect("spam_reports:inspection-detail", public_id=inspection.public_id)
