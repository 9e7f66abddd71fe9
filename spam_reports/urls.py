app_name = "spam_reports"

urlpatterns = []
