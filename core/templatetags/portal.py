"""Template tags of the portal's own pages."""

from django import template
from django.utils import formats
from django.utils.html import json_script
from django.utils.translation import gettext as _

register = template.Library()


def _draw_strings():
    """Leaflet.draw's texts (L.drawLocal), in the page's language, and its number format."""
    cancel = {"title": _("Cancel drawing"), "text": _("Cancel")}
    return {
        "format": {
            "numeric": {
                "delimiters": {
                    "thousands": formats.get_format("THOUSAND_SEPARATOR"),
                    "decimal": formats.get_format("DECIMAL_SEPARATOR"),
                }
            }
        },
        "draw": {
            "toolbar": {
                "actions": cancel,
                "finish": {"title": _("Finish drawing"), "text": _("Finish")},
                "undo": {"title": _("Delete the last point drawn"), "text": _("Delete last point")},
                "buttons": {
                    "polyline": _("Draw a line"),
                    "polygon": _("Draw an area"),
                    "rectangle": _("Draw a rectangle"),
                    "circle": _("Draw a circle"),
                    "marker": _("Place a point"),
                    "circlemarker": _("Place a point"),
                },
            },
            "handlers": {
                "circle": {
                    "tooltip": {"start": _("Click and drag to draw a circle.")},
                    "radius": _("Radius"),
                },
                "circlemarker": {"tooltip": {"start": _("Click the map to place the point.")}},
                "marker": {"tooltip": {"start": _("Click the map to place the point.")}},
                "polygon": {
                    "tooltip": {
                        "start": _("Click to start drawing the area."),
                        "cont": _("Click to continue drawing the area."),
                        "end": _("Click the first point to close the area."),
                    }
                },
                "polyline": {
                    "error": _("Error: the line cannot cross itself!"),
                    "tooltip": {
                        "start": _("Click to start drawing the line."),
                        "cont": _("Click to continue drawing the line."),
                        "end": _("Click the last point to finish the line."),
                    },
                },
                "rectangle": {"tooltip": {"start": _("Click and drag to draw a rectangle.")}},
                "simpleshape": {"tooltip": {"end": _("Release the mouse to finish drawing.")}},
            },
        },
        "edit": {
            "toolbar": {
                "actions": {
                    "save": {"title": _("Save the changes"), "text": _("Save")},
                    "cancel": {
                        "title": _("Cancel editing, discarding the changes"),
                        "text": _("Cancel"),
                    },
                    "clearAll": {"title": _("Remove everything drawn"), "text": _("Remove all")},
                },
                "buttons": {
                    "edit": _("Edit what is drawn"),
                    "editDisabled": _("Nothing to edit"),
                    "remove": _("Delete what is drawn"),
                    "removeDisabled": _("Nothing to delete"),
                },
            },
            "handlers": {
                "edit": {
                    "tooltip": {
                        "text": _("Drag the handles or the points to edit."),
                        "subtext": _("Click Cancel to undo the changes."),
                    }
                },
                "remove": {"tooltip": {"text": _("Click what you want to delete.")}},
            },
        },
    }


@register.simple_tag
def map_strings():
    """The maps' texts in the page's language, as one JSON script of the page (read by
    static/js/leaflet_boot.js before a map starts): the zoom and reset-view buttons' titles and
    Leaflet.draw's tools, tooltips and number format."""
    return json_script(
        {
            "zoomIn": _("Zoom in"),
            "zoomOut": _("Zoom out"),
            "resetView": _("Back to the first view"),
            "drawLocal": _draw_strings(),
        },
        "map-strings",
    )
