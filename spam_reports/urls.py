from django.urls import path
from django.views.generic import RedirectView

from spam_reports import views

app_name = "spam_reports"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="spam_reports:case-list", query_string=True)),
    path("cases/", views.CaseListView.as_view(), name="case-list"),
    path("cases/<uuid:public_id>/", views.case_detail, name="case-detail"),
    path("cases/<uuid:public_id>/status/", views.case_status, name="case-status"),
    path("cases/<uuid:public_id>/operator/", views.case_operator, name="case-operator"),
    path("cases/<uuid:public_id>/assign/", views.case_assign, name="case-assign"),
    path("assignments/", views.ActionListView.as_view(), name="action-list"),
    path("assignments/<uuid:public_id>/respond/", views.action_respond, name="action-respond"),
    path("reports/", views.ReportListView.as_view(), name="report-list"),
    path("reports/new/", views.ReportCreateView.as_view(), name="report-create"),
    path("reports/new/5656/", views.Report5656CreateView.as_view(), name="report-create-5656"),
    path("reports/<uuid:public_id>/", views.report_detail, name="report-detail"),
    path("reports/<uuid:public_id>/mark/", views.report_mark, name="report-mark"),
    path("evidence/<uuid:public_id>/", views.evidence_file, name="evidence"),
    path("complaint/", views.public_complaint, name="public-complaint"),
    path("complaint/thanks/", views.public_thanks, name="public-thanks"),
    path("import/", views.ImportView.as_view(), name="import"),
    path("import/template/<str:kind>.csv", views.import_template, name="import-template"),
    path("statistics/", views.StatisticsView.as_view(), name="statistics"),
    path("inspections/", views.InspectionListView.as_view(), name="inspection-list"),
    path("inspections/new/", views.InspectionCreateView.as_view(), name="inspection-create"),
    path("inspections/<uuid:public_id>/", views.inspection_detail, name="inspection-detail"),
    path(
        "inspections/<uuid:public_id>/edit/",
        views.InspectionUpdateView.as_view(),
        name="inspection-update",
    ),
    path(
        "inspections/<uuid:public_id>/follow-up/",
        views.inspection_follow_up,
        name="inspection-follow-up",
    ),
    path(
        "inspections/<uuid:public_id>/close/",
        views.inspection_close,
        name="inspection-close",
    ),
]
