"""One search box for the whole portal (the navbar's; page ``/search/?q=``, API ``/api/v1/search/``).

Each register declares what it offers (``register`` in its AppConfig.ready): its label, the user's
records (its own selector: scoping stays where it is), the FilterSet of its list and the parameter
of that FilterSet that searches it (``q``, a folded ``search_text`` for most: accents and case do
not count), and how a hit reads (title, detail, page). The search runs each register's own filter
on the user's records, so it finds what the list pages find, for each kind at most ``limit`` hits
(one more is read to say there are more).
"""

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

MAX_QUERY = 200  # characters: a search box, not a document


@dataclass(frozen=True)
class Kind:
    name: str
    label: Any
    queryset: Any  # user -> the records the user may see
    filterset: Any  # the list's FilterSet
    title: Any  # record -> text
    url: Any  # record -> (URL name, args)
    detail: Any = None  # record -> text
    param: str = "q"


KINDS: dict[str, Kind] = {}


def register(name, **declared):
    KINDS[name] = Kind(name, **declared)


def search(user, query, limit=10, request=None):
    """The hits of ``query`` for ``user``, by kind: [{"kind", "label", "more", "results": [{"id",
    "title", "detail", "url"}]}] (kinds without a hit left out)."""
    query = " ".join(str(query or "").split())[:MAX_QUERY]
    if not query or not getattr(user, "is_authenticated", False):
        return []
    groups = []
    for kind in KINDS.values():
        filterset = kind.filterset(
            {kind.param: query}, queryset=kind.queryset(user), request=request
        )
        if not filterset.is_valid():
            continue
        found = list(filterset.qs[: limit + 1])
        if not found:
            continue
        groups.append(
            {
                "kind": kind.name,
                "label": str(kind.label),
                "more": len(found) > limit,
                "results": [_hit(kind, record) for record in found[:limit]],
            }
        )
    return groups


def _hit(kind, record):
    name, args = kind.url(record)
    return {
        "id": str(getattr(record, "public_id", None) or record.pk),
        "title": str(kind.title(record)),
        "detail": str(kind.detail(record)) if kind.detail else "",
        "url": reverse(name, args=args),
    }


def _register_units():
    from django.utils.translation import gettext_lazy as _

    from core.filters import AdministrativeUnitFilter
    from core.selectors import communes

    register(
        "units",
        label=_("Administrative units"),
        queryset=lambda user: communes(),
        filterset=AdministrativeUnitFilter,
        title=lambda u: u.name,
        detail=lambda u: u.code,
        url=lambda u: ("core:unit-detail", [u.code]),
    )


_register_units()
