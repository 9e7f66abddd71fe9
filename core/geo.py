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
