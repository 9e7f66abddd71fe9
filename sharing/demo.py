"""Demo data of the sharing app: Hanoi's passive infrastructure and who shares it.

- ~1,500 towers and masts of the operators (Viettel, VNPT and MobiFone own most), ~300 poles (the
  power company's EVN_HANOI and the city's lighting poles, owned by UBND_HN, plus a few operator
  poles), ~80 duct routes ("tuyến cống bể cáp", 200-1,500 m along the street grid, inside Hanoi),
  ~120 manholes at the ends of the duct routes, ~40 street cabinets and ~20 equipment rooms. Points lie
  inside the real commune boundaries when they are loaded (PostgreSQL's ST_GeneratePoints, seeded),
  otherwise anywhere in Hanoi's bounding box; a duct route's commune is the one holding its midpoint,
  as sharing.services.save_asset decides it.
- Tenancies: owners use their own towers (one or two antenna slots), another operator shares about a
  quarter of the towers (a few have three operators), operators lease bores in ducts, attachment
  positions on EVN and lighting poles, rack space in cabinets and rooms; some old tenancies have
  ended. Each asset's used_capacity is the sum of its active tenancies' units.
- Viettel's tower "T-0231" in Phường Cầu Giấy: four antenna slots, two used by Viettel itself, two
  free (journey 3: MobiFone asks to share it). No demo request touches it.
- Sharing requests in every status, made through sharing.services as the demo users (core.demo:
  lan/Viettel, tuan/VNPT, huy/MobiFone, minh the city official) on past days: some unanswered past
  their deadline (overdue), refusals and overdue requests escalated, disputes decided. The timeline's
  event times are then put on the days the steps were taken.

The register is bulk-created (search_text computed as InfrastructureAsset.save does); the requests go
through the services. Idempotent: each part is skipped when its marker exists. A fixed seed makes every
load the same. sharing runs before stations (INSTALLED_APPS order) and imports nothing from it.
"""

import math
import random
from datetime import datetime, time, timedelta

from django.contrib.gis.geos import LineString, Point
from django.db import connection, transaction
from django.utils import timezone

from core.models import AdministrativeUnit, Organization, User
from core.selectors import boundaries_loaded
from core.text import fold
from core.workdays import add_working_days
from sharing import services
from sharing.models import (
    AssetKind,
    InfrastructureAsset,
    SharingEvent,
    SharingRequest,
    Tenancy,
)

SEED = 4231
DEMO_USERNAMES = ["lan", "tuan", "huy", "minh"]
STAFF = {"VIETTEL": "lan", "VNPT": "tuan", "MOBIFONE": "huy"}
HANOI_BBOX = (105.29, 20.57, 106.02, 21.38)  # fallback when no boundary is loaded
JOURNEY_TOWER = ("VIETTEL", "T-0231")
JOURNEY_WARD = "00166"  # Phường Cầu Giấy

A = InfrastructureAsset
K = AssetKind

# --- How each owner writes its codes (kind letter: T tower, C pole, D duct, HG manhole, TU cabinet,
# PM equipment room) and how many assets of each kind it owns ----------------------------------------
LETTERS = {K.TOWER: "T", K.POLE: "C", K.DUCT: "D", K.MANHOLE: "HG", K.CABINET: "TU"}
LETTERS[K.EQUIPMENT_ROOM] = "PM"
CODE_STYLE = {
    "VIETTEL": "{k}-{n:04d}",
    "VNPT": "VNPT-HN-{k}{n:04d}",
    "MOBIFONE": "MF-{k}-{n:04d}",
    "VIETNAMOBILE": "VNM-{k}{n:03d}",
    "GTEL": "GT-HN-{k}{n:03d}",
    "FPT": "FPT-HN-{k}-{n:03d}",
    "CMC": "CMC-{k}-{n:03d}",
    "EVN_HANOI": "EVNHN-{k}{n:05d}",
    "UBND_HN": "CSHN-{k}{n:05d}",
}
OWNED = {
    K.TOWER: {"VIETTEL": 560, "VNPT": 400, "MOBIFONE": 340, "VIETNAMOBILE": 100, "GTEL": 30,
              "FPT": 35, "CMC": 35},
    K.POLE: {"EVN_HANOI": 140, "UBND_HN": 110, "VNPT": 30, "VIETTEL": 20},
    K.DUCT: {"VNPT": 28, "VIETTEL": 26, "FPT": 8, "CMC": 6, "MOBIFONE": 6, "UBND_HN": 6},
    K.CABINET: {"VIETTEL": 14, "VNPT": 14, "FPT": 6, "CMC": 6},
    K.EQUIPMENT_ROOM: {"VIETTEL": 7, "VNPT": 6, "MOBIFONE": 5, "FPT": 2},
}  # fmt: skip
N_MANHOLES = 120
# Capacity (units as sharing.models.CAPACITY_UNITS) with cumulative probabilities.
CAPACITY = {
    K.TOWER: [(2, 0.10), (3, 0.35), (4, 0.70), (5, 0.85), (6, 1.0)],
    K.POLE: [(2, 0.35), (3, 0.70), (4, 1.0)],
    K.DUCT: [(2, 0.10), (4, 0.45), (6, 0.75), (9, 0.90), (12, 1.0)],
    K.MANHOLE: [(6, 0.3), (8, 0.6), (12, 0.85), (24, 1.0)],
    K.CABINET: [(12, 0.4), (22, 0.8), (42, 1.0)],
    K.EQUIPMENT_ROOM: [(6, 0.3), (10, 0.7), (20, 1.0)],
}
STATUS = [("active", 0.92), ("planned", 0.95), ("out_of_service", 0.98), ("decommissioned", 1.0)]
CONDITION = [("good", 0.65), ("fair", 0.92), ("poor", 1.0)]
# Who leases from whom: tenants are drawn from these operators, by weight.
TENANTS = [("VIETTEL", 0.30), ("VNPT", 0.56), ("MOBIFONE", 0.80), ("VIETNAMOBILE", 0.88),
           ("FPT", 0.93), ("CMC", 0.97), ("GTEL", 1.0)]  # fmt: skip
