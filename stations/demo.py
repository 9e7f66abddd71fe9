"""Demo data of the stations app: the Hanoi a new user of `make run` meets.

- ~5,000 stations of the seven operators across all 126 communes: points inside the real boundaries
  when they are loaded (PostgreSQL's ST_GeneratePoints, seeded), otherwise spread over Hanoi's
  bounding box; codes in each operator's style ("HNI-BDH-0123" for Viettel), names and addresses on
  the ward's streets or the commune's villages, mixed structures and heights (rooftop masts with their
  building's height, some camouflaged, hence non-bulky), 5G mostly in urban wards, most operating.
  Loaded with bulk_create in batches (search_text computed as Station.save does).
- ~60 public sites the city offers (ward and commune People's Committee offices, schools, parks,
  cultural houses; owner UBND_HN), available, reserved or occupied; among them the available
  "Trụ sở UBND phường Cầu Giấy".
- Permit applications in every status, made through stations.services acting as the demo users
  (core.demo: lan/Viettel, tuan/VNPT, huy/MobiFone, minh the city official), with documents and
  clocks started on past dates so that deadlines vary and some are overdue. The timeline's event times
  are then set to the days the steps were taken, so the history reads as it happened.

Idempotent: each part is skipped when its first record exists. A fixed seed makes every load the same.
The tables it draws from (operators, streets, sites, applications, structure mixes) are in
stations.demo_data.
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone

from core.models import AdministrativeUnit, Organization, User
from core.selectors import boundaries_loaded
from core.text import fold
from core.workdays import add_working_days
from stations import services
from stations.demo_data import (
    APPLICATIONS,
    CITY_STREETS,
    CODE_STYLE,
    DOCUMENT_FILES,
    HANOI_BBOX,
    HEIGHTS,
    LAND,
    MESSAGES,
    OPERATORS,
    REJECT_NOTE,
    RETURN_NOTE,
    ROADS,
    RURAL_STRUCTURES,
    SITE_KIND,
    SITES,
    STATUSES,
    URBAN_STRUCTURES,
    VILLAGES,
    WARD_STREETS,
)
from stations.models import (
    ApplicationEvent,
    ApplicationType,
    DocumentType,
    PermitApplication,
    PublicSite,
    Station,
)
from stations.selectors import UNIT_DEFERRED

SEED = 2026
DEMO_USERNAMES = ["lan", "tuan", "huy", "minh"]
N_STATIONS = 5000


def _pdf():
    """A tiny valid one-page PDF."""
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


PDF = _pdf()


def _letter_choices(short_name):
    """Three-letter abbreviations of a place, the usual one first ("Ba Đình" -> "BDH", ...)."""
    words = fold(short_name).replace("-", " ").split()
    letters = "".join(words)
    if len(words) >= 3:
        yield "".join(w[0] for w in words[:3])
    if len(words) >= 2:
        first, last = words[0], words[-1]
        yield first[0] + last[0] + last[-1]
        yield first[0] + last[0] + last[1]
        yield first[0] + first[1] + last[0]
    else:
        yield letters[0] + letters[1] + letters[-1]
    for third in letters[1:] + "xyz":
        yield letters[0] + (words[-1][0] if len(words) > 1 else letters[1]) + third


_ABBREVIATIONS = {}


def abbreviation(unit):
    """A unit's three letters, unique among Hanoi's units (first come by code keeps the usual one)."""
    if not _ABBREVIATIONS:
        taken = set()
        for code, short_name in AdministrativeUnit.objects.order_by("code").values_list(
            "code", "short_name"
        ):
            choice = next(c for c in _letter_choices(short_name) if c.upper() not in taken)
            taken.add(choice.upper())
            _ABBREVIATIONS[code] = choice.upper()
    return _ABBREVIATIONS[unit.code]


def station_code(operator_code, unit, number):
    return CODE_STYLE[operator_code].format(abbr=abbreviation(unit), n=number)


# --- Placement ---------------------------------------------------------------------------------


def _allocation(units, total):
    """Stations per unit: a base per ward or commune plus a share of its area (largest remainder)."""
    weights = {
        u.pk: (25 + 3 * float(u.area_km2 or 5))
        if u.kind == AdministrativeUnit.Kind.WARD
        else (4 + 0.5 * float(u.area_km2 or 30))
        for u in units
    }
    scale = total / sum(weights.values())
    exact = {pk: w * scale for pk, w in weights.items()}
    counts = {pk: int(v) for pk, v in exact.items()}
    for pk in sorted(exact, key=lambda pk: exact[pk] - counts[pk], reverse=True)[
        : total - sum(counts.values())
    ]:
        counts[pk] += 1
    return counts


def _points(counts, salt, rng):
    """{unit id: [(lon, lat), ...]}: inside each unit's real boundary (seeded, the same every
    time), or anywhere in Hanoi's bounding box when no boundary is loaded."""
    units = {u.pk: u for u in AdministrativeUnit.objects.filter(pk__in=counts).only("pk", "code")}
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
    seeds = [int(units[pk].code) * 7 + salt for pk in ids]
    points = {pk: [] for pk in counts}
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids, [counts[pk] for pk in ids], seeds])
        for pk, x, y in cursor.fetchall():
            points[pk].append((round(x, 6), round(y, 6)))
    return points


