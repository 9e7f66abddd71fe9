"""Shared infrastructure's part of the portal's search box (core.search)."""

from django.utils.translation import gettext_lazy as _

from core.search import register
from sharing import selectors
from sharing.filters import AssetFilter, SharingRequestFilter

register(
    "assets",
    label=_("Shareable assets"),
    queryset=lambda user: selectors.assets(user).select_related("owner"),
    filterset=AssetFilter,
    title=lambda a: f"{a.code} · {a.name}",
    detail=lambda a: " · ".join(filter(None, [str(a.owner), a.address])),
    url=lambda a: ("sharing:asset-detail", [a.public_id]),
)
register(
    "sharing_requests",
    label=_("Sharing requests"),
    queryset=lambda user: selectors.requests(user).select_related("requester", "owner"),
    filterset=SharingRequestFilter,
    title=lambda r: r.number,
    detail=lambda r: f"{r.requester} → {r.owner} · {r.get_status_display()}",
    url=lambda r: ("sharing:request-detail", [r.pk]),
)
