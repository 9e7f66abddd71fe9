"""Who reads which reports: the one rule the API, the pages and the dashboard apply.

- Officials (city, national) and administrators read every definition and every run.
- The recipient agency's staff and API client read the definitions addressed to their organisation
  and, of their runs, only those submitted to them: a run under review is the sender's business.
- Anyone else (operators' staff and API clients, users without a role) reads nothing.

This is narrower than core.scoping, where an agency's API client sees every record.
"""

from core import roles
from core.models import Organization
from reports.models import ReportDefinition, ReportRun
from reports.services import is_report_official


def recipient_of(user):
    """The agency ``user`` reads submitted reports for (its staff or API client), else None."""
    if not user or not user.is_authenticated or not user.is_active or not user.organization_id:
        return None
    if not user.has_role(roles.OPERATOR_STAFF, roles.API_CLIENT):
        return None
    if user.organization.kind != Organization.Kind.AGENCY:
        return None
    return user.organization_id


def definitions(user):
    queryset = ReportDefinition.objects.select_related("recipient")
    if is_report_official(user):
        return queryset
    agency = recipient_of(user)
    if agency is None:
        return queryset.none()
    return queryset.filter(recipient_id=agency)


def runs(user):
    queryset = ReportRun.objects.select_related(
        "definition__recipient", "requested_by", "approved_by"
    )
    if is_report_official(user):
        return queryset
    agency = recipient_of(user)
    if agency is None:
        return queryset.none()
    return queryset.filter(status=ReportRun.Status.SUBMITTED, definition__recipient_id=agency)
