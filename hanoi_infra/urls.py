from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog, set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import views as core_views
from core.access import role_not_required
from core.forms import LoginForm

admin.site.site_header = _("hanoi_infra administration")
admin.site.site_title = _("hanoi_infra")

api_v1 = [
    path("", include("core.api.urls")),
    path("", include("sync.api.urls")),
    path("", include("stations.api.urls")),
    path("", include("sharing.api.urls")),
    path("", include("cables.api.urls")),
    path("", include("spam_reports.api.urls")),
    path("", include("agreements.api.urls")),
    path("", include("reports.api.urls")),
]

urlpatterns = [
    path("", core_views.HomeView.as_view(), name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", role_not_required(auth_views.LogoutView.as_view()), name="logout"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("jsi18n/", role_not_required(JavaScriptCatalog.as_view()), name="javascript-catalog"),
    path("", include("core.urls")),
    path("", include("sync.urls")),
    path("stations/", include("stations.urls")),
    path("sharing/", include("sharing.urls")),
    path("cables/", include("cables.urls")),
    path("spam/", include("spam_reports.urls")),
    path("agreements/", include("agreements.urls")),
    path("reports/", include("reports.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file (no inline script under the CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

# Under /api/ an error is the API's JSON error shape, never an HTML page (core.api.exceptions).
handler400 = "core.api.exceptions.bad_request"
handler403 = "core.api.exceptions.permission_denied"
handler404 = "core.api.exceptions.not_found"
handler500 = "core.api.exceptions.server_error"
