from rest_framework.routers import DefaultRouter

from sharing.api import views

router = DefaultRouter()
router.register("assets", views.AssetViewSet, basename="asset")
router.register("tenancies", views.TenancyViewSet, basename="tenancy")
router.register("sharing-requests", views.SharingRequestViewSet, basename="sharing-request")

urlpatterns = router.urls
