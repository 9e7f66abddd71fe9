"""The cables app's synced resource: cable segments (routes), read-only in the feed and downloads."""

from django.utils.translation import gettext_lazy as _

from sync import Resource, register


def _segments(user):
    from cables import selectors

    return selectors.segments(user)


def _state():
    from cables.models import CableSegment

    return CableSegment._base_manager.all()


def _register():
    from cables.models import CableSegment
    from cables.selectors import SEGMENT_PROPERTIES

    register(
        Resource(
            name="cable-segments",
            model=CableSegment,
            label=_("Cable segments"),
            geometry="route",
            properties={**SEGMENT_PROPERTIES, "updated_at": "updated_at"},
            org_field="operator",
            state_queryset=_state,
            selector=_segments,
            public=True,
        )
    )


_register()