SHARED_TOWERS = 0.27  # of the towers in use, how many a second operator shares

WARD_STREETS = {
    "00004": ["Điện Biên Phủ", "Hoàng Diệu", "Phan Đình Phùng", "Quán Thánh"],
    "00008": ["Đội Cấn", "Ngọc Hà", "Hoàng Hoa Thám", "Liễu Giai", "Văn Cao"],
    "00025": ["Giảng Võ", "Kim Mã", "Ngọc Khánh", "Nguyễn Chí Thanh"],
    "00070": ["Hàng Bài", "Tràng Tiền", "Đinh Tiên Hoàng", "Lý Thái Tổ"],
    "00082": ["Quán Sứ", "Trần Hưng Đạo", "Hai Bà Trưng", "Lý Thường Kiệt"],
    "00103": ["Lạc Long Quân", "Âu Cơ", "Xuân Diệu", "Quảng An"],
    "00160": ["Hoàng Quốc Việt", "Nghĩa Đô", "Nguyễn Văn Huyên", "Hoàng Sâm"],
    "00166": ["Cầu Giấy", "Xuân Thủy", "Trần Thái Tông", "Duy Tân", "Trần Quốc Hoàn"],
    "00175": ["Trần Duy Hưng", "Nguyễn Chánh", "Trung Kính", "Mạc Thái Tổ"],
    "00199": ["Láng", "Chùa Láng", "Pháo Đài Láng", "Nguyễn Chí Thanh"],
    "00235": ["Tây Sơn", "Thái Hà", "Chùa Bộc", "Thái Thịnh"],
    "00256": ["Phố Huế", "Bà Triệu", "Lê Đại Hành", "Nguyễn Du"],
    "00367": ["Nguyễn Trãi", "Khuất Duy Tiến", "Nguyễn Tuân", "Lê Văn Lương"],
    "00592": ["Hồ Tùng Mậu", "Lê Đức Thọ", "Trần Hữu Dực", "Hàm Nghi"],
    "00611": ["Phạm Văn Đồng", "Xuân Đỉnh", "Tân Xuân", "Xuân La"],
    "09556": ["Quang Trung", "Trần Phú", "Tô Hiệu", "Lê Trọng Tấn"],
}
CITY_STREETS = [
    "Nguyễn Văn Cừ", "Phạm Văn Đồng", "Giải Phóng", "Nguyễn Trãi", "Lê Văn Lương", "Tố Hữu",
    "Nguyễn Xiển", "Tam Trinh", "Lĩnh Nam", "Nguyễn Văn Linh", "Đại lộ Thăng Long", "Lê Quang Đạo",
    "Vành đai 3", "Ngọc Hồi", "Phúc Diễn", "Kim Giang", "Tây Tựu", "Thượng Cát", "Yên Nghĩa",
]  # fmt: skip
VILLAGES = ["Đông", "Đoài", "Thượng", "Trung", "Hạ", "Nam", "Bắc", "Tiền", "Hậu", "Chợ", "Mới"]
ROADS = ["Quốc lộ 32", "Quốc lộ 6", "Quốc lộ 21", "Quốc lộ 3", "Quốc lộ 1A", "Tỉnh lộ 419"]
BUILDINGS = ["tòa nhà Viễn thông", "tòa nhà văn phòng", "trung tâm điều hành", "bưu điện"]

