"""The operators' assignments list (answering one is on the case page: ``cases``)."""

from django.utils.translation import gettext_lazy

from core.web import ListPage
from spam_reports import selectors
from spam_reports.filters import ActionFilter

ACTION_EXPORT = [
    ("case_sender", "case.sender"),
    ("operator", "operator.code"),
    ("assigned_at", "assigned_at"),
    ("sla_hours", "sla_hours"),
    ("deadline", "deadline"),
    ("overdue", "is_overdue"),
    ("outcome", "outcome"),
    ("responded_at", "responded_at"),
    ("handling_hours", lambda a: round(a.handling_hours, 2) if a.responded_at else None),
    ("response_note", "response_note"),
    ("instructions", "instructions"),
    ("case_id", "case.public_id"),
    ("id", "public_id"),
]


class ActionListView(ListPage):
    template_name = "spam_reports/action_list.html"
    filterset_class = ActionFilter
    export_name = "spam-assignments"
    export_title = gettext_lazy("Operator assignments")

    def get_queryset(self):
        return selectors.actions(self.request.user)

    def export_columns(self, queryset):
        return ACTION_EXPORT

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(tab="assignments")
        return ctx
