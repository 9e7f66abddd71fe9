from rest_framework.routers import DefaultRouter

from cables.api import views

router = DefaultRouter()
router.register("cable-projects", views.ProjectViewSet, basename="cable-project")
router.register("cable-segments", views.SegmentViewSet, basename="cable-segment")
router.register("progress-updates", views.ProgressUpdateViewSet, basename="progress-update")
router.register("civil-works", views.NoticeViewSet, basename="civil-works-notice")
router.register("cable-totals", views.TotalsViewSet, basename="cable-totals")

urlpatterns = router.urls