NAME = {
    K.TOWER: "Cột anten",
    K.POLE: "Cột",
    K.DUCT: "Tuyến cống bể cáp",
    K.MANHOLE: "Bể cáp",
    K.CABINET: "Tủ cáp",
    K.EQUIPMENT_ROOM: "Phòng máy",
}
POLE_NAME = {"EVN_HANOI": "Cột điện hạ thế", "UBND_HN": "Cột đèn chiếu sáng"}
OCCUPIES = {
    K.TOWER: ["{n} anten 4G ở độ cao {h} m", "{n} anten 4G/5G ở độ cao {h} m",
              "{n} anten và 1 chảo viba ở độ cao {h} m"],
    K.POLE: ["Cáp quang treo, {n} vị trí", "{n} vị trí: cáp quang và hộp phối quang"],
    K.DUCT: ["Cáp quang 96 sợi trong ống số {b}", "Cáp quang 48 sợi trong {n} ống từ ống số {b}"],
    K.MANHOLE: ["{n} măng xông cáp quang", "Cáp quang đi qua, {n} vị trí"],
    K.CABINET: ["Thiết bị OLT, {n}U", "Thiết bị truyền dẫn, {n}U"],
    K.EQUIPMENT_ROOM: ["{n} vị trí rack thiết bị truyền dẫn", "{n} vị trí rack và nguồn dự phòng"],
}  # fmt: skip


def _pick(rng, table):
    """table: [(value, cumulative probability)]"""
    r = rng.random()
    for value, upto in table:
        if r < upto:
            return value
    return table[-1][0]


def _code(owner_code, kind, number):
    return CODE_STYLE[owner_code].format(k=LETTERS[kind], n=number)


def _at(day, hour, minute=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


# --- Placement -----------------------------------------------------------------------------------


def _weights(units, kind):
    """Where assets of a kind stand: towers and power poles everywhere (more in the wards), lighting
    poles, cabinets, rooms and ducts mostly in the urban wards."""
    urban = {u.pk: u.kind == AdministrativeUnit.Kind.WARD for u in units}
    area = {u.pk: float(u.area_km2 or (5 if urban[u.pk] else 30)) for u in units}
    if kind in (K.TOWER, "EVN_HANOI"):
        return {pk: (25 + 3 * area[pk]) if urban[pk] else (4 + 0.5 * area[pk]) for pk in urban}
    return {pk: (20 + area[pk]) if urban[pk] else 1.0 for pk in urban}


def _allocation(weights, total, rng):
    """``total`` assets over units by weight (largest remainder, ties broken by the seeded rng)."""
    scale = total / sum(weights.values())
    exact = {pk: w * scale for pk, w in weights.items()}
    counts = {pk: int(v) for pk, v in exact.items()}
    order = sorted(exact, key=lambda pk: (exact[pk] - counts[pk], rng.random()), reverse=True)
    for pk in order[: total - sum(counts.values())]:
        counts[pk] += 1
    return counts


def _points(counts, salt, rng):
    """{unit id: [(lon, lat), ...]} inside each unit's real boundary (seeded), or anywhere in Hanoi's
    bounding box when no boundary is loaded."""
    if not boundaries_loaded():
        x1, y1, x2, y2 = HANOI_BBOX
        return {
            pk: [(rng.uniform(x1, x2), rng.uniform(y1, y2)) for _ in range(n)]
            for pk, n in counts.items()
        }
    ids = [pk for pk, n in counts.items() if n]
    sql = """
        SELECT u.id, ST_X(p.geom), ST_Y(p.geom)
        FROM core_administrativeunit u
        JOIN unnest(%s::bigint[], %s::int[], %s::int[]) AS c(id, n, seed) ON c.id = u.id,
        LATERAL ST_Dump(ST_GeneratePoints(u.boundary, c.n, c.seed)) p
        ORDER BY u.id, p.path
    """
    points = {pk: [] for pk in counts}
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids, [counts[pk] for pk in ids], [pk * 13 + salt for pk in ids]])
        for pk, x, y in cursor.fetchall():
            points[pk].append((round(x, 6), round(y, 6)))
    return points


def _units_containing(coords):
    """The unit holding each (lon, lat) (the lowest id where a point lies on a shared border)."""
    sql = """
        SELECT c.i, (SELECT u.id FROM core_administrativeunit u
                     WHERE ST_Intersects(u.boundary, ST_SetSRID(ST_MakePoint(c.x, c.y), 4326))
                     ORDER BY u.id LIMIT 1)
        FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS c(x, y, i) ORDER BY c.i
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [[c[0] for c in coords], [c[1] for c in coords]])
        return [unit_id for _i, unit_id in cursor.fetchall()]


def _place(unit, rng):
    """A name suffix and an address in the unit: a street in a ward, a village or road elsewhere."""
    if unit.kind == AdministrativeUnit.Kind.WARD:
        street = rng.choice(WARD_STREETS.get(unit.code, CITY_STREETS))
        return street, f"Số {rng.randint(1, 300)} {street}, {unit.name}, Hà Nội"
    place = f"Thôn {rng.choice(VILLAGES)}" if rng.random() < 0.7 else rng.choice(ROADS)
    return f"{unit.short_name} - {place}", f"{place}, {unit.name}, Hà Nội"


# --- Duct routes ---------------------------------------------------------------------------------

M_PER_DEG = 111_320.0
# Hanoi's streets run mostly north-south, east-west and along the river (north-west to south-east).
BEARINGS = (0, 90, 35, 125, 60, 150)


def _route(start, rng, length_m):
    """A route of 2-4 legs from ``start`` along one street direction, with small bends."""
    bearing = rng.choice(BEARINGS) + rng.uniform(-6, 6)
    legs = rng.randint(2, 4)
    x, y = start
    coords = [(x, y)]
    for _ in range(legs):
        b = math.radians(bearing + rng.uniform(-10, 10))
        d = length_m / legs
        y2 = y + d * math.cos(b) / M_PER_DEG
        x2 = x + d * math.sin(b) / (M_PER_DEG * math.cos(math.radians(y)))
        x, y = round(x2, 6), round(y2, 6)
        coords.append((x, y))
    return coords


ROUTE_CHECK_SQL = """
    SELECT r.i,
           (SELECT u.id FROM core_administrativeunit u
            WHERE ST_Intersects(u.boundary, ST_LineInterpolatePoint(r.g, 0.5)) ORDER BY u.id LIMIT 1),
           %(check)s AND NOT ST_CoveredBy(r.g, (SELECT ST_Union(u.boundary) FROM core_administrativeunit u
                                             WHERE ST_Intersects(u.boundary, r.g))),
           ST_Length(r.g::geography)
    FROM unnest(%(wkts)s::text[]) WITH ORDINALITY AS w(wkt, i),
         LATERAL (SELECT w.i, ST_GeomFromText(w.wkt, 4326) AS g) r
    ORDER BY r.i
