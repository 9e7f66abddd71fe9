"""HTML pages of the stations app: the register, its map, public sites and permit applications.

Views parse the request, call a selector or a service and render. Every write goes through
``stations.services``; a service's domain error becomes a form error or a message, never a 500.
"""

import csv
import io
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Case, F, IntegerField, Value, When
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import FormView, TemplateView

from core import web as core_web
from core.exceptions import DomainError, ImportRejected, InvalidInput
from core.models import Organization
from core.web import (  # noqa: F401  (CappedPaginator: tests patch its cap here)
    CappedPaginator,
    ListPage,
    ServiceFormView,
    filtered,
    map_layer,
    query_without,
    sort_headers,
    style_filter_form,
)
from sharing.selectors import assets as asset_register
from stations import selectors, services
from stations.filters import PermitApplicationFilter, PublicSiteFilter, StationFilter
from stations.forms import (
    ACTION_FORMS,
    ApplicationForm,
    DocumentForm,
    ImportForm,
    MessageForm,
    PublicSiteForm,
    StationForm,
    action_form,
    bootstrap,
)
from stations.models import (
    ApplicationDocument,
    PermitApplication,
    PublicSite,
    Station,
    StructureType,
    non_bulky_verdict,
)
from stations.workflows import PERMIT

MAP_POINT_LIMIT = 20_000
UUID_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
S = PermitApplication.Status

# Marker colours by operator code (others get grey); the legend and the map read the same table.
OPERATOR_COLOURS = {
    "VIETTEL": "#d62828",
    "VNPT": "#1d4ed8",
    "MOBIFONE": "#f59e0b",
    "VIETNAMOBILE": "#7c3aed",
    "GTEL": "#0d9488",
    "FPT": "#ea580c",
    "CMC": "#be185d",
}
OTHER_COLOUR = "#6b7280"
SITE_COLOURS = {
    PublicSite.Status.AVAILABLE: "#16a34a",
    PublicSite.Status.RESERVED: "#f59e0b",
    PublicSite.Status.OCCUPIED: "#6b7280",
}


# --- Helpers ----------------------------------------------------------------------------------------


def non_bulky_hint(structure_type, height, building):
    return non_bulky_verdict(structure_type, height, building)


def _decimal(value):
    try:
        number = Decimal(str(value).replace(",", ".").strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and number > 0 else None


may_create_station = services.can_create_stations


def operators_for(user):
    operators = Organization.objects.filter(kind=Organization.Kind.OPERATOR).order_by("name")
    if services.is_city_official(user):
        return operators
    return operators.filter(pk=user.organization_id)


may_apply = services.can_apply


def legend_operators():
    return [
        {
            "id": o.pk,
            "code": o.code,
            "name": o.short_name or o.name,
            "colour": OPERATOR_COLOURS.get(o.code, OTHER_COLOUR),
        }
        for o in Organization.objects.filter(kind=Organization.Kind.OPERATOR).order_by("code")
    ]


def history_rows(obj, model):
    return core_web.history_rows(obj, model, hidden=("non_bulky",))


def point_json(obj, **extra):
    if not obj.location:
        return None
    return {"lon": obj.location.x, "lat": obj.location.y, **extra}


# --- Stations -----------------------------------------------------------------------------------------

STATION_COLUMNS = [
    ("code", gettext_lazy("Code")),
    ("name", gettext_lazy("Name")),
    (None, gettext_lazy("Operator")),
    (None, gettext_lazy("Commune")),
    (None, gettext_lazy("Structure")),
    ("height", gettext_lazy("Height (m)")),
    (None, gettext_lazy("Technologies")),
    ("status", gettext_lazy("Status")),
    ("updated", gettext_lazy("Updated")),
]


def _lon(station):
    return round(station.location.x, 6) if station.location else None


def _lat(station):
    return round(station.location.y, 6) if station.location else None


# Export columns: the import's columns first (so an exported file can be edited and imported back),
# then readable extras.
STATION_EXPORT = [
    ("operator", "operator.code"),
    ("code", "code"),
    ("name", "name"),
    ("address", "address"),
    ("commune", "commune.code"),
    ("lon", _lon),
    ("lat", _lat),
    ("structure_type", "structure_type"),
    ("structure_height_m", "structure_height_m"),
    ("building_height_m", "building_height_m"),
    ("technologies", "technologies"),
    ("land_category", "land_category"),
    ("status", "status"),
    ("permit_reference", "permit_reference"),
    ("commissioned_on", "commissioned_on"),
    ("non_bulky", "non_bulky"),
    ("operator_name", "operator.name"),
    ("commune_name", "commune.name"),
    ("id", "public_id"),
    ("updated_at", "updated_at"),
]

HIDDEN_FILTERS = ("bbox", "near", "ordering")


class StationListView(ListPage):
    template_name = "stations/station_list.html"
    filterset_class = StationFilter

    def get_queryset(self):
        return selectors.stations(self.request.user)

    export_name = "stations"
    export_title = _("Stations")

    def export_columns(self, queryset):
        return STATION_EXPORT

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            headers=sort_headers(self.request, STATION_COLUMNS),
            hidden_filters=HIDDEN_FILTERS,
            can_create=may_create_station(self.request.user),
        )
        return ctx


