"""Test data for agreements, made through the services (so rules, history and permissions run as in
production). Plain functions: each test states what it needs in one line."""

import itertools
from datetime import date

from agreements import services
from core.models import Organization

_serial = itertools.count(1)

PERIOD = (date(2020, 7, 1), date(2025, 12, 31))


def org(code):
    return Organization.objects.get(code=code)


def agreement(
    user,
    parties=("SO_TTTT_HN", "CUC_VT"),
    *,
    in_force=True,
    period=PERIOD,
    signed_on=date(2020, 6, 26),
    **fields,
):
    """A programme between ``parties`` (codes; the first is the lead), in force unless told."""
    data = {
        "code": f"T-CTPH-{next(_serial)}",
        "title": "Chương trình phối hợp quản lý hạ tầng số (thử)",
        "period_start": period[0],
        "period_end": period[1],
        **fields,
    }
    made = services.save_agreement(
        user,
        parties=[
            {"organization": org(code), "role": "lead" if i == 0 else "party"}
            for i, code in enumerate(parties)
        ],
        **data,
    )
    if in_force:
        made = services.bring_into_force(user, made, signed_on=signed_on)
    return made


def area(user, agreement, number=None, title=None):
    number = number or agreement.areas.count() + 1
    return services.save_area(
        user, agreement, number=number, title=title or f"Nội dung phối hợp số {number}"
    )


def task(user, area, responsible="SO_TTTT_HN", supporting=(), **fields):
    """A task of ``area`` that ``responsible`` (a code) leads, ``supporting`` (codes) help with."""
    data = {"title": f"Nhiệm vụ thử {next(_serial)}", "responsible": org(responsible), **fields}
    return services.save_task(
        user, area=area, supporting=[org(c) for c in supporting] or None, **data
    )