"""


def _routes(starts, rng):
    """[(coords, unit id of the midpoint, length m) or None] for ``starts`` [(unit, (lon, lat))]:
    routes that leave Hanoi are drawn again (another direction, shorter); None if none fits."""
    bounded = boundaries_loaded()
    todo = {i: (unit, start, rng.uniform(200, 1500)) for i, (unit, start) in enumerate(starts)}
    done = {}
    for _attempt in range(8):
        if not todo:
            break
        keys = sorted(todo)
        drawn = {i: _route(todo[i][1], rng, todo[i][2]) for i in keys}
        wkts = [LineString(drawn[i]).wkt for i in keys]
        with connection.cursor() as cursor:
            cursor.execute(ROUTE_CHECK_SQL, {"wkts": wkts, "check": bounded})
            rows = cursor.fetchall()
        for (_n, unit_id, outside, length), i in zip(rows, keys, strict=True):
            unit, start, length_m = todo[i]
            if bounded and (outside or unit_id is None):
                todo[i] = (unit, start, max(200.0, length_m * 0.7))
                continue
            done[i] = (drawn[i], unit_id or unit.pk, length)
            del todo[i]
    return [done.get(i) for i in range(len(starts))]


# --- The register --------------------------------------------------------------------------------


class Register:
    """Assets and their tenancies as they are built, before they are written."""

    def __init__(self, rng, operators, units):
        self.rng = rng
        self.orgs = operators
        self.units = units
        self.assets = []  # InfrastructureAsset (unsaved)
        self.tenancies = []  # (asset index, Tenancy unsaved)
        self.numbers = {}
        self.users = {}  # asset index -> codes of the operators using it
        self.tenants = [(operators[c], p) for c, p in TENANTS]

    def number(self, owner_code, kind):
        key = (owner_code, kind)
        n = self.numbers.get(key, 0) + 1
        if (owner_code, _code(owner_code, kind, n)) == JOURNEY_TOWER:
            n += 1  # kept for the journey's tower, made apart
        self.numbers[key] = n
        return n

    def add(self, owner_code, kind, geometry, unit, *, name, address, number=None, **extra):
        rng = self.rng
        number = number or self.number(owner_code, kind)
        code = _code(owner_code, kind, number)
        status = extra.pop("status", None) or _pick(rng, STATUS)
        asset = A(
            code=code,
            name=name,
            kind=kind,
            owner=self.orgs[owner_code],
            geometry=geometry,
            commune_id=unit.pk,
            address=address,
            capacity=extra.pop("capacity", None) or _pick(rng, CAPACITY[kind]),
            condition=extra.pop("condition", None) or _pick(rng, CONDITION),
            status=status,
            shareable=extra.pop("shareable", rng.random() < 0.9),
            search_text=fold(" ".join([code, name, address])),
            **extra,
        )
        asset.used_capacity = 0
        self.assets.append(asset)
        return len(self.assets) - 1

    def lease(self, index, operator_code, units, *, ended=False):
        """A tenancy of ``units`` on asset ``index`` (active ones count in used_capacity)."""
        rng = self.rng
        asset = self.assets[index]
        if not ended:
            units = min(units, asset.capacity - asset.used_capacity)
            if units < 1:
                return False
            asset.used_capacity += units
        since = timezone.localdate() - timedelta(days=rng.randint(90, 3600))
        template = rng.choice(OCCUPIES[asset.kind])
        occupies = template.format(
            n=units, h=rng.choice([18, 24, 30, 36, 42]), b=rng.randint(1, asset.capacity)
        )
        own = operator_code == _owner_code(asset, self.orgs)
        tenancy = Tenancy(
            operator=self.orgs[operator_code],
            units=units,
            occupies=occupies,
            since=since,
            terms_reference="" if own else f"HĐ-DC-{since.year}/{rng.randint(1, 400):03d}",
            status=Tenancy.Status.ENDED if ended else Tenancy.Status.ACTIVE,
            until=since + timedelta(days=rng.randint(200, 1500)) if ended else None,
        )
        if ended and tenancy.until >= timezone.localdate():
            tenancy.until = timezone.localdate() - timedelta(days=30)
        self.tenancies.append((index, tenancy))
        if not ended:
            self.users.setdefault(index, set()).add(operator_code)
        return True

    def tenant(self, exclude):
        while True:
            operator = _pick(self.rng, self.tenants)
            if operator.code not in exclude:
                return operator.code


def _owner_code(asset, orgs):
    return next(code for code, org in orgs.items() if org.pk == asset.owner_id)


def _tenancies_for(reg, index, owner_code):
    """Own use, then other operators, as fits the asset's kind and status."""
    rng = reg.rng
    asset = reg.assets[index]
    if asset.status in (A.Status.PLANNED, A.Status.DECOMMISSIONED):
        return
    if asset.status == A.Status.OUT_OF_SERVICE:
        if rng.random() < 0.5:
            reg.lease(index, reg.tenant({owner_code}), 1, ended=True)
        return
    operator_owner = reg.orgs[owner_code].kind == Organization.Kind.OPERATOR
    if asset.kind == K.TOWER:
        reg.lease(index, owner_code, 1 if rng.random() < 0.55 else 2)
        if asset.shareable and rng.random() < SHARED_TOWERS:
            reg.lease(index, reg.tenant({owner_code}), 1 if rng.random() < 0.7 else 2)
            if rng.random() < 0.12:
                reg.lease(index, reg.tenant(reg.users[index]), 1)
        if rng.random() < 0.05:
            reg.lease(index, reg.tenant({owner_code}), 1, ended=True)
        return
    capacity = asset.capacity
    if operator_owner:
        reg.lease(index, owner_code, max(1, round(capacity * rng.uniform(0.2, 0.5))))
    share = 0.45 if not operator_owner else 0.35
    if asset.shareable and rng.random() < share:
        taken = {owner_code}
        for _ in range(1 if rng.random() < 0.7 else 2):
            tenant = reg.tenant(taken)
            taken.add(tenant)
            reg.lease(index, tenant, max(1, round(capacity * rng.uniform(0.1, 0.3))))