def _station_or_404(user, public_id):
    station = selectors.stations(user).filter(public_id=public_id).first()
    if station is None:
        raise Http404
    return station


class StationDetailView(TemplateView):
    template_name = "stations/station_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        station = _station_or_404(self.request.user, kwargs["public_id"])
        ctx.update(
            station=station,
            can_edit=services.can_edit_station(self.request.user, station.operator),
            history=history_rows(station, Station),
            hint=non_bulky_hint(
                station.structure_type, station.structure_height_m, station.building_height_m
            ),
            point=point_json(station, label=str(station)),
            applications=station.applications.order_by("-id")[:10],
        )
        return ctx


class StationCreateView(ServiceFormView):
    template_name = "stations/station_form.html"
    form_class = StationForm

    def dispatch(self, request, *args, **kwargs):
        if not may_create_station(request.user):
            raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "operators": operators_for(self.request.user)}

    def perform(self, form):
        station = services.create_station(self.request.user, **form.service_data())
        messages.success(self.request, _("Station %(s)s created.") % {"s": station})
        return station

    def success_url_for(self, obj):
        return reverse("stations:station-detail", args=[obj.public_id])


class StationUpdateView(StationCreateView):
    # Anonymous users never get here: core.middleware.LoginRequiredMiddleware sends them to log in.
    def dispatch(self, request, *args, **kwargs):
        self.station = _station_or_404(request.user, kwargs["public_id"])
        if not services.can_edit_station(request.user, self.station.operator):
            raise DjangoPermissionDenied
        return super(StationCreateView, self).dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.station}

    def get_context_data(self, **kwargs):
        return super().get_context_data(station=self.station, **kwargs)

    def perform(self, form):
        station = services.update_station(self.request.user, self.station, **form.service_data())
        messages.success(self.request, _("Station %(s)s saved.") % {"s": station})
        return station


@require_GET
def non_bulky_hint_view(request):
    """htmx: the non-bulky verdict for the structure typed so far (a small partial)."""
    hint = non_bulky_hint(
        request.GET.get("structure_type", ""),
        _decimal(request.GET.get("structure_height_m", "")),
        _decimal(request.GET.get("building_height_m", "")),
    )
    return render(request, "stations/_non_bulky_hint.html", {"hint": hint})


class StationImportView(FormView):
    template_name = "stations/station_import.html"
    form_class = ImportForm

    def dispatch(self, request, *args, **kwargs):
        if not may_create_station(request.user):
            raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            columns=services.IMPORT_COLUMNS, required=services.REQUIRED_COLUMNS, **kwargs
        )

    def form_valid(self, form):
        try:
            result = services.import_stations(self.request.user, form.cleaned_data["file"])
        except ImportRejected as exc:
            return self.render_to_response(
                self.get_context_data(
                    form=form, rejected=str(exc.message), import_errors=exc.errors
                ),
                status=400,
            )
        except DomainError as exc:
            form.add_error("file", str(exc.message))
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Import done: %(created)d stations created, %(updated)d updated.")
            % {"created": result.created, "updated": result.updated},
        )
        return redirect("stations:station-list")


