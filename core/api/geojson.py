"""GeoJSON lists for any app's API: a keyset page written by PostgreSQL as a FeatureCollection.

The paginator picks the page's ids (one query on the filtered queryset, no COUNT, no OFFSET), then
core.geojson writes the FeatureCollection of those rows in one more query: a page costs the same few
queries whatever its size, and no serializer runs per row.
"""

import copy

from django.http import HttpResponse
from drf_spectacular.drainage import set_override
from drf_spectacular.types import OpenApiTypes

from core.api.pagination import KeysetPagination
from core.geojson import feature_collection

GEOJSON = "application/geo+json"
UUID_PATTERN = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


def api_filterset(filterset_class):
    """The API list's FilterSet: the page's own, less ``ordering`` (a cursor fixes the order).

    A filter on a related record's code (``field_name="owner__code"``, ``to_field_name="code"``) is
    documented as a string: drf-spectacular cannot follow that path to the model field by itself.
    """
    api_class = type(f"{filterset_class.__name__}API", (filterset_class,), {"ordering": None})
    filters = {}
    for name, field in api_class.base_filters.items():
        to_field = field.extra.get("to_field_name")
        if to_field and (field.field_name or "").endswith(f"__{to_field}"):
            field = copy.copy(field)
            set_override(field, "field", OpenApiTypes.STR)
        filters[name] = field
    api_class.base_filters = filters
    return api_class


class GeoJSONKeysetPagination(KeysetPagination):
    """Keyset pages as a GeoJSON FeatureCollection with ``next`` and ``previous`` links."""

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "allOf": [
                schema,
                {
                    "type": "object",
                    "required": ["next", "previous"],
                    "properties": {"next": link, "previous": link},
                },
            ]
        }


class GeoJSONListMixin:
    """``list`` as a FeatureCollection page written by PostgreSQL: one query for the page's ids
    (keyset), one for the JSON; no serializer runs per row.

    The viewset sets ``geojson_geometry`` (the geometry field) and ``geojson_properties`` ({output
    name: field, path or expression}, the same properties its detail serializer gives).
    """

    pagination_class = GeoJSONKeysetPagination
    geojson_actions = ("list",)  # documented as application/geo+json (core.api.schema)
    geojson_geometry = "location"
    geojson_properties: dict = {}

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        pk = queryset.model._meta.pk.attname
        # Only the ids (and the cursor's ordering columns) of the page are read here.
        ordering = self.paginator.get_ordering(request, queryset, self)
        columns = dict.fromkeys([pk, *(field.lstrip("-") for field in ordering)])
        rows = self.paginator.paginate_queryset(queryset.values(*columns), request, view=self)
        ids = [row[pk] for row in rows]
        text = feature_collection(
            self.get_queryset().filter(pk__in=ids),
            geometry=self.geojson_geometry,
            properties=self.geojson_properties,
            id_field="public_id",
            order_by=pk,
            members={
                "next": self.paginator.get_next_link(),
                "previous": self.paginator.get_previous_link(),
            },
        )
        return HttpResponse(text, content_type=GEOJSON)