# --- Stations ----------------------------------------------------------------------------------


def _pick(rng, table):
    """table: [(value, cumulative probability)]"""
    r = rng.random()
    for value, upto in table:
        if r < upto:
            return value
    return table[-1][0]


def _d(value):
    return Decimal(str(round(value, 1)))


def _station(rng, operator, unit, number, point, street_counts):
    urban = unit.kind == AdministrativeUnit.Kind.WARD
    structure = _pick(rng, URBAN_STRUCTURES if urban else RURAL_STRUCTURES)
    building = None
    if structure == "rooftop_mast":
        building = rng.uniform(12, 60)
        # A third are small masts within the non-bulky limits (3 m and 20% of the building).
        height = rng.uniform(1.5, 3.0) if rng.random() < 0.33 else rng.uniform(3.5, 12)
    else:
        height = rng.uniform(*HEIGHTS[structure])
    technologies = [
        t
        for t, p in (("2G", 0.35), ("3G", 0.55), ("4G", 0.97), ("5G", 0.45 if urban else 0.08))
        if rng.random() < p
    ] or ["4G"]
    land = (
        ("private" if rng.random() < 0.8 else "public_building")
        if structure == "rooftop_mast"
        else _pick(rng, LAND)
    )
    status = _pick(rng, STATUSES)
    if urban:
        street = rng.choice(WARD_STREETS.get(unit.code, CITY_STREETS))
        key = (operator.pk, unit.pk, street)
        street_counts[key] = street_counts.get(key, 0) + 1
        suffix = f" {street_counts[key]}" if street_counts[key] > 1 else ""
        name = f"{street}{suffix}"
        address = f"Số {rng.randint(1, 300)} {street}, {unit.name}, Hà Nội"
    else:
        place = f"Thôn {rng.choice(VILLAGES)}" if rng.random() < 0.75 else rng.choice(ROADS)
        name = f"{unit.short_name} - {place}"
        address = f"{place}, {unit.name}, Hà Nội"
    code = station_code(operator.code, unit, number)
    commissioned = None
    if status in ("operating", "suspended", "decommissioned"):
        commissioned = timezone.localdate() - timedelta(days=rng.randint(60, 7000))
    permit = ""
    if land != "private" and status != "planned":
        permit = f"{rng.randint(100, 2999)}/GP-{'SKHCN' if rng.random() < 0.3 else 'STTTT'}"
    return Station(
        operator=operator,
        code=code,
        name=name,
        address=address,
        commune=unit,
        location=Point(point[0], point[1], srid=4326),
        structure_type=structure,
        structure_height_m=_d(height),
        building_height_m=_d(building) if building else None,
        technologies=sorted(technologies),
        land_category=land,
        status=status,
        permit_reference=permit,
        commissioned_on=commissioned,
        search_text=fold(" ".join([code, name, address])),
    )


# Any Viettel station numbered 0001 in its commune: the demo's stations are there (the codes of
# stations that approved demo applications create are numbered from 0901).
DEMO_MARKER = r"^HNI-[A-Z]{3}-0001$"


