from django.urls import path, re_path
from rest_framework.routers import DefaultRouter

from sync.api import changes, downloads, webhooks

router = DefaultRouter()
router.register("webhooks", webhooks.WebhookViewSet, basename="webhook")

urlpatterns = [
    path("changes/", changes.ChangesView.as_view(), name="changes"),
    path("changes/head/", changes.ChangesHeadView.as_view(), name="changes-head"),
    path("downloads/", downloads.DownloadListView.as_view(), name="register-download-list"),
    re_path(
        r"^downloads/(?P<resource>[a-z0-9-]+)\.(?P<fmt>[a-z]+)$",
        downloads.DownloadFileView.as_view(),
        name="register-download-file",
    ),
    *router.urls,
]
