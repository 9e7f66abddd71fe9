from django.urls import path

from cables import views

app_name = "cables"

urlpatterns = [
    path("", views.ProjectListView.as_view(), name="project-list"),
    path("projects/new/", views.ProjectCreateView.as_view(), name="project-create"),
    path("projects/<int:pk>/", views.project_detail, name="project-detail"),
    path("projects/<int:pk>/segments/", views.segment_create, name="segment-create"),
    path("projects/<int:pk>/segments/import/", views.segment_import, name="segment-import"),
    path("projects/<int:pk>/progress/", views.progress_create, name="progress-create"),
    path("photos/<int:pk>/", views.progress_photo, name="progress-photo"),
    path("map/", views.SegmentMapView.as_view(), name="segment-map"),
    path("map.geojson", views.segment_geojson, name="segment-geojson"),
    path("notices/", views.NoticeListView.as_view(), name="notice-list"),
    path("notices/new/", views.NoticeCreateView.as_view(), name="notice-create"),
    path("notices/<int:pk>/", views.notice_detail, name="notice-detail"),
    path("notices/<int:pk>/register/", views.notice_register, name="notice-register"),
]
