"""Coordination programmes' part of the portal's search box (core.search)."""

from django.utils.translation import gettext_lazy as _

from agreements import selectors
from agreements.filters import AgreementFilter
from core.search import register

register(
    "agreements",
    label=_("Agreements"),
    queryset=lambda user: selectors.agreements(user),
    filterset=AgreementFilter,
    title=lambda a: f"{a.code} · {a.title}",
    detail=lambda a: a.get_status_display(),
    url=lambda a: ("agreements:agreement-detail", [a.public_id]),
)
