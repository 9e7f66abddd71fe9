"""The stations app's synced resources: the station register and the public-site catalogue."""

from django.utils.translation import gettext_lazy as _

from sync import Resource, register


def _stations(user):
    from stations import selectors

    return selectors.stations(user)


def _sites(user):
    from stations import selectors

    return selectors.public_sites(user)


def _station_state():
    from stations.models import Station

    return Station._base_manager.all()


def _site_state():
    from stations.models import PublicSite, PublicSiteQuerySet

    # Every row, as the base manager reads them, with the places taken.
    return PublicSiteQuerySet(PublicSite).with_taken()


def _save_station(user, station, data):
    from stations import services

    if station is None:
        return services.create_station(user, **data)
    return services.update_station(user, station, **data)


def _delete_station(user, station):
    from stations import services

    services.delete_station(user, station)


def _save_site(user, site, data):
    from stations import services

    return services.save_public_site(user, site, **data)


def _delete_site(user, site):
    from stations import services

    services.delete_public_site(user, site)


def _bulk_stations(user, records, atomic):
    from stations import services

    return services.bulk_upsert_stations(user, records, atomic=atomic)


def _properties(name):
    from stations.api import serializers

    return getattr(serializers, name)


def _register():
    from stations.models import PublicSite, Station

    register(
        Resource(
            name="stations",
            model=Station,
            label=_("Stations"),
            geometry="location",
            properties=_properties("STATION_PROPERTIES"),
            org_field="operator",
            state_queryset=_station_state,
            selector=_stations,
            serializer="stations.api.serializers.StationSerializer",
            save=_save_station,
            delete=_delete_station,
            bulk=_bulk_stations,
            public=True,
        )
    )
    register(
        Resource(
            name="public-sites",
            model=PublicSite,
            label=_("Public sites"),
            geometry="location",
            properties=_properties("SITE_PROPERTIES"),
            org_field="owner",
            open_to_all=True,
            state_queryset=_site_state,
            selector=_sites,
            serializer="stations.api.serializers.PublicSiteSerializer",
            save=_save_site,
            delete=_delete_site,
            public=True,
        )
    )


_register()
