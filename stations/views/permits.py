"""The permit application pages: the queue, the draft form, the application page, the action
view (every workflow step through ``PERMIT.perform``), documents, messages and sharing requests."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Case, F, IntegerField, Value, When
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.exceptions import DomainError, InvalidInput
from core.web import CaseActionView, ListPage, ServiceFormView, sort_headers
from sharing.selectors import assets as asset_register
from stations import selectors, services
from stations.filters import PermitApplicationFilter
from stations.forms import (
    ACTION_FORMS,
    ApplicationForm,
    DocumentForm,
    MessageForm,
    action_form,
    bootstrap,
)
from stations.models import ApplicationDocument, PermitApplication, StructureType
from stations.views.common import (
    OPERATOR_COLOURS,
    OTHER_COLOUR,
    S,
    may_apply,
    non_bulky_hint,
    point_json,
)
from stations.workflows import PERMIT

RUNNING = (S.SUBMITTED, S.RESUBMITTED, S.UNDER_REVIEW)


class ApplicationListView(ListPage):
    """Officials: the queue, running clocks first by decision deadline, then paused, then decided.
    Operators: their own applications (drafts included)."""

    template_name = "stations/application_list.html"
    filterset_class = PermitApplicationFilter

    def get_queryset(self):
        qs = selectors.application_list(self.request.user)
        return qs.annotate(
            queue_rank=Case(
                When(status__in=RUNNING, then=Value(0)),
                When(status=S.RETURNED, then=Value(1)),
                When(status=S.DRAFT, then=Value(2)),
                default=Value(3),
                output_field=IntegerField(),
            )
        ).order_by("queue_rank", F("decision_due").asc(nulls_last=True), "-id")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        for app in ctx["object_list"]:
            app.days_left_value = services.days_left(app)
            app.running = app.status in RUNNING
        ctx.update(
            headers=sort_headers(
                self.request,
                [
                    ("number", gettext_lazy("Number")),
                    (None, gettext_lazy("Station")),
                    (None, gettext_lazy("Applicant")),
                    (None, gettext_lazy("Status")),
                    ("submitted", gettext_lazy("Submitted")),
                    ("deadline", gettext_lazy("Decision due")),
                    (None, gettext_lazy("Working days left")),
                ],
            ),
            hidden_filters=("ordering",),
            can_apply=may_apply(self.request.user),
        )
        return ctx


def _application_or_404(user, pk):
    try:
        return selectors.application_detail(user, pk)
    except PermitApplication.DoesNotExist:
        raise Http404 from None


class ApplicationCreateView(ServiceFormView):
    template_name = "stations/application_form.html"
    form_class = ApplicationForm
    application = None

    def dispatch(self, request, *args, **kwargs):
        if not may_apply(request.user):
            raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def site(self):
        value = (self.request.GET.get("site") or "").strip()
        if not value:
            return None
        sites = selectors.public_sites(self.request.user)
        site = (
            sites.filter(pk=int(value)).first()
            if value.isdigit()
            else sites.filter(public_id=value).first()
            if len(value) == 36
            else None
        )
        if site is None:
            raise Http404
        return site

    def get_initial(self):
        initial = {"application_type": default_application_type()}
        site = self.site
        if site is not None:
            initial.update(
                public_site=site.pk,
                location=site.location,
                commune=site.commune_id,
                address=site.address,
                land_category=site.land_category,
                building_height_m=site.building_height_m,
            )
        return initial

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(site=self.site if self.application is None else None)
        ctx.setdefault("application", self.application)
        return ctx

    def perform(self, form):
        app = services.save_draft(self.request.user, self.application, **form.service_data())
        messages.success(
            self.request,
            _("Draft saved. Upload the documents, then submit the application."),
        )
        return app

    def success_url_for(self, obj):
        return reverse("stations:application-detail", args=[obj.pk])


def default_application_type():
    from stations.models import ApplicationType

    kind = ApplicationType.objects.filter(code="public_station").first()
    return kind.pk if kind else None


class ApplicationUpdateView(ApplicationCreateView):
    def dispatch(self, request, *args, **kwargs):
        self.application = _application_or_404(request.user, kwargs["pk"])
        if self.application.status != S.DRAFT or not services.acts_for_operator(
            request.user, self.application.applicant_id
        ):
            raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {}

    @cached_property
    def site(self):
        return None

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.application}


def _candidates(app):
    if app.status == S.DRAFT:
        return [c.as_dict() for c in services.colocation_candidates(app)]
    return app.colocation_candidates or []


def render_application(request, app, status=200, forms=None):
    """The application page; ``forms`` replaces the blank forms by bound ones carrying errors."""
    user = request.user
    forms = forms or {}
    actions = PERMIT.allowed_actions(user, app)
    is_applicant = services.acts_for_operator(user, app.applicant_id)
    action_forms = []
    for action in actions:
        form = forms.get(action) or action_form(
            action,
            initial={
                "version": app.version,
                "sharing_justification": app.sharing_justification,
            },
        )
        action_forms.append({"action": action, "label": PERMIT.label(action), "form": form})
    checklist = selectors.checklist(app)
    required_types = [item["type"] for item in checklist]
    can_upload = is_applicant and app.status not in services.DECIDED_STATUSES
    document_form = forms.get("document") or DocumentForm(
        document_types=app.application_type.required_documents.all()
    )
    structure_labels = dict(StructureType.choices)
    candidates = [
        {
            **c,
            "colour": OPERATOR_COLOURS.get(c.get("operator"), OTHER_COLOUR),
            "structure_label": structure_labels.get(c.get("structure_type"), ""),
        }
        for c in _candidates(app)
    ]
    status_labels = dict(S.choices)
    timeline = list(app.timeline.all())
    for event in timeline:
        event.from_label = status_labels.get(event.from_status, event.from_status)
        event.to_label = status_labels.get(event.to_status, event.to_status)
    context = {
        "application": app,
        "action_forms": action_forms,
        "checklist": checklist,
        "required_types": required_types,
        "other_documents": [
            d for d in app.documents.all() if d.document_type not in required_types
        ],
        "can_upload": can_upload,
        "document_form": document_form,
        "message_form": forms.get("message") or MessageForm(),
        "can_message": is_applicant or services.is_city_official(user),
        "candidates": candidates,
        "structures": services.shareable_structures(app) if is_applicant else [],
        "requests_raised": list(app.sharing_requests.select_related("owner", "asset")),
        "map_data": {
            "site": point_json(app, label=app.station_name),
            "candidates": candidates,
            "radius": _radius(),
        },
        "timeline": timeline,
        "messages_list": [e for e in timeline if e.kind == "message"],
        "days_used": services.days_used(app) if app.status != S.DRAFT else None,
        "days_left": services.days_left(app),
        "running": app.status in RUNNING and app.clock_running,
        "hint": non_bulky_hint(app.structure_type, app.structure_height_m, app.building_height_m),
        "is_applicant": is_applicant,
        "can_edit": is_applicant and app.status == S.DRAFT,
    }
    return render(request, "stations/application_detail.html", context, status=status)


def _radius():
    from django.conf import settings

    return settings.COLOCATION_RADIUS_M


def application_detail(request, pk):
    return render_application(request, _application_or_404(request.user, pk))


ACTION_DONE = {
    "submit": gettext_lazy("Application %(number)s submitted. The statutory clock has started."),
    "resubmit": gettext_lazy("Application %(number)s resubmitted. The clock runs again."),
    "withdraw": gettext_lazy("Application %(number)s withdrawn."),
    "return": gettext_lazy("Application %(number)s returned for supplement. The clock is paused."),
    "accept": gettext_lazy("Application %(number)s accepted as complete."),
    "approve": gettext_lazy("Application %(number)s approved."),
    "reject": gettext_lazy("Application %(number)s rejected."),
}


class ApplicationActionView(CaseActionView):
    workflow = PERMIT
    action_forms = ACTION_FORMS
    done = ACTION_DONE
    detail_route = "stations:application-detail"

    def get_case(self, pk):
        return _application_or_404(self.request.user, pk)

    def render_case(self, case, status, forms):
        return render_application(self.request, case, status=status, forms=forms)


application_action = ApplicationActionView.as_view()


@require_POST
def application_upload(request, pk):
    app = _application_or_404(request.user, pk)
    form = DocumentForm(
        request.POST, request.FILES, document_types=app.application_type.required_documents.all()
    )
    if form.is_valid():
        try:
            services.upload_document(
                request.user, app, form.cleaned_data["document_type"], form.cleaned_data["file"]
            )
        except InvalidInput as exc:
            form.add_service_errors(exc)
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return redirect("stations:application-detail", pk=app.pk)
        else:
            messages.success(
                request,
                _("%(doc)s uploaded.") % {"doc": form.cleaned_data["document_type"].name},
            )
            return redirect(reverse("stations:application-detail", args=[app.pk]) + "#documents")
    return render_application(request, app, status=400, forms={"document": form})


def application_document(request, pk, document_id):
    """A document of an application the user may see (never by a public media URL)."""
    app = _application_or_404(request.user, pk)
    document = get_object_or_404(ApplicationDocument, pk=document_id, application=app)
    return FileResponse(
        document.file.open("rb"),
        content_type=document.content_type,
        as_attachment=False,
        filename=document.original_name,
    )


@require_POST
def application_message(request, pk):
    app = _application_or_404(request.user, pk)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            services.post_message(request.user, app, form.cleaned_data["text"])
        except InvalidInput as exc:
            form.add_service_errors(exc)
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return redirect("stations:application-detail", pk=app.pk)
        else:
            messages.success(request, _("Message sent."))
            return redirect(reverse("stations:application-detail", args=[app.pk]) + "#messages")
    return render_application(request, app, status=400, forms={"message": bootstrap(form)})


@require_POST
def application_share(request, pk, asset_id):
    """One click from the co-location check: ask the owner of a nearby structure to share it."""
    app = _application_or_404(request.user, pk)
    asset = get_object_or_404(asset_register(request.user), public_id=asset_id)
    try:
        sharing_request = services.raise_sharing_request(request.user, app, asset)
    except DomainError as exc:
        details = (
            "; ".join(str(m) for ms in (exc.errors or {}).values() for m in ms)
            if isinstance(exc.errors, dict)
            else ""
        )
        messages.error(request, f"{exc.message} {details}".strip())
    else:
        messages.success(
            request,
            _("Sharing request %(number)s sent to %(owner)s.")
            % {"number": sharing_request.number, "owner": asset.owner},
        )
    return redirect(reverse("stations:application-detail", args=[app.pk]) + "#sharing")
