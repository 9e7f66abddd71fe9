from django.urls import path
from django.views.generic import RedirectView

app_name = "stations"

# Placeholder routes; the pages arrive with the stations views.
urlpatterns = [
    path("applications/<int:pk>/", RedirectView.as_view(url="/"), name="application-detail"),
]
