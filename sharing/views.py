"""HTML pages of the sharing app: the asset register (list, map, detail, edit), tenancies, the
sharing-request inbox and workflow, and the officials' overview of shared sites.

Views parse the request, call a selector or a service and render. Every write goes through
``sharing.services``; a domain error becomes a form error or a message, never a 500.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Case, F, IntegerField, Value, When
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from core.exceptions import DomainError, InvalidInput
from core.models import AdministrativeUnit, Organization
from core.scoping import sees_everything
from core.text import vietnamese
from core.web import (
    CaseActionView,
    ListPage,
    ServiceFormView,
    history_rows,
    map_layer,
    query_without,
    sort_headers,
    style_filter_form,
)
from core.workdays import working_days_left
from sharing import selectors, services
from sharing.filters import AssetFilter, SharingRequestFilter
from sharing.forms import (
    ACTION_FORMS,
    AssetForm,
    DocumentForm,
    MessageForm,
    RequestForm,
    TenancyForm,
    action_form,
)
from sharing.models import (
    CAPACITY_UNITS,
    AssetKind,
    InfrastructureAsset,
    RequestDocument,
    SharingRequest,
    Tenancy,
)
from sharing.workflows import SHARING

MAP_LIMIT = 20_000
UUID_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
R = SharingRequest.Status
OPEN = (R.SUBMITTED, R.COUNTERED, R.REFUSED, R.DISPUTED)

# Marker colours by kind; the legend and the map read the same table.
KIND_COLOURS = {
    AssetKind.TOWER: "#d62828",
    AssetKind.POLE: "#1d4ed8",
    AssetKind.DUCT: "#7c3aed",
    AssetKind.MANHOLE: "#0d9488",
    AssetKind.CABINET: "#ea580c",
    AssetKind.EQUIPMENT_ROOM: "#be185d",
}
# Colours by free capacity: none, one unit, two or more.
FREE_COLOURS = {"none": "#6b7280", "one": "#f59e0b", "more": "#16a34a"}


def may_ask(user, asset):
    """Another operator's staff may ask to share an active, offered asset with free capacity."""
    return (
        services.is_operator_user(user)
        and asset.owner_id != user.organization_id
        and asset.shareable
        and asset.status == InfrastructureAsset.Status.ACTIVE
        and asset.free_capacity > 0
    )


def owners_for(user):
    """Whose assets the user may register: any organisation for officials, else their own."""
    orgs = Organization.objects.order_by(vietnamese("name"))
    if services.is_official(user):
        return orgs
    if user.organization_id and services.can_edit_asset(user, user.organization_id):
        return orgs.filter(pk=user.organization_id)
    return orgs.none()


def may_create_asset(user):
    return services.is_official(user) or bool(
        user.organization_id and services.acts_for(user, user.organization_id)
    )


# --- Overview -------------------------------------------------------------------------------------


class OverviewView(TemplateView):
    """Officials: the shared-site ratio per operator and per commune. Everyone: their inbox counts."""

    template_name = "sharing/overview.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        official = sees_everything(user)
        ctx["official"] = official
        if official:
            by_operator = selectors.shared_site_ratio("operator")
            by_commune = selectors.shared_site_ratio("commune")
            names = dict(
                Organization.objects.filter(code__in=[r["key"] for r in by_operator]).values_list(
                    "code", "short_name"
                )
            )
            units = dict(
                AdministrativeUnit.objects.filter(
                    code__in=[r["key"] for r in by_commune]
                ).values_list("code", "name")
            )
            for row in by_operator:
                row["name"] = names.get(row["key"]) or row["key"]
            for row in by_commune:
                row["name"] = units.get(row["key"]) or row["key"]
            ctx.update(by_operator=by_operator, by_commune=by_commune)
        reqs = selectors.requests(user)
        ctx["counts"] = {
            "open": reqs.filter(status__in=OPEN).count(),
            "overdue": reqs.filter(status=R.SUBMITTED, overdue=True).count(),
            "disputed": reqs.filter(status=R.DISPUTED).count(),
        }
        return ctx


