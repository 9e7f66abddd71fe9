"""The project's drf-spectacular AutoSchema: two facts about a view its introspection cannot see.

- ``geojson_actions``: the actions whose 200 answer is ``application/geo+json`` (a FeatureCollection
  written by PostgreSQL, core.api.geojson); their errors stay ``application/json``.
- ``object_list = True``: a ViewSet's ``list`` answers one object (a report over the records, such
  as the spam statistics), not an array of them.
"""

from drf_spectacular.contrib.rest_framework_gis import GeoFeatureModelSerializerExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework.utils.model_meta import get_field_info

GEOJSON = "application/geo+json"


class AutoSchema(SpectacularAutoSchema):
    def _is_list_view(self, serializer=None):
        if (
            getattr(self.view, "object_list", False)
            and getattr(self.view, "action", None) == "list"
        ):
            return False
        return super()._is_list_view(serializer)

    def _get_response_for_code(
        self, serializer, status_code, media_types=None, direction="response"
    ):
        action = getattr(self.view, "action", None)
        if (
            media_types is None
            and str(status_code) == "200"
            and action in getattr(self.view, "geojson_actions", ())
        ):
            media_types = [GEOJSON]
        return super()._get_response_for_code(serializer, status_code, media_types, direction)


class NullableGeometryFeatureExtension(GeoFeatureModelSerializerExtension):
    """drf-spectacular's GeoJSON Feature, with ``geometry`` nullable where the model's geometry
    field is (a unit without its boundary, or asked for with ``boundary=false``)."""

    priority = 1  # over drf-spectacular's own extension for the same serializers

    def map_geo_feature_model_serializer(self, serializer, base_schema):
        schema = super().map_geo_feature_model_serializer(serializer, base_schema)
        geo_field = serializer.Meta.geo_field
        model_field = geo_field and get_field_info(serializer.Meta.model).fields.get(geo_field)
        geometry = schema["properties"].get("geometry")
        if geometry is not None and getattr(model_field, "null", False):
            geometry["nullable"] = True
        return schema
