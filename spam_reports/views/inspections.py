"""Subscriber-information inspections: the list, the detail, the form, follow-ups and closing."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from core.models import Organization
from core.permissions import acts_for
from core.web import ListPage, ServiceFormView, history_rows
from spam_reports import selectors, services
from spam_reports.filters import InspectionFilter
from spam_reports.forms import FollowUpForm, InspectionForm
from spam_reports.models import SubscriberInspection
from spam_reports.views.common import _service_error

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
