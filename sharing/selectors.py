"""Read-side queries of the sharing app."""

from dataclasses import asdict, dataclass

from django.db import connection

from core.geojson import feature_collection
from core.scoping import scope_queryset
from sharing.models import AssetKind, InfrastructureAsset, SharingRequest, Tenancy

UNIT_DEFERRED = ("commune__boundary", "commune__map_boundary")


def assets(user):
    """The register is visible to every portal role: operators need it to ask for sharing."""
    if not user or not user.is_authenticated or not user.role_names:
        return InfrastructureAsset.objects.none()
    return InfrastructureAsset.objects.select_related("owner", "commune").defer(*UNIT_DEFERRED)


def tenancies(user):
    qs = Tenancy.objects.select_related("asset", "asset__owner", "operator")
    return scope_queryset(qs, user)


def requests(user):
    qs = SharingRequest.objects.select_related("requester", "owner", "asset", "asset__owner")
    return scope_queryset(qs, user)


def request_detail(user, pk):
    return requests(user).prefetch_related("timeline__actor", "documents", "tenancies").get(pk=pk)


@dataclass
class FreeAsset:
    id: int
    public_id: str
    code: str
    name: str
    kind: str
    owner: str
    owner_name: str
    free_capacity: int
    capacity: int
    distance_m: float
    lon: float
    lat: float

    def as_dict(self):
        return asdict(self)


FREE_NEAR_SQL = """
    SELECT a.id, a.public_id::text, a.code, a.name, a.kind, o.code, o.short_name, a.free_capacity,
           a.capacity,
           ST_Distance(a.geometry::geography(Geometry,4326), ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography),
           ST_X(ST_PointOnSurface(a.geometry)), ST_Y(ST_PointOnSurface(a.geometry))
    FROM sharing_infrastructureasset a JOIN core_organization o ON o.id = a.owner_id
    WHERE ST_DWithin(a.geometry::geography(Geometry,4326), ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, %(radius)s)
      AND a.kind = ANY(%(kinds)s) AND a.status = 'active' AND a.shareable AND a.free_capacity > 0
      AND a.owner_id <> %(exclude)s
    ORDER BY 10, a.id
    LIMIT %(limit)s
"""


def free_assets_near(
    point, radius_m, kinds=(AssetKind.TOWER, AssetKind.POLE), exclude_owner=None, limit=50
):
    """Shareable assets with free capacity within ``radius_m`` metres, nearest first (one indexed
    query on the geography cast; "free towers within 500 m" over 100,000 assets)."""
    params = {
        "lon": point.x,
        "lat": point.y,
        "radius": radius_m,
        "kinds": [str(k) for k in kinds],
        "exclude": exclude_owner or 0,
        "limit": limit,
    }
    with connection.cursor() as cursor:
        cursor.execute(FREE_NEAR_SQL, params)
        return [FreeAsset(*row) for row in cursor.fetchall()]


ASSET_PROPERTIES = {
    "id": "public_id",
    "code": "code",
    "name": "name",
    "kind": "kind",
    "owner": "owner__code",
    "commune": "commune__code",
    "capacity": "capacity",
    "used_capacity": "used_capacity",
    "free_capacity": "free_capacity",
    "status": "status",
    "condition": "condition",
    "shareable": "shareable",
    "length_m": "length_m",
    "updated_at": "updated_at",
}


def assets_geojson(queryset):
    return feature_collection(
        queryset, geometry="geometry", properties=ASSET_PROPERTIES, id_field="id"
    )


SHARED_RATIO_SQL = """
    WITH users AS (   -- distinct operators on each active tower
        SELECT t.asset_id, t.operator_id FROM sharing_tenancy t
        JOIN sharing_infrastructureasset a ON a.id = t.asset_id
        WHERE t.status = 'active' AND a.kind = 'tower' AND a.status = 'active'
        GROUP BY t.asset_id, t.operator_id
    ), towers AS (
        SELECT asset_id, count(*) AS operators FROM users GROUP BY asset_id
    )
    SELECT {key}, count(*) AS sites, count(*) FILTER (WHERE towers.operators >= 2) AS shared
    FROM users JOIN towers USING (asset_id)
    {join}
    GROUP BY {key} ORDER BY {key}
"""


def shared_site_ratio(by="operator"):
    """Share of tower sites used by two or more operators, computed from tenancies.

    ``by="operator"``: for each operator, of the towers it uses, how many it shares.
    ``by="commune"``: for each commune, of the towers in use there, how many are shared.
    Returns [{"key": operator or commune code, "sites": n, "shared": n, "ratio": 0..1}].
    """
    if by == "operator":
        sql = SHARED_RATIO_SQL.format(
            key="o.code", join="JOIN core_organization o ON o.id = users.operator_id"
        )
    elif by == "commune":
        sql = """
            WITH users AS (
                SELECT t.asset_id, t.operator_id FROM sharing_tenancy t
                JOIN sharing_infrastructureasset a ON a.id = t.asset_id
                WHERE t.status = 'active' AND a.kind = 'tower' AND a.status = 'active'
                GROUP BY t.asset_id, t.operator_id
            ), towers AS (
                SELECT asset_id, count(*) AS operators FROM users GROUP BY asset_id
            )
            SELECT u.code, count(*) AS sites, count(*) FILTER (WHERE towers.operators >= 2) AS shared
            FROM towers JOIN sharing_infrastructureasset a ON a.id = towers.asset_id
            JOIN core_administrativeunit u ON u.id = a.commune_id
            GROUP BY u.code ORDER BY u.code
        """
    else:
        raise ValueError(by)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [
            {
                "key": key,
                "sites": sites,
                "shared": shared,
                "ratio": shared / sites if sites else 0.0,
            }
            for key, sites, shared in cursor.fetchall()
        ]


def asset_tenancies(asset):
    """Who uses an asset: shown to every portal role with the register (the point of sharing is
    that operators see who else is on a tower)."""
    return (
        Tenancy.objects.filter(asset=asset).select_related("operator").order_by("status", "-since")
    )