def load_register(rng):
    units = list(AdministrativeUnit.objects.defer("boundary", "map_boundary").order_by("id"))
    by_pk = {u.pk: u for u in units}
    by_code = {u.code: u for u in units}
    codes = set(CODE_STYLE)
    orgs = {o.code: o for o in Organization.objects.filter(code__in=codes)}
    reg = Register(rng, orgs, units)

    def points_for(kind, owner_code, total, salt):
        weights = _weights(units, "EVN_HANOI" if owner_code == "EVN_HANOI" else kind)
        counts = _allocation(weights, total, rng)
        if (owner_code, kind) == ("VIETTEL", K.TOWER):
            counts[by_code[JOURNEY_WARD].pk] += 1  # one more for T-0231
        return counts, _points(counts, salt, rng)

    # Towers, poles, cabinets and equipment rooms: points in their communes.
    salt, journey_done = 1, False
    for kind in (K.TOWER, K.POLE, K.CABINET, K.EQUIPMENT_ROOM):
        for owner_code, total in OWNED[kind].items():
            salt += 1
            counts, points = points_for(kind, owner_code, total, salt)
            for unit in units:
                for x, y in points[unit.pk]:
                    journey = (owner_code, kind, unit.code) == ("VIETTEL", K.TOWER, JOURNEY_WARD)
                    if journey and not journey_done:
                        _journey_tower(reg, unit, x, y)
                        journey_done = True
                        continue
                    street, address = _place(unit, rng)
                    if kind == K.POLE:
                        name = f"{POLE_NAME.get(owner_code, 'Cột treo cáp')} {street}"
                    elif kind == K.EQUIPMENT_ROOM:
                        name = f"{NAME[kind]} {rng.choice(BUILDINGS)} {street}"
                    else:
                        name = f"{NAME[kind]} {street}"
                    extra = {}
                    if owner_code in ("EVN_HANOI", "UBND_HN"):
                        extra = {"shareable": True, "status": _pick(rng, STATUS[:1] + STATUS[2:])}
                    index = reg.add(
                        owner_code,
                        kind,
                        Point(x, y, srid=4326),
                        unit,
                        name=name,
                        address=address,
                        **extra,
                    )
                    _tenancies_for(reg, index, owner_code)

    # Duct routes, mostly in the urban wards; manholes at their ends.
    starts = []
    for owner_code, total in OWNED[K.DUCT].items():
        salt += 1
        counts, points = points_for(K.DUCT, owner_code, total, salt)
        starts += [(owner_code, by_pk[pk], p) for pk in sorted(points) for p in points[pk]]
    routes = _routes([(unit, p) for _o, unit, p in starts], rng)
    ends = []
    for (owner_code, _start_unit, _p), route in zip(starts, routes, strict=True):
        if route is None:
            continue
        coords, unit_id, length = route
        unit = by_pk[unit_id]
        street, address = _place(unit, rng)
        section = rng.randint(1, 4)
        index = reg.add(
            owner_code,
            K.DUCT,
            LineString(coords, srid=4326),
            unit,
            name=f"{NAME[K.DUCT]} {street} (đoạn {section})",
            address=f"{street}, {unit.name}, Hà Nội",
            length_m=round(length, 1),
            status=_pick(rng, [("active", 0.95), ("planned", 1.0)]),
        )
        _tenancies_for(reg, index, owner_code)
        ends.append((owner_code, coords[0], street))
        ends.append((owner_code, coords[-1], street))
    ends = ends[0::2] + ends[1::2]  # every route's start first, then their ends
    ends = ends[:N_MANHOLES]
    if boundaries_loaded():
        found = _units_containing([c for _o, c, _s in ends])
    else:
        found = [rng.choice(units).pk for _ in ends]
    for (owner_code, (x, y), street), unit_id in zip(ends, found, strict=True):
        if unit_id is None:
            continue
        unit = by_pk[unit_id]
        index = reg.add(
            owner_code,
            K.MANHOLE,
            Point(x, y, srid=4326),
            unit,
            name=f"{NAME[K.MANHOLE]} {street}",
            address=f"{street}, {unit.name}, Hà Nội",
            status=A.Status.ACTIVE,
        )
        _tenancies_for(reg, index, owner_code)

    created = A.objects.bulk_create(reg.assets, batch_size=1000)
    tenancies = []
    for index, tenancy in reg.tenancies:
        tenancy.asset = created[index]
        tenancies.append(tenancy)
    Tenancy.objects.bulk_create(tenancies, batch_size=1000)
    return len(created), len(tenancies)


