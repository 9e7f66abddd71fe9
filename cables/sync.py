"""The cables app's synced resource: cable segments (routes), read-only in the feed and downloads."""

from django.utils.translation import gettext_lazy as _

from sync import Resource, register


def _segments(user):
    from cables import selectors

    return selectors.segments(user)


def _state():
    from cables.models import CableSegment

    return CableSegment._base_manager.all()


def _feed_scope(resource):
    """The segments of the projects the reader's organisation takes part in or leads, as the API
    scopes them (CableSegment.scope_field)."""
    from cables.models import CableProject

    project = CableProject._meta.db_table
    participants = CableProject.participants.through._meta.db_table
    return (
        f"object_id IN (SELECT s.id FROM {resource.table} s JOIN {project} p ON p.id = s.project_id "
        f"WHERE p.lead_agency_id = %(org)s OR EXISTS (SELECT 1 FROM {participants} pp "
        "WHERE pp.cableproject_id = p.id AND pp.organization_id = %(org)s))"
    )


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
            feed_scope=_feed_scope,
            state_queryset=_state,
            selector=_segments,
            public=True,
        )
    )


_register()
