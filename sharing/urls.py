from django.urls import path

from sharing import views

app_name = "sharing"

urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    # The asset register
    path("assets/", views.AssetListView.as_view(), name="asset-list"),
    path("assets/new/", views.AssetCreateView.as_view(), name="asset-create"),
    path("assets/map/", views.AssetMapView.as_view(), name="asset-map"),
    path("assets/map.geojson", views.asset_geojson, name="asset-geojson"),
    path("assets/<uuid:public_id>/", views.asset_detail, name="asset-detail"),
    path("assets/<uuid:public_id>/edit/", views.AssetUpdateView.as_view(), name="asset-update"),
    path("assets/<uuid:public_id>/tenancies/", views.tenancy_create, name="tenancy-create"),
    path("tenancies/<int:pk>/end/", views.tenancy_end, name="tenancy-end"),
    # Sharing requests
    path("requests/", views.RequestListView.as_view(), name="request-list"),
    path("requests/new/", views.RequestCreateView.as_view(), name="request-create"),
    path("requests/<int:pk>/", views.request_detail, name="request-detail"),
    path("requests/<int:pk>/messages/", views.request_message, name="request-message"),
    path("requests/<int:pk>/documents/", views.request_upload, name="request-upload"),
    path(
        "requests/<int:pk>/documents/<int:document_id>/",
        views.request_document,
        name="request-document",
    ),
    path("requests/<int:pk>/<slug:action>/", views.request_action, name="request-action"),
]