def _journey_tower(reg, unit, x, y):
    """Viettel's T-0231 in Phường Cầu Giấy: 4 slots, Viettel uses 2 (4G and 5G), 2 are free."""
    index = reg.add(
        "VIETTEL",
        K.TOWER,
        Point(x, y, srid=4326),
        unit,
        number=231,
        name="Cột anten Xuân Thủy",
        address=f"Số 144 Xuân Thủy, {unit.name}, Hà Nội",
        capacity=4,
        status=A.Status.ACTIVE,
        condition=A.Condition.GOOD,
        shareable=True,
    )
    asset = reg.assets[index]
    asset.used_capacity = 2
    reg.tenancies.append(
        (
            index,
            Tenancy(
                operator=reg.orgs["VIETTEL"],
                units=2,
                occupies="2 anten 4G/5G ở độ cao 36 m",
                since=timezone.localdate().replace(day=1) - timedelta(days=4 * 365),
            ),
        )
    )


# --- Sharing requests ----------------------------------------------------------------------------

REFUSAL = "Cột đã hết tải trọng cho phép; cần kiểm định lại kết cấu trước khi lắp thêm thiết bị."
REFUSAL_DUCT = "Các ống còn trống đã dành cho kế hoạch hạ ngầm cáp năm tới."
# (requester username, owner code, asset kind or "area", units, what is needed,
#  submitted N working days ago, steps [(action, working days after submission, argument)])
REQUESTS = [
    # Submitted, still within the deadline
    ("huy", "VIETTEL", K.TOWER, 1,
     "Lắp 1 anten 5G và 1 chảo viba ở độ cao 30 m để phủ sóng khu dân cư mới.", 3, []),
    ("lan", "VNPT", K.TOWER, 1, "Lắp 1 anten 4G/5G, dùng chung nguồn điện của trạm.", 8, []),
    ("tuan", "UBND_HN", K.POLE, 1, "Treo cáp quang và 1 trạm phát sóng nhỏ (small cell).", 6, []),
    ("huy", "VIETTEL", "area", 1,
     "Cần 1 vị trí lắp anten trong bán kính 300 m quanh điểm lõm sóng.", 4, []),
    # Submitted, unanswered past the response deadline (overdue)
    ("tuan", "VIETTEL", K.TOWER, 1, "Lắp 2 anten 4G ở độ cao 24 m.", 30, []),
    ("lan", "MOBIFONE", K.TOWER, 2, "Lắp 2 anten 5G ở độ cao 36 m.", 26, []),
    ("lan", "VNPT", "area", 2, "Cần 2 ống trống trên tuyến cống bể trong bán kính 500 m.", 30, []),
    # Counter-offers
    ("huy", "VNPT", K.DUCT, 2, "Kéo cáp quang 96 sợi qua 2 ống.", 5, [("counter", 2, 1)]),
    ("tuan", "MOBIFONE", K.TOWER, 2, "Lắp 2 anten 4G/5G.", 10, [("counter", 3, 1)]),
    # Accepted, directly or after a counter-offer (the tenancy is created)
    ("lan", "VNPT", K.TOWER, 1, "Lắp 1 anten 4G ở độ cao 30 m.", 40, [("accept", 4, None)]),
    ("huy", "VIETTEL", K.TOWER, 2, "Lắp 2 anten 5G.", 35,
     [("counter", 5, 1), ("accept_counter", 7, None)]),
    ("tuan", "VIETTEL", K.DUCT, 1, "Kéo cáp quang 48 sợi qua 1 ống.", 20, [("accept", 6, None)]),
    ("lan", "MOBIFONE", K.EQUIPMENT_ROOM, 2, "Đặt 2 tủ rack thiết bị truyền dẫn.", 15,
     [("accept", 3, None)]),
    ("huy", "VNPT", K.CABINET, 4, "Lắp thiết bị OLT 4U.", 25, [("accept", 5, None)]),
    # Refused
    ("huy", "VNPT", K.TOWER, 1, "Lắp 1 anten 4G.", 18, [("refuse", 4, REFUSAL)]),
    ("lan", "VNPT", K.MANHOLE, 1, "Đặt măng xông cáp quang.", 12, [("refuse", 3, REFUSAL_DUCT)]),
    # Withdrawn
    ("tuan", "VIETTEL", K.TOWER, 1, "Lắp 1 anten 4G.", 12, [("withdraw", 2, None)]),
    ("huy", "VNPT", K.CABINET, 6, "Lắp thiết bị truyền dẫn 6U.", 14,
     [("counter", 3, 2), ("withdraw", 6, None)]),
    # Disputed: a refusal, and an unanswered request, taken to the regulator
    ("lan", "MOBIFONE", K.TOWER, 1, "Lắp 1 anten 5G ở độ cao 30 m.", 30,
     [("refuse", 5, REFUSAL), ("escalate", 8, None)]),
    ("huy", "VIETTEL", K.TOWER, 1, "Lắp 1 anten 4G/5G ở độ cao 24 m.", 45,
     [("escalate", 26, None)]),
    # Decided by the regulator
    ("tuan", "MOBIFONE", K.TOWER, 1, "Lắp 1 anten 4G ở độ cao 30 m.", 50,
     [("refuse", 6, REFUSAL), ("escalate", 9, None), ("decide", 20, "share")]),
    ("lan", "VNPT", K.DUCT, 2, "Kéo cáp quang qua 2 ống.", 60,
     [("refuse", 5, REFUSAL_DUCT), ("escalate", 7, None), ("decide", 25, "no_share")]),
    ("huy", "VIETTEL", K.TOWER, 1, "Lắp 1 anten 5G ở độ cao 36 m.", 55,
     [("escalate", 24, None), ("decide", 35, "share")]),
    ("lan", "EVN_HANOI", K.POLE, 1, "Treo cáp quang trên tuyến cột điện hạ thế.", 40,
     [("escalate", 25, None), ("decide", 33, "share")]),
]  # fmt: skip
DECISION_TEXT = {
    "share": "Chủ sở hữu có khả năng cho thuê; yêu cầu ký hợp đồng dùng chung trong 15 ngày.",
    "no_share": "Chủ sở hữu đã chứng minh không còn dung lượng; giữ nguyên việc từ chối.",
}