def load_stations(rng):
    units = list(AdministrativeUnit.objects.defer("boundary", "map_boundary").order_by("id"))
    operators = {o.code: o for o in Organization.objects.filter(code__in=CODE_STYLE)}
    counts = _allocation(units, N_STATIONS)
    points = _points(counts, 1, rng)
    table, upto = [], 0.0
    for code, share, _style in OPERATORS:
        upto += share
        table.append((operators[code], upto))
    numbers, street_counts, batch, created = {}, {}, [], 0
    for unit in units:
        for point in points[unit.pk]:
            operator = _pick(rng, table)
            key = (operator.pk, unit.pk)
            numbers[key] = numbers.get(key, 0) + 1
            batch.append(_station(rng, operator, unit, numbers[key], point, street_counts))
            if len(batch) == 1000:
                Station.objects.bulk_create(batch)
                created += len(batch)
                batch = []
    Station.objects.bulk_create(batch)
    return created + len(batch)


# Each operator using a tower (an active tenancy, from the sharing demo) has one of its stations in
# that commune standing on it: the station moves onto the tower and names it (Station.asset).
LINK_TOWERS_SQL = """
    WITH pairs AS (
        SELECT DISTINCT a.id AS asset_id, t.operator_id, a.commune_id, a.geometry
        FROM sharing_tenancy t JOIN sharing_infrastructureasset a ON a.id = t.asset_id
        WHERE t.status = 'active' AND a.kind = 'tower'
    ), chosen AS (
        SELECT DISTINCT ON (s.id) s.id AS station_id, p.asset_id, p.geometry
        FROM pairs p
        CROSS JOIN LATERAL (
            SELECT st.id FROM stations_station st
            WHERE st.operator_id = p.operator_id AND st.commune_id = p.commune_id AND st.asset_id IS NULL
            ORDER BY st.location <-> p.geometry LIMIT 1
        ) s
        ORDER BY s.id, p.asset_id
    )
    UPDATE stations_station st SET asset_id = c.asset_id, location = c.geometry
    FROM chosen c WHERE st.id = c.station_id
"""


# The register's history as the demo tells it: a station was recorded when it was commissioned
# (others within the last year), so reports as of past cut-offs and the dashboard's trends show a
# network that grew. Both the row's created_at and its recorded insert event are dated.
BACKDATE_SQL = """
    UPDATE stations_station s
    SET created_at = (COALESCE(s.commissioned_on, CURRENT_DATE - (s.id * 7919 %% 365)::int)
                      + time '09:00') AT TIME ZONE 'Asia/Ho_Chi_Minh'
    WHERE s.id = ANY(%s);
    UPDATE stations_stationevent e SET pgh_created_at = s.created_at
    FROM stations_station s
    WHERE e.pgh_obj_id = s.id AND e.pgh_label = 'insert' AND s.id = ANY(%s);
"""


def backdate(ids):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(BACKDATE_SQL, [ids, ids])


