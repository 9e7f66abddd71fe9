"""The station register's part of the portal's search box (core.search)."""

from django.utils.translation import gettext_lazy as _

from core.search import register
from stations import selectors
from stations.filters import PermitApplicationFilter, PublicSiteFilter, StationFilter

register(
    "stations",
    label=_("Stations"),
    queryset=lambda user: selectors.stations(user).select_related("operator", "commune"),
    filterset=StationFilter,
    title=lambda s: f"{s.code} · {s.name}",
    detail=lambda s: " · ".join(
        filter(None, [s.operator.short_name or s.operator.name, s.address, str(s.commune or "")])
    ),
    url=lambda s: ("stations:station-detail", [s.public_id]),
)
register(
    "sites",
    label=_("Public sites"),
    queryset=lambda user: selectors.public_sites(user).select_related("commune"),
    filterset=PublicSiteFilter,
    title=lambda s: s.name,
    detail=lambda s: " · ".join(filter(None, [s.address, str(s.commune or "")])),
    url=lambda s: ("stations:site-detail", [s.public_id]),
)
register(
    "applications",
    label=_("Applications"),
    queryset=lambda user: selectors.applications(user).select_related("applicant"),
    filterset=PermitApplicationFilter,
    title=lambda a: f"{a} · {a.station_name}",
    detail=lambda a: " · ".join(filter(None, [str(a.applicant), a.get_status_display()])),
    url=lambda a: ("stations:application-detail", [a.pk]),
)
