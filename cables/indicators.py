"""Measures of the cables app, registered in core's indicator registry. Progress updates are dated
and corrections replace what they correct, so a figure as of a past day stays the same; the planned
kilometres are read from the segments' change history as of the cut-off."""

from django.utils.translation import gettext_lazy as _

from cables.models import CableSegment
from cables.selectors import _IN_FORCE
from core.history import state_as_of
from core.indicators import grouped, indicator

# Work in force on the cut-off day, spread over communes by the share of each segment inside them.
_DONE = f"""
    ({_IN_FORCE}) done JOIN cables_cablesegment s ON s.id = done.segment_id
"""
_DONE_BY_COMMUNE = f"""
    ({_IN_FORCE}) done JOIN cables_cablesegment s ON s.id = done.segment_id
    JOIN cables_segmentcommune p ON p.segment_id = s.id
"""
DIMENSIONS = {
    "operator": ("o.code", "o.short_name", "JOIN core_organization o ON o.id = done.operator_id"),
    "commune": ("u.code", "u.name", "JOIN core_administrativeunit u ON u.id = p.commune_id"),
}


def _km(window, by, column):
    params = {"as_of": window.as_of}
    if by == "commune":
        return _float(
            grouped(
                _DONE_BY_COMMUNE,
                "",
                params,
                by,
                DIMENSIONS,
                value=f"round(sum(done.{column} * p.length_m / s.length_m)::numeric / 1000, 3)",
            )
        )
    return _float(
        grouped(
            _DONE,
            "",
            params,
            by,
            DIMENSIONS,
            value=f"round(coalesce(sum(done.{column}), 0)::numeric / 1000, 3)",
        )
    )


def _float(value):
    if isinstance(value, list):
        return [{**r, "value": float(r["value"] or 0)} for r in value]
    return float(value or 0)


@indicator(
    "cables.km_planned",
    _("Cable undergrounding planned"),
    "km",
    _("Kilometres of the undergrounding projects' segments drawn by the cut-off day."),
    dimensions=("operator", "commune"),
)
def km_planned(window, by=None):
    dimensions = {
        "operator": ("o.code", "o.short_name", "JOIN core_organization o ON o.id = s.operator_id"),
        "commune": (
            "u.code",
            "u.name",
            "JOIN cables_segmentcommune p ON p.segment_id = s.id "
            "JOIN core_administrativeunit u ON u.id = p.commune_id",
        ),
    }
    length = "p.length_m" if by == "commune" else "s.length_m"
    return _float(
        grouped(
            state_as_of(CableSegment),
            "",
            {"moment": window.end_at},
            by,
            dimensions,
            value=f"round(coalesce(sum({length}), 0)::numeric / 1000, 3)",
        )
    )


@indicator(
    "cables.km_overhead_removed",
    _("Overhead cable removed"),
    "km",
    _("Kilometres of overhead telecom cable taken down, as reported by the cut-off day."),
    dimensions=("operator", "commune"),
    tags=("headline",),
)
def km_overhead_removed(window, by=None):
    return _km(window, by, "overhead_removed_m")


@indicator(
    "cables.km_cable_pulled",
    _("Cable pulled underground"),
    "km",
    _("Kilometres of cable pulled into underground ducts, as reported by the cut-off day."),
    dimensions=("operator", "commune"),
)
def km_cable_pulled(window, by=None):
    return _km(window, by, "cable_pulled_m")


@indicator(
    "cables.km_duct_built",
    _("Duct built"),
    "km",
    _("Kilometres of underground duct built, as reported by the cut-off day."),
    dimensions=("operator", "commune"),
)
def km_duct_built(window, by=None):
    return _km(window, by, "duct_built_m")