def link_towers():
    """Put stations on the sharing demo's towers (none if that demo has not run)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(LINK_TOWERS_SQL)
        return cursor.rowcount


# --- Public sites --------------------------------------------------------------------------------


def load_sites(rng, official):
    owner = Organization.objects.get(code="UBND_HN")
    units = {u.code: u for u in AdministrativeUnit.objects.defer("boundary", "map_boundary")}
    wanted = {}
    for _kind, _name, code, *_rest in SITES:
        wanted[units[code].pk] = wanted.get(units[code].pk, 0) + 1
    points = _points(wanted, 2, rng)
    created = 0
    for kind, name, code, building, capacity, status in SITES:
        unit = units[code]
        x, y = points[unit.pk].pop()
        land, conditions = SITE_KIND[kind]
        street = rng.choice(WARD_STREETS.get(code, CITY_STREETS))
        address = (
            f"Số {rng.randint(1, 200)} {street}, {unit.name}"
            if unit.kind == AdministrativeUnit.Kind.WARD
            else f"Thôn {rng.choice(VILLAGES)}, {unit.name}"
        )
        services.save_public_site(
            official,
            name=name,
            owner=owner,
            address=address,
            commune=unit,
            land_category=land,
            location=Point(x, y, srid=4326),
            building_height_m=Decimal(building) if building else None,
            capacity=capacity,
            conditions=conditions,
            status=status,
        )
        created += 1
    return created


# --- Permit applications ---------------------------------------------------------------------------


def _upload(user, application, codes):
    types = {t.code: t for t in DocumentType.objects.filter(code__in=codes)}
    for code in codes:
        upload = SimpleUploadedFile(DOCUMENT_FILES.get(code, f"{code}.pdf"), PDF, "application/pdf")
        services.upload_document(user, application, types[code], upload)


def _at(day, hour):
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def _draft_data(spec, user, kinds, sites, units, points, rng):
    """What the operator's staff fill in: the site (or point, or the station to modify) and the
    proposed structure."""
    _username, type_code, where, code_number, name, structure, technologies, *_rest = spec
    structure_type, height = structure
    data = {
        "application_type": kinds[type_code],
        "structure_type": structure_type,
        "structure_height_m": _d(height),
        "technologies": technologies,
    }
    if where == "station":  # a modification of one of the operator's stations on public land
        candidates = list(
            Station.objects.filter(
                operator=user.organization, status="operating", land_category="public_land"
            )
            .select_related("commune")
            .defer(*UNIT_DEFERRED)
            .order_by("id")[:50]
        )
        station = candidates[code_number % len(candidates)]
        data.update(
            station=station,
            station_code=station.code,
            station_name=station.name,
            address=station.address,
            commune=station.commune,
            location=station.location,
            land_category=station.land_category,
        )
    elif where in sites:  # location, commune, address and land category come from the site
        site = sites[where]
        data.update(
            public_site=site,
            station_name=f"Trạm {name}",
            station_code=station_code(user.organization.code, site.commune, code_number),
        )
    else:  # a proposed point on public land in that commune
        unit = units[where]
        x, y = points[unit.pk].pop()
        if unit.kind == AdministrativeUnit.Kind.WARD:
            street = rng.choice(WARD_STREETS.get(where, CITY_STREETS))
            address = f"Số {rng.randint(1, 200)} {street}, {unit.name}"
        else:
            address = f"Thôn {rng.choice(VILLAGES)}, {unit.name}"
        data.update(
            station_name=f"Trạm {name}",
            station_code=station_code(user.organization.code, unit, code_number),
            address=address,
            commune=unit,
            location=Point(x, y, srid=4326),
            land_category="public_land",
        )
    if structure_type == "rooftop_mast":  # on the site's (or the station's) building
        host = data.get("public_site") or data.get("station")
        data["building_height_m"] = getattr(host, "building_height_m", None) or Decimal(12)
    return data


def _take_steps(app, user, official, steps, start, today, required, decision_number):
    """Submit, return, resubmit, accept, decide or withdraw, each on its day; returns the
    application and when each step was taken."""
    times = {}
    for action, offset in steps:
        day = min(add_working_days(start, offset) if offset else start, today)
        app.refresh_from_db()
        if action == "submit":
            justification = ""
            if services.colocation_candidates(app) or services.shareable_structures(app):
                justification = (
                    "Các cột hiện có trong bán kính 200 m không đủ chiều cao và tải trọng "
                    "để lắp thêm thiết bị; chủ cột chưa đồng ý cho thuê."
                )
            app = services.submit(user, app, sharing_justification=justification, today=day)
        elif action == "return":
            app = services.return_for_supplement(official, app, RETURN_NOTE, today=day)
        elif action == "resubmit":
            _upload(user, app, [c for c in required if c == "structural"] or required[:1])
            app = services.resubmit(
                user, app, note="Đã bổ sung báo cáo kết cấu và bản vẽ.", today=day
            )
        elif action == "accept":
            app = services.accept(official, app, note="Hồ sơ đầy đủ.", today=day)
        elif action == "approve":
            app = services.approve(
                official, app, decision_number, note="Đồng ý cấp phép.", today=day
            )
        elif action == "reject":
            app = services.reject(official, app, REJECT_NOTE, today=day)
        elif action == "withdraw":
            app = services.withdraw(
                user, app, note="Doanh nghiệp điều chỉnh kế hoạch phủ sóng.", today=day
            )
        times[action] = _at(day, 9 + len(times))
    return app, times


def load_applications(rng, today=None):
    today = today or timezone.localdate()
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES)}
    official = users["minh"]
    kinds = {t.code: t for t in ApplicationType.objects.prefetch_related("required_documents")}
    sites = {s.name: s for s in PublicSite.objects.select_related("commune")}
    units = {u.code: u for u in AdministrativeUnit.objects.defer("boundary", "map_boundary")}
    free = [units[spec[2]].pk for spec in APPLICATIONS if spec[2] in units]
    points = _points({pk: free.count(pk) for pk in set(free)}, 3, rng)
    for number, spec in enumerate(APPLICATIONS, start=1):
        username, type_code, _where, code_number, *_middle, ago, steps = spec
        user = users[username]
        app = services.save_draft(user, **_draft_data(spec, user, kinds, sites, units, points, rng))
        required = [t.code for t in kinds[type_code].required_documents.all()]
        if not steps:  # a draft with half of its checklist
            _upload(user, app, required[: max(1, len(required) // 2)])
            continue
        _upload(user, app, required)
        start = add_working_days(today, -ago) if ago else today
        decision = f"{100 + number * 7}/GP-SKHCN"
        app, times = _take_steps(app, user, official, steps, start, today, required, decision)
        if code_number in MESSAGES and app.status not in services.DECIDED_STATUSES:
            question, answer = MESSAGES[code_number]
            services.post_message(official, app, question)
            services.post_message(user, app, answer)
        _backdate(app, start, times)
    services.process_deadlines(today=today)
    return len(APPLICATIONS)


def _backdate(app, start, times):
    """Put the timeline's events (and submitted/decided times) on the days the steps were taken."""
    events = list(app.timeline.order_by("id"))
    clock = _at(start, 8)
    for event in events:
        if event.kind == ApplicationEvent.Kind.STATUS:
            action = {
                "submitted": "submit",
                "returned": "return",
                "resubmitted": "resubmit",
                "under_review": "accept",
                "approved": "approve",
                "rejected": "reject",
                "withdrawn": "withdraw",
            }.get(event.to_status)
            clock = times.get(action, clock)
        else:
            clock = clock + timedelta(minutes=20)
        event.created_at = clock
    ApplicationEvent.objects.bulk_update(events, ["created_at"])
    changes = {}
    if "submit" in times:
        changes["submitted_at"] = times["submit"]
    for action in ("approve", "reject"):
        if action in times:
            changes["decided_at"] = times[action]
    if changes:
        PermitApplication.objects.filter(pk=app.pk).update(**changes)


