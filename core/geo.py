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


def check_locations(items, field="location"):
    """Batch form of check_location, one query for all the points: ``items`` are (lon, lat,
    commune id or None) in WGS84 (lon None: no location). Returns, in order, (commune id or None,
    {field: [message]}) with check_location's rules and messages (the commune found from the
    point, or the one given when no boundaries are loaded)."""
    from django.db import connection

    from core.models import AdministrativeUnit
    from core.selectors import boundaries_loaded

    x1, y1, x2, y2 = VIETNAM_EXTENT
    results = [None] * len(items)
    inside = []
    for i, (lon, lat, _given) in enumerate(items):
        if lon is None or lat is None:
            results[i] = (None, {field: [str(_("A location is required."))]})
        elif not (x1 <= lon <= x2 and y1 <= lat <= y2):
            results[i] = (None, {field: [str(OUTSIDE_VIETNAM)]})
        else:
            inside.append(i)
    if not inside:
        return results
    if not boundaries_loaded():
        for i in inside:
            given = items[i][2]
            results[i] = (
                (given, {})
                if given is not None
                else (None, {"commune": [str(_("Choose the commune."))]})
            )
        return results
    with connection.cursor() as cursor:
        cursor.execute(
            # In the boundaries' small pieces (core.models.UnitPiece), not the whole polygons.
            """SELECT p.i, u.unit_id FROM unnest(%s::int[], %s::float8[], %s::float8[]) AS p(i, x, y)
               JOIN core_unitpiece u
                 ON ST_Intersects(u.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326))""",
            [inside, [items[i][0] for i in inside], [items[i][1] for i in inside]],
        )
        found = dict(cursor.fetchall())
    mismatched = [i for i in inside if found.get(i) and items[i][2] not in (None, found[i])]
    names = {}
    if mismatched:
        names = dict(
            AdministrativeUnit.objects.filter(
                pk__in={found[i] for i in mismatched} | {items[i][2] for i in mismatched}
            ).values_list("pk", "name")
        )
    for i in inside:
        if found.get(i) is None:
            results[i] = (None, {field: [str(_("The location is outside Hanoi's communes."))]})
        elif items[i][2] not in (None, found[i]):
            message = _("The location is in %(found)s, not in %(given)s.") % {
                "found": names[found[i]],
                "given": names[items[i][2]],
            }
            results[i] = (None, {"commune": [str(message)]})
        else:
            results[i] = (found[i], {})
    return results


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
