"""HTML pages of the stations app, by topic: the station register and its map (register), the
public-site catalogue (sites) and permit applications with the workflow's action view (permits);
what they share (map limits, colours, the non-bulky hint) is in common.

Views parse the request, call a selector or a service and render. Every write goes through
``stations.services``; a service's domain error becomes a form error or a message, never a 500.
``stations.urls`` and the tests use this package (``from stations import views``; ``views.X``);
a test that replaces a module constant patches the module that looks it up
(``stations.views.register.MAP_POINT_LIMIT``).
"""

from core.web import CappedPaginator
from stations.views.common import (
    MAP_POINT_LIMIT,
    OPERATOR_COLOURS,
    OTHER_COLOUR,
    UUID_PLACEHOLDER,
    S,
    history_rows,
    may_apply,
    non_bulky_hint,
    point_json,
)
from stations.views.permits import (
    ACTION_DONE,
    RUNNING,
    ApplicationCreateView,
    ApplicationListView,
    ApplicationUpdateView,
    application_action,
    application_detail,
    application_document,
    application_message,
    application_share,
    application_upload,
    default_application_type,
    render_application,
)
from stations.views.register import (
    HIDDEN_FILTERS,
    STATION_COLUMNS,
    STATION_EXPORT,
    StationCreateView,
    StationDetailView,
    StationImportView,
    StationListView,
    StationMapView,
    StationUpdateView,
    import_template,
    legend_operators,
    may_create_station,
    non_bulky_hint_view,
    operators_for,
    station_geojson,
)
from stations.views.sites import (
    SITE_COLOURS,
    SiteCreateView,
    SiteDetailView,
    SiteListView,
    SiteUpdateView,
    site_geojson,
)

__all__ = [
    "ACTION_DONE",
    "ApplicationCreateView",
    "ApplicationListView",
    "ApplicationUpdateView",
    "CappedPaginator",
    "HIDDEN_FILTERS",
    "MAP_POINT_LIMIT",
    "OPERATOR_COLOURS",
    "OTHER_COLOUR",
    "RUNNING",
    "S",
    "SITE_COLOURS",
    "STATION_COLUMNS",
    "STATION_EXPORT",
    "SiteCreateView",
    "SiteDetailView",
    "SiteListView",
    "SiteUpdateView",
    "StationCreateView",
    "StationDetailView",
    "StationImportView",
    "StationListView",
    "StationMapView",
    "StationUpdateView",
    "UUID_PLACEHOLDER",
    "application_action",
    "application_detail",
    "application_document",
    "application_message",
    "application_share",
    "application_upload",
    "default_application_type",
    "history_rows",
    "import_template",
    "legend_operators",
    "may_apply",
    "may_create_station",
    "non_bulky_hint",
    "non_bulky_hint_view",
    "operators_for",
    "point_json",
    "render_application",
    "site_geojson",
    "station_geojson",
]
