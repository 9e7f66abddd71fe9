from django.urls import path

from core import auth_views, views
from core.access import role_not_required

app_name = "core"

# A signed-in account without a role reaches only the pages marked role_not_required (core.access):
# its second factor and its own notifications.
urlpatterns = [
    path(
        "account/2fa/setup/",
        role_not_required(auth_views.two_factor_setup),
        name="two-factor-setup",
    ),
    path(
        "account/2fa/verify/",
        role_not_required(auth_views.two_factor_verify),
        name="two-factor-verify",
    ),
    path(
        "account/2fa/recovery-codes/",
        role_not_required(auth_views.two_factor_recovery_codes),
        name="two-factor-recovery-codes",
    ),
    path("units/", views.UnitListView.as_view(), name="unit-list"),
    path("units/map.geojson", views.units_geojson, name="unit-geojson"),
    path("units/<str:code>/", views.UnitDetailView.as_view(), name="unit-detail"),
    path("organizations/", views.OrganizationListView.as_view(), name="organization-list"),
    path(
        "notifications/",
        role_not_required(views.NotificationListView.as_view()),
        name="notification-list",
    ),
    path("imports/new/<str:kind>/", views.import_start, name="import-start"),
    path("imports/<uuid:public_id>/", views.import_job, name="import-job"),
    path(
        "imports/<uuid:public_id>/progress/",
        views.import_job_progress,
        name="import-job-progress",
    ),
    path("imports/<uuid:public_id>/errors.csv", views.import_job_errors, name="import-job-errors"),
    path(
        "imports/<uuid:public_id>/errors.xlsx",
        views.import_job_errors,
        {"fmt": "xlsx"},
        name="import-job-errors-xlsx",
    ),
    path("imports/<uuid:public_id>/retry/", views.import_job_retry, name="import-job-retry"),
    path("imports/<uuid:public_id>/cancel/", views.import_job_cancel, name="import-job-cancel"),
    path("search/", views.search_page, name="search"),
    path("imports/<uuid:public_id>/mapping/", views.import_job_mapping, name="import-job-mapping"),
    path(
        "notifications/read/",
        role_not_required(views.notifications_mark_all_read),
        name="notification-mark-all-read",
    ),
]