def import_template(request):
    """An empty CSV with the import's columns."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csv.writer(buffer).writerow(services.IMPORT_COLUMNS)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="stations-import-template.csv"'
    return response


class StationMapView(TemplateView):
    template_name = "stations/station_map.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        filterset = style_filter_form(
            StationFilter(self.request.GET or None, queryset=Station.objects.none())
        )
        operators = legend_operators()
        query = query_without(self.request, "bbox", "page", "export", "ordering")
        ctx.update(
            filter=filterset,
            hidden_filters=HIDDEN_FILTERS,
            operators=operators,
            map_config={
                "geojsonUrl": reverse("stations:station-geojson") + (f"?{query}" if query else ""),
                "detailUrl": reverse("stations:station-detail", args=[UUID_PLACEHOLDER]),
                "limit": MAP_POINT_LIMIT,
                "operators": operators,
                "statuses": {k: str(v) for k, v in Station.Status.choices},
                "text": {
                    "operator": _("Operator"),
                    "status": _("Status"),
                    "nonBulky": _("non-bulky"),
                    "open": _("Open the station"),
                    "loading": _("Loading…"),
                    "shown": _("Stations shown:"),
                    "more": _("(the first %(n)s; zoom in to see the rest)")
                    % {"n": number_format(MAP_POINT_LIMIT, force_grouping=True)},
                    "failed": _("The stations could not be loaded."),
                },
            },
        )
        return ctx


def station_geojson(request):
    """The filtered, scoped stations in the map's box, as GeoJSON written by PostgreSQL.

    At most MAP_POINT_LIMIT + 1 features: the page shows a note when there are more.
    """
    return map_layer(
        request,
        StationFilter,
        selectors.stations(request.user),
        selectors.stations_geojson,
        MAP_POINT_LIMIT,
    )


# --- Public sites ------------------------------------------------------------------------------------


class SiteListView(ListPage):
    template_name = "stations/site_list.html"
    filterset_class = PublicSiteFilter

    def get_queryset(self):
        return selectors.public_sites(self.request.user).order_by("name", "id")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        query = query_without(self.request, "page", "export", "bbox")
        can_apply = may_apply(self.request.user)
        ctx.update(
            hidden_filters=("bbox",),
            can_edit=services.is_city_official(self.request.user),
            can_apply=can_apply,
            legend=[
                {"label": label, "colour": SITE_COLOURS[value]}
                for value, label in PublicSite.Status.choices
            ],
            map_config={
                "geojsonUrl": reverse("stations:site-geojson") + (f"?{query}" if query else ""),
                "detailUrl": reverse("stations:site-detail", args=[UUID_PLACEHOLDER]),
                "applyUrl": reverse("stations:application-create"),
                "canApply": can_apply,
                "colours": dict(SITE_COLOURS),
                "statuses": {k: str(v) for k, v in PublicSite.Status.choices},
                "text": {
                    "status": _("Status"),
                    "capacity": _("Stations it can take"),
                    "open": _("Details"),
                    "apply": _("Apply for a permit here"),
                    "shown": _("Sites on the map:"),
                },
            },
        )
        return ctx


def site_geojson(request):
    return map_layer(
        request,
        PublicSiteFilter,
        selectors.public_sites(request.user),
        selectors.sites_geojson,
        MAP_POINT_LIMIT,
    )


def _site_or_404(user, public_id):
    site = selectors.public_sites(user).filter(public_id=public_id).first()
    if site is None:
        raise Http404
    return site


class SiteDetailView(TemplateView):
    template_name = "stations/site_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        site = _site_or_404(self.request.user, kwargs["public_id"])
        ctx.update(
            site=site,
            can_edit=services.is_city_official(self.request.user),
            can_apply=may_apply(self.request.user) and site.status != PublicSite.Status.OCCUPIED,
            point=point_json(site, label=site.name),
            area=site.area.geojson if site.area else None,
            history=history_rows(site, PublicSite),
        )
        return ctx


class SiteCreateView(ServiceFormView):
    template_name = "stations/site_form.html"
    form_class = PublicSiteForm
    site = None

    def dispatch(self, request, *args, **kwargs):
        if not services.is_city_official(request.user):
            raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def perform(self, form):
        site = services.save_public_site(self.request.user, self.site, **form.service_data())
        messages.success(self.request, _("Public site %(s)s saved.") % {"s": site})
        return site

    def success_url_for(self, obj):
        return reverse("stations:site-detail", args=[obj.public_id])


class SiteUpdateView(SiteCreateView):
    def dispatch(self, request, *args, **kwargs):
        self.site = _site_or_404(request.user, kwargs["public_id"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.site}

    def get_context_data(self, **kwargs):
        return super().get_context_data(site=self.site, **kwargs)


# --- Permit applications ---------------------------------------------------------------------------

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


@require_POST
def application_action(request, pk, action):
    if action not in ACTION_FORMS:
        raise Http404
    app = _application_or_404(request.user, pk)
    form = action_form(action, request.POST)
    if not form.is_valid():
        messages.error(request, _("The form was incomplete. Reload the page and try again."))
        return redirect("stations:application-detail", pk=app.pk)
    inputs = dict(form.cleaned_data)
    version = inputs.pop("version")
    try:
        done = PERMIT.perform(request.user, app, action, expected_version=version, **inputs)
    except InvalidInput as exc:
        form.add_service_errors(exc)
        messages.error(request, str(exc.message))
        return render_application(request, app, status=400, forms={action: form})
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("stations:application-detail", pk=app.pk)
    messages.success(request, ACTION_DONE[action] % {"number": done.number or done.pk})
    return redirect("stations:application-detail", pk=app.pk)


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
