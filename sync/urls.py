from django.urls import path

from sync import views

app_name = "sync"

urlpatterns = [
    path("downloads/", views.DownloadListView.as_view(), name="download-list"),
]
