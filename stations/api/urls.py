from rest_framework.routers import DefaultRouter

from stations.api import views

router = DefaultRouter()
router.register("stations", views.StationViewSet, basename="station")
router.register("public-sites", views.PublicSiteViewSet, basename="public-site")
router.register(
    "permit-applications", views.PermitApplicationViewSet, basename="permit-application"
)

urlpatterns = router.urls
