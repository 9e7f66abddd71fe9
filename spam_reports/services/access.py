"""Who may do what in the spam_reports app (officials, reporters, operators answering)."""

from core import roles
from core.permissions import acts_for, is_city_official, is_operator_user
from core.scoping import sees_everything
from spam_reports.models import Origin

# --- Who may do what ---------------------------------------------------------------------------


def is_spam_official(user):
    """City and national officials (and administrators) handle complaints and cases."""
    return is_city_official(user) or bool(
        user and user.is_authenticated and user.has_role(roles.NATIONAL_OFFICIAL)
    )


def can_report(user):
    """Officials, operators' staff and systems (their feed), agencies' API clients."""
    return is_spam_official(user) or is_operator_user(user) or sees_everything(user)


def can_answer(user, action):
    return acts_for(user, action.operator_id) or is_spam_official(user)


def _origin_for(user):
    if user is None or not user.is_authenticated:
        return Origin.PUBLIC_FORM
    if is_spam_official(user):
        return Origin.OFFICIAL
    if is_operator_user(user):
        return Origin.OPERATOR_FEED
    return Origin.API
