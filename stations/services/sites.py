"""The public-site catalogue: the city's sites offered for stations, and their occupancy."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.exceptions import Conflict, InvalidInput, PermissionDenied
from core.geo import check_location
from core.history import acting_as
from core.permissions import is_city_official
from stations.models import (
    PublicSite,
)
from stations.services.register import _apply
from sync.services import check_source_key

# --- Public sites ----------------------------------------------------------------------------------

PUBLIC_SITE_FIELDS = (
    "name",
    "owner",
    "address",
    "commune",
    "land_category",
    "location",
    "area",
    "building_height_m",
    "capacity",
    "conditions",
    "status",
    "source",
    "external_id",
)


@transaction.atomic
def save_public_site(user, site=None, **data):
    if not is_city_official(user):
        raise PermissionDenied()
    site = site or PublicSite()
    _apply(site, data, PUBLIC_SITE_FIELDS)
    check_source_key(user, site)
    site.commune = check_location(site.location, site.commune if site.commune_id else None)
    from django.core.exceptions import ValidationError

    try:
        site.full_clean(exclude=["commune", "owner"])
    except ValidationError as exc:
        raise InvalidInput(exc.message_dict) from exc
    try:
        with transaction.atomic(), acting_as(user):
            site.save()
    except IntegrityError as exc:  # a concurrent writer took the same source and external id
        if "publicsite_source_external_id_uniq" in str(exc):
            raise InvalidInput(
                {"external_id": [_("A public site with this source and external id exists.")]}
            ) from exc
        raise
    return site


@transaction.atomic
def delete_public_site(user, site):
    """Withdraw a site from the catalogue (city officials); not one that applications name."""
    from django.db.models import ProtectedError

    if not is_city_official(user):
        raise PermissionDenied()
    try:
        with transaction.atomic(), acting_as(user, action="stations.delete_site"):
            site.delete()
    except ProtectedError as exc:
        raise Conflict(_("Permit applications refer to this site; it cannot be deleted.")) from exc


def refresh_site_occupancy(site):
    """A site is occupied once its approved stations reach its capacity."""
    taken = site.applications.taking_sites().count()
    status = PublicSite.Status.OCCUPIED if taken >= site.capacity else site.status
    if status == PublicSite.Status.OCCUPIED and site.status != status:
        site.status = status
        site.save(update_fields=["status", "updated_at"])
