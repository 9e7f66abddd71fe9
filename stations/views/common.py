"""What the pages of the stations app share: the map limits and operator colours, the non-bulky
hint, who may apply, history rows and map points."""

from core import web as core_web
from stations import services
from stations.models import PermitApplication, non_bulky_verdict

MAP_POINT_LIMIT = 20_000
UUID_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
S = PermitApplication.Status

# Marker colours by operator code (others get grey); the legend and the map read the same table.
OPERATOR_COLOURS = {
    "VIETTEL": "#d62828",
    "VNPT": "#1d4ed8",
    "MOBIFONE": "#f59e0b",
    "VIETNAMOBILE": "#7c3aed",
    "GTEL": "#0d9488",
    "FPT": "#ea580c",
    "CMC": "#be185d",
}
OTHER_COLOUR = "#6b7280"


def non_bulky_hint(structure_type, height, building):
    return non_bulky_verdict(structure_type, height, building)


may_apply = services.can_apply


def history_rows(obj, model):
    return core_web.history_rows(obj, model, hidden=("non_bulky",))


def point_json(obj, **extra):
    if not obj.location:
        return None
    return {"lon": obj.location.x, "lat": obj.location.y, **extra}