# Where on the asset a granted tenancy sits (the owner states it when it accepts or counter-offers).
DEMO_LOCATIONS = {
    K.TOWER: "Tầng ăng-ten {n}, hướng {side}",
    K.POLE: "Vị trí treo cáp số {n}, phía {side}",
    K.DUCT: "Ống số {n} của tuyến",
    K.MANHOLE: "Giá đỡ cáp số {n}",
    K.CABINET: "Khoang thiết bị số {n}",
    K.EQUIPMENT_ROOM: "Dãy rack {n}, phòng máy",
}
SIDES = ("Đông", "Tây", "Nam", "Bắc")


def demo_location(asset, number):
    if asset is None:
        return ""
    template = DEMO_LOCATIONS.get(asset.kind, "Vị trí số {n}")
    return template.format(n=1 + number % 3, side=SIDES[number % 4])


def _candidates(owner_code, kind, units):
    return list(
        A.objects.filter(
            owner__code=owner_code,
            kind=kind,
            status=A.Status.ACTIVE,
            shareable=True,
            free_capacity__gte=units,
        )
        .exclude(owner__code=JOURNEY_TOWER[0], code=JOURNEY_TOWER[1])
        .select_related("owner")
        .order_by("id")
        .values_list("pk", flat=True)
    )


def load_requests(rng, today=None):
    today = today or timezone.localdate()
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES)}
    staff = {code: users[name] for code, name in STAFF.items()}
    official = users["minh"]
    orgs = {o.code: o for o in Organization.objects.filter(code__in=CODE_STYLE)}
    taken = set()
    made = []
    for number, (username, owner_code, kind, units, needs, ago, steps) in enumerate(REQUESTS):
        user = users[username]
        submitted = add_working_days(today, -ago)
        kwargs = {}
        if kind == "area":
            # Around one of the owner's towers, a little off it.
            tower = A.objects.filter(owner__code=owner_code, kind=K.TOWER).order_by("id")[
                50 + number
            ]
            kwargs = {
                "owner": orgs[owner_code],
                "point": Point(tower.geometry.x + 0.0008, tower.geometry.y, srid=4326),
                "radius_m": 300 if units == 1 else 500,
            }
        else:
            pool = [pk for pk in _candidates(owner_code, kind, units) if pk not in taken]
            asset = A.objects.select_related("owner").get(pk=rng.choice(pool))
            taken.add(asset.pk)
            kwargs = {"asset": asset}
        if kind == "area" and boundaries_loaded():
            from core.selectors import unit_containing

            if unit_containing(kwargs["point"]) is None:
                kwargs["point"] = tower.geometry
        last = SharingEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        req = services.create_request(user, units=units, needs=needs, today=submitted, **kwargs)
        SharingRequest.objects.filter(pk=req.pk).update(created_at=_at(submitted, 9))
        last = _date_events(req, last, submitted, 9)
        for hour, (action, offset, arg) in enumerate(steps, start=10):
            day = min(add_working_days(submitted, offset), today)
            req.refresh_from_db()
            owner = staff.get(owner_code)
            if action == "accept":
                req = services.accept(
                    owner,
                    req,
                    location=demo_location(req.asset, number),
                    contract_number=f"HĐ-DC-{day.year}/{100 + number:03d}",
                    start_date=day,
                )
            elif action == "refuse":
                req = services.refuse(owner, req, arg)
            elif action == "counter":
                req = services.counter_offer(
                    owner,
                    req,
                    arg,
                    terms=f"Cho thuê {arg} đơn vị; giá thuê theo khung giá năm {day.year}.",
                    location=demo_location(req.asset, number),
                    contract_number=f"HĐ-DC-{day.year}/{100 + number:03d}",
                )
            elif action == "accept_counter":
                req = services.accept_counter(user, req)
            elif action == "withdraw":
                note = "Doanh nghiệp đã tìm được vị trí khác."
                req = services.withdraw(user, req, note=note)
            elif action == "escalate":
                if req.status == R.SUBMITTED:
                    services.mark_overdue(today=day)
                    _date_overdue_events()
                    req.refresh_from_db()
                    last = SharingEvent.objects.order_by("-id").values_list("id", flat=True)[0]
                req = services.escalate(
                    user, req, note="Đề nghị Sở KH&CN xem xét, giải quyết theo Luật Viễn thông."
                )
            elif action == "decide":
                req = services.decide(
                    official,
                    req,
                    arg,
                    f"{200 + number}/QĐ-SKHCN",
                    text=DECISION_TEXT[arg],
                )
                SharingRequest.objects.filter(pk=req.pk).update(decided_at=_at(day, hour))
            last = _date_events(req, last, day, hour)
            Tenancy.objects.filter(request=req).update(since=day)
        made.append(req)
    services.mark_overdue(today=today)
    _date_overdue_events()
    return len(made)


