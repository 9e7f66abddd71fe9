"""HTML pages of the spam_reports app, by topic: cases (list, detail with flags, breakdown, reports,
assignments and history, and its forms), assignments (the operators' list), reports (list, detail,
new report, 5656 message, evidence files, the citizens' public form), imports (the import page; the
progress is core's import-job page), statistics (with a server-drawn trend chart) and
subscriber-information inspections; common holds the helpers they share.

Views parse the request, call a selector or a service and render. Every write goes through
``spam_reports.services``; a domain error becomes a form error, never a 500. Selectors are scoped:
an operator's staff see their own operator's cases, reports and assignments (another operator's
case is a 404).

This package re-exports every public name, so ``from spam_reports import views`` and
``views.case_detail`` keep working; a test that replaces a helper patches the module that looks it
up (``spam_reports.views.reports.within_rate`` …).
"""

from spam_reports.views.assignments import ACTION_EXPORT, ActionListView
from spam_reports.views.cases import (
    CASE_COLUMNS,
    CASE_EXPORT,
    CASE_REPORTS_PER_PAGE,
    CaseListView,
    action_respond,
    case_assign,
    case_detail,
    case_operator,
    case_status,
    render_case,
)
from spam_reports.views.common import flag_rows
from spam_reports.views.imports import TEMPLATE_COLUMNS, ImportView, import_template
from spam_reports.views.inspections import (
    INSPECTION_EXPORT,
    InspectionCreateView,
    InspectionListView,
    InspectionUpdateView,
    inspection_close,
    inspection_detail,
    inspection_follow_up,
    may_follow_up,
    render_inspection,
)
from spam_reports.views.reports import (
    REPORT_EXPORT,
    Report5656CreateView,
    ReportCreateView,
    ReportListView,
    client_address,
    evidence_file,
    public_complaint,
    public_thanks,
    render_report,
    report_detail,
    report_mark,
    within_rate,
)
from spam_reports.views.statistics import (
    CHART,
    TREND_DAYS_FOR_A_DAY,
    StatisticsView,
    statistics_export,
    statistics_tables,
    trend_chart,
)

__all__ = [
    "ACTION_EXPORT",
    "ActionListView",
    "CASE_COLUMNS",
    "CASE_EXPORT",
    "CASE_REPORTS_PER_PAGE",
    "CHART",
    "CaseListView",
    "INSPECTION_EXPORT",
    "ImportView",
    "InspectionCreateView",
    "InspectionListView",
    "InspectionUpdateView",
    "REPORT_EXPORT",
    "Report5656CreateView",
    "ReportCreateView",
    "ReportListView",
    "StatisticsView",
    "TEMPLATE_COLUMNS",
    "TREND_DAYS_FOR_A_DAY",
    "action_respond",
    "case_assign",
    "case_detail",
    "case_operator",
    "case_status",
    "client_address",
    "evidence_file",
    "flag_rows",
    "import_template",
    "inspection_close",
    "inspection_detail",
    "inspection_follow_up",
    "may_follow_up",
    "public_complaint",
    "public_thanks",
    "render_case",
    "render_inspection",
    "render_report",
    "report_detail",
    "report_mark",
    "statistics_export",
    "statistics_tables",
    "trend_chart",
    "within_rate",
]
