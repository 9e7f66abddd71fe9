"""The report pages: the list, the detail and its marking, evidence files, a new report or 5656
message entered by staff, and the citizens' public complaint form (rate-limited per address)."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.exceptions import DomainError, InvalidInput
from core.exceptions import PermissionDenied as ServicePermissionDenied
from core.web import ListPage, ServiceFormView, history_rows
from spam_reports import selectors, services
from spam_reports.filters import ReportFilter
from spam_reports.forms import MarkReportForm, PublicComplaintForm, Report5656Form, ReportForm
from spam_reports.models import Evidence, SpamCase, SpamReport
from spam_reports.views.common import _service_error

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