R = SharingRequest.Status


def _date_events(req, after_id, day, hour):
    """Put the events the last step wrote (id > after_id) on the day it was taken; returns the last id."""
    events = SharingEvent.objects.filter(request=req, id__gt=after_id)
    events.update(created_at=_at(day, hour))
    return SharingEvent.objects.order_by("-id").values_list("id", flat=True).first() or after_id


def _date_overdue_events():
    """Overdue notices on the first day past each request's deadline."""
    for event in SharingEvent.objects.filter(kind=SharingEvent.Kind.OVERDUE).select_related(
        "request"
    ):
        when = _at(event.request.response_due + timedelta(days=1), 6)
        if event.created_at != when:
            SharingEvent.objects.filter(pk=event.pk).update(created_at=when)


# --- Entry point ---------------------------------------------------------------------------------


def load(stdout=None):
    """Load the demo register, tenancies and sharing requests (each part once)."""
    from core import demo as core_demo

    started = timezone.now()
    if User.objects.filter(username__in=DEMO_USERNAMES).count() != len(DEMO_USERNAMES):
        core_demo.load()
    result = {"assets": 0, "tenancies": 0, "requests": 0}
    with transaction.atomic():
        marker = A.objects.filter(owner__code=JOURNEY_TOWER[0], code=JOURNEY_TOWER[1])
        if not marker.exists():
            result["assets"], result["tenancies"] = load_register(random.Random(SEED))
    with transaction.atomic():
        if not SharingRequest.objects.filter(needs=REQUESTS[0][4]).exists():
            result["requests"] = load_requests(random.Random(SEED + 1))
    if stdout:
        seconds = (timezone.now() - started).total_seconds()
        stdout.write(
            f"sharing: {result['assets']} assets, {result['tenancies']} tenancies and "
            f"{result['requests']} sharing requests created ({seconds:.1f} s)."
        )
    return result
