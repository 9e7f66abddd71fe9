from django.urls import path

from agreements import views

app_name = "agreements"

# Agreements and tasks are addressed by their public id (reminders link to these pages).
urlpatterns = [
    path("", views.AgreementListView.as_view(), name="agreement-list"),
    path("new/", views.agreement_form, name="agreement-create"),
    path("<uuid:public_id>/", views.agreement_detail, name="agreement-detail"),
    path("<uuid:public_id>/edit/", views.agreement_form, name="agreement-edit"),
    path("<uuid:public_id>/document/", views.agreement_document, name="agreement-document"),
    path("<uuid:public_id>/status.xlsx", views.agreement_export, name="agreement-export"),
    path("<uuid:public_id>/print/", views.agreement_print, name="agreement-print"),
    path("<uuid:public_id>/in-force/", views.agreement_in_force, name="agreement-in-force"),
    path("<uuid:public_id>/renew/", views.agreement_renew, name="agreement-renew"),
    path("<uuid:public_id>/areas/new/", views.AreaCreateView.as_view(), name="area-create"),
    path("<uuid:public_id>/tasks/new/", views.TaskCreateView.as_view(), name="task-create"),
    path("<uuid:public_id>/meetings/new/", views.meeting_create, name="meeting-create"),
    path("tasks/<uuid:public_id>/", views.task_detail, name="task-detail"),
    path("tasks/<uuid:public_id>/edit/", views.TaskEditView.as_view(), name="task-edit"),
    path("tasks/<uuid:public_id>/status/", views.task_status, name="task-status"),
    path("tasks/<uuid:public_id>/updates/", views.update_create, name="update-create"),
    path("evidence/<int:pk>/", views.evidence_file, name="evidence"),
]
