from rest_framework.routers import DefaultRouter

from spam_reports.api import views

router = DefaultRouter()
router.register("spam-reports", views.ReportViewSet, basename="spam-report")
router.register("spam-cases", views.SpamCaseViewSet, basename="spam-case")
router.register("spam-assignments", views.ActionViewSet, basename="spam-assignment")
router.register("spam-inspections", views.InspectionViewSet, basename="spam-inspection")
router.register("spam-statistics", views.StatisticsViewSet, basename="spam-statistics")
router.register("spam-imports", views.ImportViewSet, basename="spam-import")
router.register("do-not-call", views.DoNotCallViewSet, basename="do-not-call")

urlpatterns = router.urls