# --- Entry point -------------------------------------------------------------------------------------


def load(stdout=None):
    """Load the demo stations, sites and applications (each part once). Returns what it created."""
    from core import demo as core_demo

    started = timezone.now()
    if User.objects.filter(username__in=DEMO_USERNAMES).count() != len(DEMO_USERNAMES):
        core_demo.load()
    official = User.objects.get(username="minh")
    result = {"stations": 0, "on_towers": 0, "sites": 0, "applications": 0}
    rng = random.Random(SEED)
    with transaction.atomic():
        if not Station.objects.filter(operator__code="VIETTEL", code__regex=DEMO_MARKER).exists():
            before = Station.objects.order_by("-id").values_list("id", flat=True).first() or 0
            result["stations"] = load_stations(rng)
            backdate(list(Station.objects.filter(id__gt=before).values_list("id", flat=True)))
            result["on_towers"] = link_towers()
    rng = random.Random(SEED + 1)
    with transaction.atomic():
        if not PublicSite.objects.filter(name=SITES[0][1]).exists():
            result["sites"] = load_sites(rng, official)
    rng = random.Random(SEED + 2)
    with transaction.atomic():
        if not PermitApplication.objects.filter(
            station_name__startswith="Trạm Long Biên UBND"
        ).exists():
            result["applications"] = load_applications(rng)
    if stdout:
        seconds = (timezone.now() - started).total_seconds()
        stdout.write(
            f"stations: {result['stations']} stations ({result['on_towers']} on shared-register "
            f"towers), {result['sites']} public sites and "
            f"{result['applications']} permit applications created ({seconds:.1f} s)."
        )
    return result
