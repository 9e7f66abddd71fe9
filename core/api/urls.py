from django.urls import path
from rest_framework.routers import DefaultRouter

from core.api import views

router = DefaultRouter()
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("units", views.AdministrativeUnitViewSet, basename="unit")

urlpatterns = [
    *router.urls,
    path("search/", views.SearchView.as_view(), name="search"),
]