# --- Assets ---------------------------------------------------------------------------------------

ASSET_COLUMNS = [
    ("code", gettext_lazy("Code")),
    ("name", gettext_lazy("Name")),
    (None, gettext_lazy("Kind")),
    (None, gettext_lazy("Owner")),
    (None, gettext_lazy("Commune")),
    ("free", gettext_lazy("Capacity used / free")),
    (None, gettext_lazy("Status")),
]
ASSET_ORDERING = {
    "code": "code",
    "name": "name",
    "free": "free_capacity",
}
ASSET_EXPORT = [
    ("owner", "owner.code"),
    ("code", "code"),
    ("name", "name"),
    ("kind", "kind"),
    ("commune", "commune.code"),
    ("address", "address"),
    ("capacity", "capacity"),
    ("used_capacity", "used_capacity"),
    ("free_capacity", "free_capacity"),
    ("condition", "condition"),
    ("status", "status"),
    ("shareable", "shareable"),
    ("length_m", "length_m"),
    ("lon", lambda a: round(a.geometry.point_on_surface.x, 6) if a.geometry else None),
    ("lat", lambda a: round(a.geometry.point_on_surface.y, 6) if a.geometry else None),
    ("owner_name", "owner.name"),
    ("commune_name", "commune.name"),
    ("id", "public_id"),
    ("updated_at", "updated_at"),
]
ASSET_HIDDEN_FILTERS = ("bbox", "near", "ordering")


def ordered_assets(request, qs):
    key = request.GET.get("ordering", "")
    field = ASSET_ORDERING.get(key.lstrip("-"))
    if field is None:
        return qs.order_by("code", "id")
    return qs.order_by(f"-{field}" if key.startswith("-") else field, "id")


class AssetListView(ListPage):
    template_name = "sharing/asset_list.html"
    filterset_class = AssetFilter

    def get_queryset(self):
        return ordered_assets(self.request, selectors.assets(self.request.user))

    export_name = "assets"
    export_title = _("Infrastructure assets")

    def export_columns(self, queryset):
        return ASSET_EXPORT

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        for asset in ctx["object_list"]:
            asset.used_pct = (
                round(100 * asset.used_capacity / asset.capacity) if asset.capacity else 0
            )
        ctx.update(
            headers=sort_headers(self.request, ASSET_COLUMNS),
            hidden_filters=ASSET_HIDDEN_FILTERS,
            can_create=may_create_asset(self.request.user),
            tab="list",
        )
        return ctx


class AssetMapView(TemplateView):
    template_name = "sharing/asset_map.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        params = self.request.GET.copy()
        if "has_free" not in params:
            params["has_free"] = "true"  # the map shows what can still be shared
        if "shareable" not in params:
            params["shareable"] = "true"
        filterset = AssetFilter(params, queryset=InfrastructureAsset.objects.none())
        filterset.form.fields = {
            k: v for k, v in filterset.form.fields.items() if k in ("kind", "owner", "has_free")
        }
        style_filter_form(filterset)
        query = params.copy()
        for name in ("bbox", "page", "export", "ordering"):
            query.pop(name, None)
        query = query.urlencode()
        ctx.update(
            filter=filterset,
            hidden_filters=(),
            tab="map",
            can_create=may_create_asset(user),
            kinds=[
                {"value": k, "label": str(label), "colour": KIND_COLOURS[k]}
                for k, label in AssetKind.choices
            ],
            free_legend=[
                {"label": _("No free capacity"), "colour": FREE_COLOURS["none"]},
                {"label": _("One unit free"), "colour": FREE_COLOURS["one"]},
                {"label": _("Two or more free"), "colour": FREE_COLOURS["more"]},
            ],
            map_config={
                "geojsonUrl": reverse("sharing:asset-geojson") + (f"?{query}" if query else ""),
                "detailUrl": reverse("sharing:asset-detail", args=[UUID_PLACEHOLDER]),
                "askUrl": reverse("sharing:request-create"),
                "canAsk": services.is_operator_user(user),
                "myOrg": user.organization.code if user.organization_id else None,
                "limit": MAP_LIMIT,
                "kindColours": {str(k): v for k, v in KIND_COLOURS.items()},
                "freeColours": FREE_COLOURS,
                "kinds": {str(k): str(v) for k, v in AssetKind.choices},
                "units": {str(k): str(v) for k, v in CAPACITY_UNITS.items()},
                "text": {
                    "owner": _("Owner"),
                    "free": _("Free"),
                    "open": _("Details"),
                    "ask": _("Ask to share"),
                    "loading": _("Loading…"),
                    "shown": _("Assets shown:"),
                    "more": _("(the first %(n)s; zoom in to see the rest)")
                    % {"n": number_format(MAP_LIMIT, force_grouping=True)},
                    "failed": _("The assets could not be loaded."),
                },
            },
        )
        return ctx


