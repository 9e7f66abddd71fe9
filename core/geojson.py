"""GeoJSON built by PostgreSQL: for maps and big lists the database writes the JSON (~4x faster
than a DRF serializer, see ../shared/ARCHITECTURE.md). Any app passes its filtered queryset.

A property is a model field name, a path through foreign keys (``"operator__code"``: the join is
made by the ORM), an annotation of the queryset (``"taken"``), or any ORM expression, e.g.
``Geometry("area")`` for a second geometry given as GeoJSON inside the properties.
"""

import json
import re

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import F, Func, TextField

EMPTY = '{"type":"FeatureCollection","features":[]}'
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _key(name):
    """A JSON key written into the SQL as a literal: only plain identifiers are accepted."""
    if not _KEY.match(name):
        raise ValueError(f"Not a plain GeoJSON key: {name!r}")
    return f"'{name}'"


def _expression(value):
    return F(value) if isinstance(value, str) else value


class _JSONFunc(Func):
    """A json-valued function: grouped by the columns inside it (json has no equality operator, so
    it cannot itself stand in a GROUP BY, which an aggregate annotation such as a count brings)."""

    output_field = TextField()

    def get_group_by_cols(self):
        cols = []
        for source in self.get_source_expressions():
            cols.extend(source.get_group_by_cols())
        return cols


class Geometry(_JSONFunc):
    """A geometry as a GeoJSON object (``ST_AsGeoJSON(...)::json``, ``null`` for NULL)."""

    def __init__(self, field, precision=6):
        self.precision = int(precision)
        super().__init__(_expression(field))

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"ST_AsGeoJSON({sql}, {self.precision})::json", params


class JSONObject(_JSONFunc):
    """``json_build_object`` with literal keys, in the order given (json, not jsonb: no key sorting)."""

    def __init__(self, **members):
        self.keys = list(members)
        for name in self.keys:
            _key(name)
        super().__init__(*(_expression(value) for value in members.values()))

    def as_sql(self, compiler, connection, **extra_context):
        parts, params = [], []
        for name, expression in zip(self.keys, self.get_source_expressions(), strict=True):
            sql, expression_params = compiler.compile(expression)
            parts.append(f"{_key(name)}, {sql}")
            params.extend(expression_params)
        return f"json_build_object({', '.join(parts)})", params


def feature_expression(*, geometry, properties, id_field="id", precision=6):
    """One row's GeoJSON Feature as an ORM expression (a ``json`` value)."""
    return JSONObject(
        type=_Literal("Feature"),
        id=_expression(id_field),
        geometry=Geometry(geometry, precision) if geometry else _Literal(None),
        properties=JSONObject(**properties),
    )


class _Literal(_JSONFunc):
    """A constant JSON value written into the SQL (a plain string or null)."""

    def __init__(self, value):
        if value is not None and not _KEY.match(value):
            raise ValueError(f"Not a plain literal: {value!r}")
        self.value = value
        super().__init__()

    def as_sql(self, compiler, connection, **extra_context):
        return ("NULL::json" if self.value is None else f"'{self.value}'::text"), []


def feature_collection(
    queryset, *, geometry, properties, id_field="id", order_by=None, precision=6, members=None
):
    """Serialize ``queryset`` as a FeatureCollection in one query; returns the JSON text.

    ``geometry``: the geometry field to output (None for ``"geometry": null``).
    ``properties``: {output name: field name, ``a__b`` path, annotation name or expression}.
    ``id_field``: the field given as each feature's ``id``; features are ordered by ``order_by``
    (default: ``id_field``).
    ``members``: extra top-level members (JSON-serialisable values), e.g. a page's
    ``{"next": url, "previous": url}``.
    """
    members = members or {}
    member_sql = "".join(f", {_key(name)}, %s::json" for name in members)
    member_params = [json.dumps(value) for value in members.values()]
    feature = feature_expression(
        geometry=geometry, properties=properties, id_field=id_field, precision=precision
    )
    if queryset.query.distinct:
        # DISTINCT (multiple-choice filters add it) cannot compare json values: select the rows by
        # id instead (the queryset's own annotations are then not available as properties).
        queryset = queryset.model._base_manager.filter(pk__in=queryset.order_by().values("pk"))
    try:
        inner_sql, params = (
            queryset.order_by()
            .annotate(geojson_feature=feature, geojson_order=F(order_by or id_field))
            .values("geojson_feature", "geojson_order")
            .query.sql_with_params()
        )
    except EmptyResultSet:  # e.g. queryset.none()
        if not members:
            return EMPTY
        return json.dumps({"type": "FeatureCollection", "features": [], **members})
    sql = f"""
        SELECT json_build_object(
            'type', 'FeatureCollection',
            'features', COALESCE(json_agg(s.geojson_feature ORDER BY s.geojson_order), '[]'::json)
            {member_sql}
        )::text
        FROM ({inner_sql}) s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*member_params, *params])
        return cursor.fetchone()[0]
