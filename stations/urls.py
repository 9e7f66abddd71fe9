from django.urls import path

from stations import views

app_name = "stations"

urlpatterns = [
    # The register
    path("", views.StationListView.as_view(), name="station-list"),
    path("new/", views.StationCreateView.as_view(), name="station-create"),
    path("import/", views.StationImportView.as_view(), name="station-import"),
    path("import/template.csv", views.import_template, name="station-import-template"),
    path(
        "import/template.xlsx",
        views.import_template,
        {"fmt": "xlsx"},
        name="station-import-template-xlsx",
    ),
    path("map/", views.StationMapView.as_view(), name="station-map"),
    path("map.geojson", views.station_geojson, name="station-geojson"),
    path("hint/non-bulky/", views.non_bulky_hint_view, name="non-bulky-hint"),
    # Public sites
    path("sites/", views.SiteListView.as_view(), name="site-list"),
    path("sites/new/", views.SiteCreateView.as_view(), name="site-create"),
    path("sites/map.geojson", views.site_geojson, name="site-geojson"),
    path("sites/<uuid:public_id>/", views.SiteDetailView.as_view(), name="site-detail"),
    path("sites/<uuid:public_id>/edit/", views.SiteUpdateView.as_view(), name="site-update"),
    # Permit applications
    path("applications/", views.ApplicationListView.as_view(), name="application-list"),
    path("applications/new/", views.ApplicationCreateView.as_view(), name="application-create"),
    path("applications/<int:pk>/", views.application_detail, name="application-detail"),
    path(
        "applications/<int:pk>/edit/",
        views.ApplicationUpdateView.as_view(),
        name="application-update",
    ),
    path(
        "applications/<int:pk>/documents/",
        views.application_upload,
        name="application-upload",
    ),
    path(
        "applications/<int:pk>/documents/<int:document_id>/",
        views.application_document,
        name="application-document",
    ),
    path(
        "applications/<int:pk>/messages/",
        views.application_message,
        name="application-message",
    ),
    path(
        "applications/<int:pk>/share/<uuid:asset_id>/",
        views.application_share,
        name="application-share",
    ),
    path(
        "applications/<int:pk>/<slug:action>/",
        views.application_action,
        name="application-action",
    ),
    # A station (last: its id is a UUID)
    path("<uuid:public_id>/", views.StationDetailView.as_view(), name="station-detail"),
    path("<uuid:public_id>/edit/", views.StationUpdateView.as_view(), name="station-update"),
]
