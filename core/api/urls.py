from django.urls import path
from rest_framework.routers import DefaultRouter

from core.api import sync, views

router = DefaultRouter()
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("units", views.AdministrativeUnitViewSet, basename="unit")

urlpatterns = [
    path("changes/", sync.ChangesView.as_view(), name="changes"),
    path("changes/head/", sync.ChangesHeadView.as_view(), name="changes-head"),
    *router.urls,
]
