"""Spam cases' part of the portal's search box (core.search): a sender as typed."""

from django.utils.translation import gettext_lazy as _

from core.search import register
from spam_reports import selectors
from spam_reports.filters import CaseFilter

register(
    "spam_cases",
    label=_("Spam cases"),
    queryset=lambda user: selectors.cases(user),
    filterset=CaseFilter,
    param="sender",
    title=lambda c: c.sender,
    detail=lambda c: " · ".join(
        filter(None, [c.get_status_display(), str(c.operator or ""), str(c.report_count)])
    ),
    url=lambda c: ("spam_reports:case-detail", [c.public_id]),
)
