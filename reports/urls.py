from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.RunListView.as_view(), name="run-list"),
    path("runs/new/", views.RunCreateView.as_view(), name="run-create"),
    path("runs/<uuid:public_id>/", views.run_detail, name="run-detail"),
    path("runs/<uuid:public_id>/progress/", views.run_progress, name="run-progress"),
    path("runs/<uuid:public_id>/download/<str:fmt>/", views.run_download, name="run-download"),
    path("runs/<uuid:public_id>/<str:action>/", views.run_action, name="run-action"),
    path("definitions/", views.DefinitionListView.as_view(), name="definition-list"),
    path("definitions/new/", views.DefinitionFormView.as_view(), name="definition-create"),
    path("definitions/<int:pk>/edit/", views.DefinitionFormView.as_view(), name="definition-edit"),
]