def asset_geojson(request):
    """The filtered assets in the map's box as GeoJSON written by PostgreSQL (at most MAP_LIMIT + 1)."""
    return map_layer(
        request, AssetFilter, selectors.assets(request.user), selectors.assets_geojson, MAP_LIMIT
    )


def _asset_or_404(user, public_id):
    asset = selectors.assets(user).filter(public_id=public_id).first()
    if asset is None:
        raise Http404
    return asset


def render_asset(request, asset, status=200, tenancy_form=None):
    user = request.user
    can_edit = services.can_edit_asset(user, asset.owner_id)
    tenancies = list(selectors.asset_tenancies(asset))
    for tenancy in tenancies:
        tenancy.can_end = tenancy.status == Tenancy.Status.ACTIVE and (
            can_edit or services.acts_for(user, tenancy.operator_id)
        )
    context = {
        "asset": asset,
        "can_edit": can_edit,
        "can_ask": may_ask(user, asset),
        "tenancies": tenancies,
        "requests_list": selectors.requests(user).filter(asset=asset).order_by("-id")[:20],
        "tenancy_form": (tenancy_form or TenancyForm(asset=asset)) if can_edit else None,
        "history": history_rows(asset, InfrastructureAsset),
        "geometry": {
            "geometry": asset.geometry.geojson,
            "colour": KIND_COLOURS.get(asset.kind, "#6b7280"),
            "label": str(asset),
        },
        "used_pct": round(100 * asset.used_capacity / asset.capacity) if asset.capacity else 0,
    }
    return render(request, "sharing/asset_detail.html", context, status=status)


def asset_detail(request, public_id):
    return render_asset(request, _asset_or_404(request.user, public_id))


class AssetCreateView(ServiceFormView):
    template_name = "sharing/asset_form.html"
    form_class = AssetForm
    asset = None

    def dispatch(self, request, *args, **kwargs):
        if not may_create_asset(request.user):
            raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = {**super().get_form_kwargs(), "owners": owners_for(self.request.user)}
        if self.asset is not None:
            kwargs["instance"] = self.asset
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(asset=self.asset, **kwargs)

    def perform(self, form):
        asset = services.save_asset(self.request.user, self.asset, **form.service_data())
        messages.success(self.request, _("Asset %(a)s saved.") % {"a": asset})
        return asset

    def success_url_for(self, obj):
        return reverse("sharing:asset-detail", args=[obj.public_id])


class AssetUpdateView(AssetCreateView):
    def dispatch(self, request, *args, **kwargs):
        self.asset = _asset_or_404(request.user, kwargs["public_id"])
        if not services.can_edit_asset(request.user, self.asset.owner_id):
            raise DjangoPermissionDenied
        return super(AssetCreateView, self).dispatch(request, *args, **kwargs)


# --- Tenancies ------------------------------------------------------------------------------------


