from rest_framework.routers import DefaultRouter

from reports.api import views

router = DefaultRouter()
router.register("report-definitions", views.ReportDefinitionViewSet, basename="report-definition")
router.register("report-runs", views.ReportRunViewSet, basename="report-run")

urlpatterns = router.urls
