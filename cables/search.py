"""Underground cable projects' part of the portal's search box (core.search)."""

from django.utils.translation import gettext_lazy as _

from cables import selectors
from cables.filters import ProjectFilter
from core.search import register

register(
    "cable_projects",
    label=_("Cable projects"),
    queryset=lambda user: selectors.projects(user),
    filterset=ProjectFilter,
    title=lambda p: f"{p.code} · {p.name}",
    detail=lambda p: " · ".join(filter(None, [p.streets, p.get_status_display()])),
    url=lambda p: ("cables:project-detail", [p.pk]),
)
