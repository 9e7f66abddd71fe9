from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView, TemplateView

from core import health, notifications, selectors
from core.filters import AdministrativeUnitFilter, OrganizationFilter
from core.models import AdministrativeUnit, Notification
from core.web import ListPage


@never_cache
@login_not_required
def healthz(request):
    db_ok, db_info = health.check_database()
    redis_ok, redis_info = health.check_redis()
    body = {
        "status": "ok" if db_ok and redis_ok else "unavailable",
        "database": {"ok": db_ok, "info": db_info},
        "redis": {"ok": redis_ok, "info": redis_info},
        "worker_heartbeat_age_s": health.last_heartbeat() if redis_ok else None,
    }
    return JsonResponse(body, status=200 if db_ok and redis_ok else 503)


class HomeView(TemplateView):
    template_name = "core/home.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
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
