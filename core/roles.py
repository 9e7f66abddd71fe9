"""The portal's roles. Each is a Django group of the same name; a user may hold several."""

from django.utils.translation import gettext_lazy as _

CITY_OFFICIAL = "city_official"
NATIONAL_OFFICIAL = "national_official"
OPERATOR_STAFF = "operator_staff"
API_CLIENT = "api_client"
ADMINISTRATOR = "administrator"

ROLE_LABELS = {
    CITY_OFFICIAL: _("City official"),
    NATIONAL_OFFICIAL: _("National official"),
    OPERATOR_STAFF: _("Operator staff"),
    API_CLIENT: _("Agency API client"),
    ADMINISTRATOR: _("Administrator"),
}
ALL_ROLES = tuple(ROLE_LABELS)

# Roles whose holders see every organisation's records.
OFFICIAL_ROLES = frozenset({CITY_OFFICIAL, NATIONAL_OFFICIAL, ADMINISTRATOR})