@require_POST
def tenancy_create(request, public_id):
    asset = _asset_or_404(request.user, public_id)
    if not services.can_edit_asset(request.user, asset.owner_id):
        raise DjangoPermissionDenied
    form = TenancyForm(request.POST, asset=asset)
    if form.is_valid():
        data = form.cleaned_data
        try:
            tenancy = services.create_tenancy(
                request.user,
                asset,
                data["operator"],
                data["units"],
                since=data["since"],
                occupies=data["occupies"],
                terms_reference=data["terms_reference"],
            )
        except InvalidInput as exc:
            form.add_service_errors(exc)
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return redirect("sharing:asset-detail", public_id=asset.public_id)
        else:
            messages.success(
                request,
                _("Tenancy of %(operator)s recorded.") % {"operator": tenancy.operator},
            )
            return redirect(reverse("sharing:asset-detail", args=[asset.public_id]) + "#tenancies")
    asset.refresh_from_db()
    return render_asset(request, asset, status=400, tenancy_form=form)


@require_POST
def tenancy_end(request, pk):
    tenancy = get_object_or_404(selectors.tenancies(request.user), pk=pk)
    try:
        services.end_tenancy(request.user, tenancy)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Tenancy ended; its capacity is free again."))
    return redirect(reverse("sharing:asset-detail", args=[tenancy.asset.public_id]) + "#tenancies")


# --- Sharing requests -----------------------------------------------------------------------------

REQUEST_COLUMNS = [
    ("id", gettext_lazy("Number")),
    (None, gettext_lazy("Asset")),
    (None, gettext_lazy("Requester")),
    (None, gettext_lazy("Owner")),
    (None, gettext_lazy("Capacity")),
    (None, gettext_lazy("Status")),
    ("submitted", gettext_lazy("Submitted")),
    ("deadline", gettext_lazy("Response due")),
]
BOXES = ("all", "received", "sent")


