"""The public-site catalogue pages: list with its map, GeoJSON, detail, create and edit."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from core.text import vietnamese
from core.web import ListPage, ServiceFormView, map_layer, query_without
from stations import selectors, services
from stations.filters import PublicSiteFilter
from stations.forms import PublicSiteForm
from stations.models import PublicSite
from stations.views.common import (
    MAP_POINT_LIMIT,
    UUID_PLACEHOLDER,
    history_rows,
    may_apply,
    point_json,
)

SITE_COLOURS = {
    PublicSite.Status.AVAILABLE: "#16a34a",
    PublicSite.Status.RESERVED: "#f59e0b",
    PublicSite.Status.OCCUPIED: "#6b7280",
}


class SiteListView(ListPage):
    template_name = "stations/site_list.html"
    filterset_class = PublicSiteFilter

    def get_queryset(self):
        return selectors.public_sites(self.request.user).order_by(vietnamese("name"), "id")

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
