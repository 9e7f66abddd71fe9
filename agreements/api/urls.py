from rest_framework.routers import DefaultRouter

from agreements.api import views

router = DefaultRouter()
router.register("agreements", views.AgreementViewSet, basename="agreement")
router.register("agreement-areas", views.ContentAreaViewSet, basename="agreement-area")
router.register("agreement-tasks", views.TaskViewSet, basename="agreement-task")
router.register("agreement-updates", views.UpdateViewSet, basename="agreement-update")
router.register("agreement-meetings", views.MeetingViewSet, basename="agreement-meeting")
router.register("indicators", views.IndicatorViewSet, basename="indicator")

urlpatterns = router.urls
