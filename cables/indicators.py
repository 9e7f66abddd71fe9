"""Measures of the cables app, registered in core's indicator registry. Progress updates are dated
and corrections replace what they correct, so a figure as of a past day stays the same."""

from django.utils.translation import gettext_lazy as _

from cables import selectors
from core.indicators import indicator


def _km(window, by, column):
    if by == "operator":
        rows = selectors.totals_by_operator(as_of=window.as_of)
        return [
            {
                "key": r["operator"],
                "label": r["name"] or r["operator"],
                "value": float(r[column] or 0),
            }
            for r in rows
        ]
    rows = selectors.totals_by_commune(as_of=window.as_of)
    if by == "commune":
        return [
            {"key": r["commune"], "label": r["name"], "value": float(r[column] or 0)} for r in rows
        ]
    return round(sum(float(r[column] or 0) for r in rows), 3)


@indicator(
    "cables.km_overhead_removed",
    _("Overhead cable removed"),
    "km",
    _("Kilometres of overhead telecom cable taken down, as reported by the day."),
    dimensions=("operator", "commune"),
)
def km_overhead_removed(window, by=None):
    return _km(window, by, "km_overhead_removed")


@indicator(
    "cables.km_cable_pulled",
    _("Cable pulled underground"),
    "km",
    _("Kilometres of cable pulled into underground ducts, as reported by the day."),
    dimensions=("operator", "commune"),
)
def km_cable_pulled(window, by=None):
    return _km(window, by, "km_cable_pulled")


@indicator(
    "cables.km_duct_built",
    _("Duct built"),
    "km",
    _("Kilometres of underground duct built, as reported by the day."),
    dimensions=("operator", "commune"),
)
def km_duct_built(window, by=None):
    return _km(window, by, "km_duct_built")
