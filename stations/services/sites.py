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


# --- The catalogue's import (core.rowimport: each row through save_public_site) ------------------

SITE_KIND = "stations.sites"


def _site_fields():
    from django.utils.translation import gettext_lazy

    from core.importmap import Field

    return (
        Field("external_id", gettext_lazy("external id"), False, ("mã địa điểm", "site id", "id")),
        Field("name", gettext_lazy("name"), True, ("tên địa điểm", "tên", "site name")),
        Field("owner", gettext_lazy("owner"), True, ("đơn vị quản lý", "chủ sở hữu", "cơ quan")),
        Field("address", gettext_lazy("address"), False, ("địa chỉ",)),
        Field("commune", gettext_lazy("commune"), False, ("mã xã", "mã phường", "unit code")),
        Field("lon", gettext_lazy("longitude"), True, ("kinh độ", "long", "lng", "x")),
        Field("lat", gettext_lazy("latitude"), True, ("vĩ độ", "y")),
        Field("land_category", gettext_lazy("land category"), True, ("loại đất", "loại vị trí")),
        Field("building_height_m", gettext_lazy("building height (m)"), False, ("chiều cao nhà",)),
        Field("capacity", gettext_lazy("capacity"), False, ("số trạm tối đa", "sức chứa")),
        Field("conditions", gettext_lazy("conditions"), False, ("điều kiện",)),
        Field("status", gettext_lazy("status"), False, ("trạng thái",)),
    )


SITE_FIELDS = _site_fields()


def site_lookups(user=None):
    from core.importmap import Choices
    from core.rowimport import reference_lookups
    from stations.models import LandCategory

    return {
        **reference_lookups(),
        "land_category": Choices(LandCategory.choices),
        "status": Choices(PublicSite.Status.choices),
    }


def site_data(values, lookups):
    """(the site a row updates, or None; the service's fields) from one row of the file."""

    from core.rowimport import commune, decimal, organization, point

    errors, data = {}, {}
    owner = data["owner"] = organization(lookups, values.get("owner"), errors)
    if owner is None and "owner" not in errors:
        errors["owner"] = [_("This field is required.")]
    data["commune"] = commune(lookups, values.get("commune", ""), errors)
    try:
        data["location"] = point(values)
    except ValueError:
        errors["lon"] = [_("Give the longitude and latitude as numbers (105.85, 21.03).")]
    try:
        data["building_height_m"] = decimal(values.get("building_height_m", ""))
    except ValueError:
        errors["building_height_m"] = [_("Give a number of metres (24 or 24.5).")]
    capacity = values.get("capacity", "")
    try:
        data["capacity"] = int(capacity) if capacity else 1
    except ValueError:
        errors["capacity"] = [_("Give a whole number.")]
    data["land_category"] = lookups["land_category"].find(values.get("land_category"))
    data["status"] = lookups["status"].find(values.get("status")) or PublicSite.Status.AVAILABLE
    for name in ("name", "address", "conditions"):
        data[name] = values.get(name, "")
    if errors:
        raise InvalidInput(errors)
    site = None
    external_id = values.get("external_id", "")
    if external_id:
        source = owner.code
        data.update(source=source, external_id=external_id)
        site = PublicSite.objects.filter(source=source, external_id=external_id).first()
    return site, data


def start_site_import(user, uploaded, enqueue=True, **options):
    from core import imports

    if not is_city_official(user):
        raise PermissionDenied()
    options = {k: v for k, v in options.items() if v not in (None, "")}
    options.setdefault("mode", "atomic")
    return imports.start(user, SITE_KIND, uploaded, options, enqueue=enqueue)
