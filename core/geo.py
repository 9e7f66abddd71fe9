"""Geometry rules shared by every app: where Vietnam is."""

from django.contrib.gis.geos import Polygon
from django.utils.translation import gettext_lazy as _

# Vietnam's mainland and islands, generously (lon 102.1-117.9, lat 8.1-23.4): a point outside this
# box cannot be in Vietnam. Finer checks (inside Hanoi, inside its commune) use unit boundaries.
VIETNAM_EXTENT = (102.1, 8.1, 117.9, 23.4)
VIETNAM_BBOX = Polygon.from_bbox(VIETNAM_EXTENT)
VIETNAM_BBOX.srid = 4326
OUTSIDE_VIETNAM = _("The location is outside Vietnam.")


def within_vietnam(geometry):
    if geometry.srid not in (None, 4326):
        geometry = geometry.transform(4326, clone=True)
    return VIETNAM_BBOX.contains(geometry)


def check_location(point, commune=None, field="location"):
    """Validate a point and its commune; return the commune (suggested from the point if not given).

    Raises InvalidInput: outside Vietnam; outside Hanoi's loaded boundaries; not inside the given
    commune. Without loaded boundaries only the Vietnam check applies and a commune is required.
    """
    from core.exceptions import InvalidInput
    from core.selectors import boundaries_loaded, unit_containing

    if point is None:
        raise InvalidInput({field: [_("A location is required.")]})
    if not within_vietnam(point):
        raise InvalidInput({field: [OUTSIDE_VIETNAM]})
    if not boundaries_loaded():
        if commune is None:
            raise InvalidInput({"commune": [_("Choose the commune.")]})
        return commune
    found = unit_containing(point)
    if found is None:
        raise InvalidInput({field: [_("The location is outside Hanoi's communes.")]})
    if commune is not None and commune.pk != found.pk:
        raise InvalidInput(
            {
                "commune": [
                    _("The location is in %(found)s, not in %(given)s.")
                    % {"found": found.name, "given": commune.name}
                ]
            }
        )
    return found


def check_route(route, field="route"):
    """A route must be a simple line with at least two different points, inside Vietnam."""
    from core.exceptions import InvalidInput

    if route is None or getattr(route, "geom_type", None) != "LineString":
        raise InvalidInput({field: [_("A route is a line (LineString).")]})
    if route.srid not in (None, 4326):
        route = route.transform(4326, clone=True)
    if route.num_points < 2 or len({tuple(c) for c in route.coords}) < 2 or route.length == 0:
        raise InvalidInput({field: [_("A route needs at least two different points.")]})
    if not route.simple:
        raise InvalidInput({field: [_("The route crosses itself.")]})
    if not within_vietnam(route):
        raise InvalidInput({field: [_("The route leaves Vietnam.")]})
    return route


def length_m(geometry):
    """Length in metres on the ellipsoid (PostGIS geography)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_Length(ST_GeomFromEWKB(%s)::geography)", [bytes(geometry.ewkb)])
        return cursor.fetchone()[0]