class RequestListView(ListPage):
    """The inbox: open requests first, by response deadline; "received" / "sent" for operators."""

    template_name = "sharing/request_list.html"
    filterset_class = SharingRequestFilter

    @cached_property
    def box(self):
        box = self.request.GET.get("box", "all")
        return box if box in BOXES else "all"

    def get_queryset(self):
        user = self.request.user
        qs = selectors.requests(user)
        if self.box == "received":
            qs = qs.filter(owner_id=user.organization_id)
        elif self.box == "sent":
            qs = qs.filter(requester_id=user.organization_id)
        return qs.annotate(
            open_rank=Case(
                When(status__in=OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        ).order_by("open_rank", F("response_due").asc(), "-id")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        today = timezone.localdate()
        user = self.request.user
        for req in ctx["object_list"]:
            req.is_open = req.status in OPEN
            req.days_left = (
                working_days_left(req.response_due, today) if req.status == R.SUBMITTED else None
            )
            req.late = req.overdue and req.status == R.SUBMITTED
            req.received = req.owner_id == user.organization_id
        ctx.update(
            headers=sort_headers(self.request, REQUEST_COLUMNS),
            hidden_filters=("ordering", "number", "asset"),
            box=self.box,
            boxes=[
                ("all", _("All")),
                ("received", _("Received")),
                ("sent", _("Sent")),
            ],
            show_boxes=bool(user.organization_id) and not sees_everything(user),
            box_query=query_without(self.request, "box", "page", "export"),
            can_ask=services.is_operator_user(user),
        )
        return ctx


class RequestCreateView(ServiceFormView):
    template_name = "sharing/request_form.html"
    form_class = RequestForm

    def dispatch(self, request, *args, **kwargs):
        if not services.is_operator_user(request.user):
            raise DjangoPermissionDenied
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def asset(self):
        value = (self.request.GET.get("asset") or "").strip()
        if not value:
            return None
        asset = (
            selectors.assets(self.request.user).filter(public_id=value).first()
            if len(value) == 36
            else None
        )
        if asset is None:
            raise Http404
        return asset

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "asset": self.asset,
            "requester": self.request.user.organization,
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(asset=self.asset, **kwargs)

    def perform(self, form):
        req = services.create_request(self.request.user, **form.service_data())
        messages.success(
            self.request,
            _("Sharing request %(number)s sent. The owner must answer by %(date)s.")
            % {"number": req.number, "date": req.response_due.strftime("%d/%m/%Y")},
        )
        return req

    def success_url_for(self, obj):
        return reverse("sharing:request-detail", args=[obj.pk])


def _request_or_404(user, pk):
    try:
        return selectors.request_detail(user, pk)
    except SharingRequest.DoesNotExist:
        raise Http404 from None


def render_request(request, req, status=200, forms=None):
    user = request.user
    forms = forms or {}
    action_forms = []
    for action in SHARING.allowed_actions(user, req):
        form = forms.get(action) or action_form(
            action,
            initial={"version": req.version, "units": req.counter_units or req.units},
        )
        action_forms.append({"action": action, "label": SHARING.label(action), "form": form})
    party = services.acts_for(user, req.requester_id) or services.acts_for(user, req.owner_id)
    labels = dict(R.choices)
    timeline = list(req.timeline.all())
    for event in timeline:
        event.from_label = labels.get(event.from_status, event.from_status)
        event.to_label = labels.get(event.to_status, event.to_status)
    context = {
        "req": req,
        "action_forms": action_forms,
        "timeline": timeline,
        "messages_list": [e for e in timeline if e.kind == "message"],
        "documents": list(req.documents.all()),
        "tenancies": list(req.tenancies.all()),
        "can_message": party or services.is_official(user),
        "can_upload": party and req.status not in services.CLOSED,
        "message_form": forms.get("message") or MessageForm(),
        "document_form": forms.get("document") or DocumentForm(),
        "days_left": working_days_left(req.response_due) if req.status == R.SUBMITTED else None,
        "is_owner": services.acts_for(user, req.owner_id),
    }
    return render(request, "sharing/request_detail.html", context, status=status)


def request_detail(request, pk):
    return render_request(request, _request_or_404(request.user, pk))


ACTION_DONE = {
    "accept": gettext_lazy("Request %(number)s accepted: the tenancy is recorded."),
    "refuse": gettext_lazy("Request %(number)s refused."),
    "counter": gettext_lazy("Counter-offer sent on request %(number)s."),
    "accept_counter": gettext_lazy("Counter-offer accepted: the tenancy is recorded."),
    "withdraw": gettext_lazy("Request %(number)s withdrawn."),
    "escalate": gettext_lazy("Request %(number)s escalated to the regulator."),
    "decide": gettext_lazy("Decision recorded on request %(number)s; it binds both parties."),
}


class RequestActionView(CaseActionView):
    workflow = SHARING
    action_forms = ACTION_FORMS
    done = ACTION_DONE
    detail_route = "sharing:request-detail"

    def get_case(self, pk):
        return _request_or_404(self.request.user, pk)

    def render_case(self, case, status, forms):
        return render_request(self.request, case, status=status, forms=forms)


request_action = RequestActionView.as_view()


@require_POST
def request_message(request, pk):
    req = _request_or_404(request.user, pk)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            services.post_message(request.user, req, form.cleaned_data["text"])
        except InvalidInput as exc:
            form.add_service_errors(exc)
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return redirect("sharing:request-detail", pk=req.pk)
        else:
            messages.success(request, _("Message sent."))
            return redirect(reverse("sharing:request-detail", args=[req.pk]) + "#messages")
    return render_request(request, req, status=400, forms={"message": form})


@require_POST
def request_upload(request, pk):
    req = _request_or_404(request.user, pk)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.upload_document(request.user, req, form.cleaned_data["file"])
        except InvalidInput as exc:
            form.add_service_errors(exc)
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return redirect("sharing:request-detail", pk=req.pk)
        else:
            messages.success(request, _("Document uploaded."))
            return redirect(reverse("sharing:request-detail", args=[req.pk]) + "#documents")
    return render_request(request, req, status=400, forms={"document": form})


def request_document(request, pk, document_id):
    """A document of a request the user may see (never by a public media URL)."""
    req = _request_or_404(request.user, pk)
    document = get_object_or_404(RequestDocument, pk=document_id, request=req)
    return FileResponse(
        document.file.open("rb"),
        content_type=document.content_type,
        as_attachment=False,
        filename=document.original_name,
    )
