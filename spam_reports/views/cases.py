"""The case pages: the list, the detail (flags, breakdown, reports, assignments, history) and its
forms (status, sender's operator, assignment, an operator's answer to an assignment)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.exceptions import DomainError, InvalidInput
from core.exceptions import PermissionDenied as ServicePermissionDenied
from core.permissions import acts_for
from core.web import ListPage, history_rows, sort_headers
from spam_reports import rules, selectors, services, workflows
from spam_reports.filters import CaseFilter
from spam_reports.forms import AssignForm, CaseOperatorForm, CaseStatusForm, RespondForm
from spam_reports.models import Channel, SpamCase
from spam_reports.views.common import _service_error, flag_rows

CASE_REPORTS_PER_PAGE = 20


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
