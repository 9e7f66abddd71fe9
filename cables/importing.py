"""Reading segment files: GeoJSON, KML and CSV with WKT, into (row number, {name, method, operator,
bores, route | error}). Parsing only; the rules live in cables.services.import_segments."""

import csv
import io
import json
import xml.etree.ElementTree as ET

from django.contrib.gis.gdal.error import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, LineString
from django.utils.translation import gettext as _

from core.exceptions import ImportRejected
from core.textfiles import clean_cell, detect_encoding, sniff_dialect

KML_NS = "{http://www.opengis.net/kml/2.2}"


def read_segments(uploaded):
    raw = uploaded.read()
    name = (getattr(uploaded, "name", "") or "").lower()
    text = raw.decode(detect_encoding(io.BytesIO(raw)))  # as core.textfiles finds it
    stripped = text.lstrip()
    if name.endswith(".kml") or stripped.startswith("<"):
        return _kml(text)
    if name.endswith((".geojson", ".json")) or stripped.startswith("{"):
        return _geojson(text)
    return _csv(text)


def _geometry(value):
    try:
        geometry = GEOSGeometry(value)
    except (GEOSException, GDALException, ValueError, TypeError) as exc:
        return None, _("The geometry cannot be read: %(error)s") % {"error": exc}
    if geometry.srid is None:
        geometry.srid = 4326
    return geometry, None


def _row(props, geometry_text):
    route, error = (
        _geometry(geometry_text) if geometry_text else (None, _("The row has no geometry."))
    )
    row = {k: clean_cell(props.get(k) or "") for k in ("name", "method", "operator", "bores")}
    row["route"], row["error"] = route, error
    return row


def _geojson(text):
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ImportRejected(
            _("The file is not valid GeoJSON: %(error)s") % {"error": exc}
        ) from exc
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list) or not features:
        raise ImportRejected(_("The file must be a GeoJSON FeatureCollection with features."))
    return [
        (
            i,
            _row(
                (f or {}).get("properties") or {},
                json.dumps(f.get("geometry")) if (f or {}).get("geometry") else "",
            ),
        )
        for i, f in enumerate(features, start=1)
    ]


def _kml(text):
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ImportRejected(_("The KML file cannot be read: %(error)s") % {"error": exc}) from exc
    rows = []
    for i, placemark in enumerate(root.iter(f"{KML_NS}Placemark"), start=1):
        props = {"name": (placemark.findtext(f"{KML_NS}name") or "").strip()}
        for data in placemark.iter(f"{KML_NS}Data"):
            props[data.get("name", "")] = data.findtext(f"{KML_NS}value") or ""
        coords = placemark.findtext(f".//{KML_NS}LineString/{KML_NS}coordinates")
        if not coords:
            rows.append((i, {**_row(props, ""), "error": _("The placemark has no LineString.")}))
            continue
        try:
            points = [tuple(float(v) for v in c.split(",")[:2]) for c in coords.split()]
            line = LineString(points, srid=4326) if len(points) >= 2 else None
        except (ValueError, GEOSException):
            line = None
        row = _row(props, line.ewkt if line else "")
        if line is None:
            row["error"] = _("A route needs at least two different points.")
        rows.append((i, row))
    if not rows:
        raise ImportRejected(_("The KML file has no placemarks."))
    return rows


def _csv(text):
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=sniff_dialect(text[:4096]))
    try:
        if "wkt" not in [h.strip().lower() for h in (reader.fieldnames or [])]:
            raise ImportRejected(_("Missing columns: %(cols)s") % {"cols": "wkt"})
        rows = []
        for number, values in enumerate(reader, start=2):
            values = {k.strip().lower(): v for k, v in values.items() if k}
            rows.append((number, _row(values, (values.get("wkt") or "").strip())))
    except csv.Error as exc:
        raise ImportRejected(
            _("The file cannot be read as CSV at line %(line)d: %(error)s")
            % {"line": reader.line_num, "error": exc}
        ) from exc
    return rows
