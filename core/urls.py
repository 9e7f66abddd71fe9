from django.urls import path

from core import views
from core.sync import views as sync_views

app_name = "core"

urlpatterns = [
    path("units/", views.UnitListView.as_view(), name="unit-list"),
    path("units/map.geojson", views.units_geojson, name="unit-geojson"),
    path("units/<str:code>/", views.UnitDetailView.as_view(), name="unit-detail"),
    path("organizations/", views.OrganizationListView.as_view(), name="organization-list"),
    path("downloads/", sync_views.DownloadListView.as_view(), name="download-list"),
    path("notifications/", views.NotificationListView.as_view(), name="notification-list"),
    path("imports/<uuid:public_id>/", views.import_job, name="import-job"),
    path(
        "imports/<uuid:public_id>/progress/",
        views.import_job_progress,
        name="import-job-progress",
    ),
    path("imports/<uuid:public_id>/errors.csv", views.import_job_errors, name="import-job-errors"),
    path(
        "notifications/read/",
        views.notifications_mark_all_read,
        name="notification-mark-all-read",
    ),
]
