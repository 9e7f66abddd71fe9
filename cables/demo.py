"""Demo data of the cables app: Hanoi's undergrounding of overhead telecom cable, 2016-2026.

- 40 projects, one street each (Kim Mã, Nguyễn Trãi, Trần Hưng Đạo, Láng Hạ, Giải Phóng, Xuân Thủy,
  Cầu Giấy, Hoàng Quốc Việt, Lê Duẩn, Tôn Đức Thắng, ...), in the city's plans (2016-2020: ~180
  streets / 170 km; 2021-2025: ~300 streets) and the 2026 plan. Most are led by the Sở KH&CN
  (SO_KHCN_HN), a few by an operator (VNPT, Viettel); 2-4 operators among VIETTEL, VNPT, MOBIFONE,
  FPT and CMC take part. Every status: old plans completed (one cancelled, one suspended), recent ones
  in construction or approved, the 2026 plan mostly planned. "Hạ ngầm cáp phố Kim Mã 2026" is NOT
  here (journey 4 creates it).
- 2-5 consecutive segments per project, 200-1,500 m each, along the street's direction from a point
  inside the ward the street runs through (seeded ST_GeneratePoints); a route that would leave the
  communes turns back. Segments are made through cables.services.save_segment (length and commune
  pieces computed there); methods mixed (new duct bank, existing duct, micro-trenching).
- Progress through cables.services.record_progress as the demo users (lan/Viettel, tuan/VNPT,
  huy/MobiFone for their operators' segments; minh, the city official, for FPT's and CMC's and the
  lead agency's), on past days: completed projects fully built (their new duct banks then appear in
  the sharing register, by the service), projects in construction part-way, suspended ones early;
  a few updates corrected. Each update's created_at is put on its day.
- 8 civil-works notices (UBND_HN road and pavement works, EVN_HANOI power digs), made by minh: open
  ones with registrations by two operators, past ones closed by services.close_expired_notices.

Idempotent: each part is skipped when its marker exists; a fixed seed makes every load the same.
"""

import math
import random
from datetime import date, datetime, time, timedelta

from django.contrib.gis.geos import LineString
from django.db import connection, transaction
from django.utils import timezone

from cables import services
from cables.models import CableProject, CableSegment, CivilWorksNotice, ProgressUpdate
from core.models import AdministrativeUnit, Organization, User
from core.selectors import boundaries_loaded

SEED = 5016
DEMO_USERNAMES = ["lan", "tuan", "huy", "minh"]
STAFF = {"VIETTEL": "lan", "VNPT": "tuan", "MOBIFONE": "huy"}
OPERATORS = ["VIETTEL", "VNPT", "MOBIFONE", "FPT", "CMC"]
HANOI_CENTRE = (105.8342, 21.0278)  # fallback anchor when no boundary is loaded
M_PER_DEG = 111_320.0

P = CableProject.Status
PLAN_2020 = "Kế hoạch hạ ngầm, chỉnh trang đường dây, cáp đi nổi trên địa bàn Hà Nội 2016-2020"
PLAN_2025 = "Kế hoạch hạ ngầm, chỉnh trang đường dây, cáp đi nổi trên địa bàn Hà Nội 2021-2025"
PLAN_2026 = "Kế hoạch hạ ngầm cáp viễn thông năm 2026"
BUDGET = [
    "Doanh nghiệp viễn thông tự đầu tư",
    "Ngân sách thành phố (cải tạo hè phố) và vốn doanh nghiệp",
    "Doanh nghiệp thuê hạ tầng ngầm dùng chung của thành phố",
]

# (street, ward code it runs through, bearing in degrees, year, status, lead agency, segments)
PROJECTS = [
    ("Trần Hưng Đạo", "00082", 95, 2016, P.COMPLETED, "SO_KHCN_HN", 4),
    ("Lý Thường Kiệt", "00082", 92, 2016, P.COMPLETED, "SO_KHCN_HN", 3),
    ("Bà Triệu", "00256", 180, 2016, P.COMPLETED, "VNPT", 3),
    ("Hai Bà Trưng", "00070", 90, 2016, P.COMPLETED, "SO_KHCN_HN", 2),
    ("Kim Mã", "00025", 92, 2017, P.COMPLETED, "SO_KHCN_HN", 3),
    ("Nguyễn Chí Thanh", "00199", 172, 2017, P.COMPLETED, "SO_KHCN_HN", 3),
    ("Điện Biên Phủ", "00004", 125, 2017, P.COMPLETED, "VIETTEL", 2),
    ("Phố Huế", "00256", 180, 2017, P.COMPLETED, "SO_KHCN_HN", 3),
    ("Láng Hạ", "00190", 200, 2018, P.COMPLETED, "SO_KHCN_HN", 4),
    ("Xuân Thủy", "00166", 270, 2018, P.COMPLETED, "SO_KHCN_HN", 3),
    ("Cầu Giấy", "00166", 105, 2018, P.COMPLETED, "VNPT", 3),
    ("Đội Cấn", "00008", 88, 2018, P.COMPLETED, "SO_KHCN_HN", 2),
    ("Lê Duẩn", "00082", 180, 2019, P.COMPLETED, "SO_KHCN_HN", 4),
    ("Tôn Đức Thắng", "00226", 210, 2019, P.COMPLETED, "SO_KHCN_HN", 3),
    ("Hoàng Quốc Việt", "00160", 90, 2019, P.COMPLETED, "VIETTEL", 5),
    ("Thái Hà", "00235", 110, 2019, P.CANCELLED, "SO_KHCN_HN", 2),
    ("Giải Phóng", "00292", 180, 2020, P.COMPLETED, "SO_KHCN_HN", 5),
    ("Nguyễn Trãi", "00367", 225, 2020, P.COMPLETED, "SO_KHCN_HN", 5),
    ("Tây Sơn", "00235", 210, 2020, P.SUSPENDED, "SO_KHCN_HN", 3),
    ("Liễu Giai", "00008", 0, 2020, P.COMPLETED, "SO_KHCN_HN", 2),
    ("Trần Duy Hưng", "00175", 225, 2021, P.COMPLETED, "SO_KHCN_HN", 4),
    ("Chùa Bộc", "00235", 120, 2021, P.COMPLETED, "VNPT", 2),
    ("Lạc Long Quân", "00103", 10, 2021, P.COMPLETED, "SO_KHCN_HN", 4),
    ("Đại Cồ Việt", "00256", 90, 2022, P.COMPLETED, "SO_KHCN_HN", 3),
    ("Trường Chinh", "00364", 100, 2022, P.SUSPENDED, "SO_KHCN_HN", 4),
    ("Hồ Tùng Mậu", "00592", 270, 2022, P.COMPLETED, "VIETTEL", 3),
    ("Lê Văn Lương", "00175", 260, 2023, P.COMPLETED, "SO_KHCN_HN", 4),
    ("Khuất Duy Tiến", "00367", 180, 2023, P.IN_CONSTRUCTION, "SO_KHCN_HN", 3),
    ("Âu Cơ", "00103", 20, 2023, P.COMPLETED, "SO_KHCN_HN", 3),
    ("Minh Khai", "00283", 90, 2024, P.IN_CONSTRUCTION, "SO_KHCN_HN", 4),
    ("Phạm Văn Đồng", "00611", 0, 2024, P.COMPLETED, "SO_KHCN_HN", 5),
    ("Quang Trung (Hà Đông)", "09556", 225, 2024, P.IN_CONSTRUCTION, "VNPT", 3),
    ("Trần Phú (Hà Đông)", "09556", 45, 2025, P.IN_CONSTRUCTION, "SO_KHCN_HN", 4),
    ("Nguyễn Văn Cừ", "00118", 60, 2025, P.IN_CONSTRUCTION, "SO_KHCN_HN", 4),
    ("Tam Trinh", "00331", 180, 2025, P.APPROVED, "SO_KHCN_HN", 3),
    ("Hoàng Hoa Thám", "00008", 290, 2025, P.IN_CONSTRUCTION, "VIETTEL", 3),
    ("Lê Trọng Tấn", "09556", 30, 2026, P.IN_CONSTRUCTION, "SO_KHCN_HN", 2),
    ("Văn Cao", "00008", 10, 2026, P.APPROVED, "SO_KHCN_HN", 2),
    ("Nguyễn Xiển", "00643", 200, 2026, P.PLANNED, "SO_KHCN_HN", 3),
    ("Kim Giang", "00337", 190, 2026, P.PLANNED, "SO_KHCN_HN", 2),
]
# Updates to correct (project index, segment index): the first update's duct is re-measured.
CORRECTED = [(27, 0), (29, 1), (32, 0), (33, 2), (35, 0)]

# (title, owner, ward, bearing, length m, deadline in days from today, works days after deadline,
#  registrations [(username, need, bores)])
NOTICES = [
    ("Cải tạo, lát đá hè phố Nguyễn Du", "UBND_HN", "00256", 95, 900, 12, 10,
     [("lan", "duct", 2), ("tuan", "duct", 4)]),
    ("Hạ ngầm lưới điện trung thế phố Lạc Long Quân", "EVN_HANOI", "00103", 10, 1300, 18, 7,
     [("huy", "cable", 1), ("lan", "duct", 2)]),
    ("Mở rộng đường Âu Cơ, đoạn Nhật Tân", "UBND_HN", "00103", 20, 1500, 25, 20,
     [("tuan", "duct", 6)]),
    ("Xây dựng tuyến cống thoát nước phố Tôn Đức Thắng", "SO_KHCN_HN", "00226", 210, 700, 7, 5,
     [("tuan", "cable", 1), ("huy", "duct", 2)]),
    ("Hạ ngầm đường dây 22 kV phố Kim Giang", "EVN_HANOI", "00337", 190, 1100, 30, 14, []),
    ("Cải tạo hè phố Tràng Tiền", "UBND_HN", "00070", 90, 600, -40, 10,
     [("lan", "duct", 2), ("huy", "cable", 1)]),
    ("Thay cáp ngầm trung thế phố Hàng Bài", "EVN_HANOI", "00070", 180, 500, -75, 15,
     [("tuan", "duct", 4)]),
    ("Nâng cấp đường Tam Trinh", "UBND_HN", "00331", 180, 1400, -20, 12, []),
]  # fmt: skip
NOTICE_TEXT = (
    "Chủ đầu tư thông báo để các doanh nghiệp viễn thông đăng ký sử dụng chung rãnh đào, "
    "lắp đặt ống, bể cáp hoặc kéo cáp theo Luật Viễn thông 2023."
)


def _at(day, hour):
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


# --- Routes --------------------------------------------------------------------------------------


def _anchors(codes, seed):
    """{ward code: (lon, lat)} a seeded point inside each ward (the city centre without boundaries)."""
    if not boundaries_loaded():
        return dict.fromkeys(codes, HANOI_CENTRE)
    sql = """
        SELECT u.code, ST_X(g), ST_Y(g) FROM core_administrativeunit u,
        LATERAL ST_GeometryN(ST_GeneratePoints(ST_Buffer(u.boundary::geography, -150)::geometry,
                                               1, %s + u.id::int), 1) g
        WHERE u.code = ANY(%s)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [seed, list(codes)])
        return {code: (x, y) for code, x, y in cursor.fetchall()}


def _leg(start, bearing, metres, rng, bends=3):
    """A line from ``start`` along ``bearing``, ``metres`` long, in a few legs with small bends."""
    x, y = start
    coords = [(round(x, 6), round(y, 6))]
    for _ in range(bends):
        b = math.radians(bearing + rng.uniform(-7, 7))
        d = metres / bends
        y += d * math.cos(b) / M_PER_DEG
        x += d * math.sin(b) / (M_PER_DEG * math.cos(math.radians(y)))
        coords.append((round(x, 6), round(y, 6)))
    return coords


COVERED_SQL = """
    SELECT ST_CoveredBy(g, (SELECT ST_Union(u.boundary) FROM core_administrativeunit u
                            WHERE ST_Intersects(u.boundary, g)))
    FROM ST_GeomFromText(%s, 4326) g
"""


def _inside_communes(coords):
    if not boundaries_loaded():
        return True
    with connection.cursor() as cursor:
        cursor.execute(COVERED_SQL, [LineString(coords).wkt])
        return bool(cursor.fetchone()[0])


def _street(anchor, bearing, lengths, rng):
    """Consecutive sections of one street from ``anchor``; turns back if the street leaves the
    communes (then tries shorter sections)."""
    for scale in (1.0, 0.6, 0.35):
        for direction in (bearing, bearing + 180):
            sections, start = [], anchor
            for metres in lengths:
                coords = _leg(start, direction, metres * scale, rng)
                if not _inside_communes(coords):
                    break
                sections.append(coords)
                start = coords[-1]
            if len(sections) == len(lengths):
                return sections
    return []


# --- Projects, segments, progress ----------------------------------------------------------------


def _project_dates(year, rng):
    start = date(year, rng.choice([2, 3, 4, 5, 6, 8]), rng.choice([1, 10, 15]))
    end = start + timedelta(days=rng.randint(150, 330))
    return start, end


def _participants(lead, rng):
    chosen = {lead} if lead in OPERATORS else set()
    chosen |= {"VIETTEL", "VNPT"} if rng.random() < 0.7 else {rng.choice(OPERATORS[:3])}
    while len(chosen) < rng.randint(2, 4):
        chosen.add(rng.choice(OPERATORS))
    return sorted(chosen, key=OPERATORS.index)


def _method(rng):
    r = rng.random()
    if r < 0.45:
        return CableSegment.Method.NEW_DUCT_BANK, rng.choice([6, 9, 12, 18, 24])
    if r < 0.80:
        return CableSegment.Method.EXISTING_DUCT, rng.choice([2, 4])
    return CableSegment.Method.MICRO_TRENCHING, rng.choice([1, 2])


def _days(start, end, n, today):
    """``n`` increasing work days between start and end, never after yesterday."""
    end = min(end, today - timedelta(days=1))
    start = min(start, end)
    span = (end - start).days
    return [start + timedelta(days=round(span * (i + 1) / (n + 1))) for i in range(n)]


def _chunks(total, parts, rng):
    """``total`` metres in ``parts`` pieces (0.1 m), summing to it."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    out, done = [], 0.0
    for w in weights[:-1]:
        piece = round(total * w / sum(weights), 1)
        out.append(piece)
        done += piece
    out.append(max(0.0, round(total - done, 1)))
    return out


def _progress_plan(segment, status, rng):
    """[(fraction of the schedule, duct, cable, overhead, poles)] for a segment in ``status``."""
    length = segment.length_m
    duct_needed = segment.method != CableSegment.Method.EXISTING_DUCT
    if status == P.COMPLETED:
        share = (1.0, 1.0, 1.0)
    elif status == P.IN_CONSTRUCTION:
        share = (rng.uniform(0.3, 0.9), rng.uniform(0.0, 0.6), rng.uniform(0.0, 0.3))
        share = (share[0], min(share[1], share[0]), min(share[2], share[1]))
    elif status == P.SUSPENDED:
        share = (rng.uniform(0.1, 0.4), rng.uniform(0.0, 0.1), 0.0)
    else:
        return []
    duct = length * share[0] if duct_needed else 0.0
    cable = length * share[1] if duct_needed else length * max(share[1], share[0])
    overhead = length * share[2]
    if status == P.COMPLETED:
        duct, cable, overhead = (length if duct_needed else 0.0), length, length
    n = rng.randint(2, 3)
    ducts, cables, overheads = (_chunks(duct, n, rng), _chunks(cable, n, rng), [])
    # Cable follows the duct, overhead removal comes last: shift work to later updates.
    cables = [0.0] + cables[:-2] + [round(sum(cables[-2:]), 1)] if n > 1 else cables
    overheads = [0.0] * (n - 1) + [round(overhead, 1)]
    poles = round(overhead / 35)
    return [(i, ducts[i], cables[i], overheads[i], poles if i == n - 1 else 0) for i in range(n)]


def load_projects(rng, today=None):
    today = today or timezone.localdate()
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES)}
    official = users["minh"]
    orgs = {o.code: o for o in Organization.objects.filter(code__in=[*OPERATORS, "SO_KHCN_HN"])}
    anchors = _anchors({p[1] for p in PROJECTS} | {n[2] for n in NOTICES}, SEED)
    counts = {"projects": 0, "segments": 0, "updates": 0}
    first_updates = {}
    for index, (street, ward, bearing, year, status, lead, n_segments) in enumerate(PROJECTS):
        start, end = _project_dates(year, rng)
        programme = PLAN_2020 if year <= 2020 else PLAN_2025 if year <= 2025 else PLAN_2026
        participants = [orgs[c] for c in _participants(lead, rng)]
        kind = "đường" if street in ("Giải Phóng", "Nguyễn Trãi", "Phạm Văn Đồng") else "phố"
        project = services.save_project(
            official,
            participants=participants,
            code=f"HNC-{year}-{index + 1:02d}",
            name=f"Hạ ngầm cáp {kind} {street} {year}",
            lead_agency=orgs[lead],
            programme=programme,
            year=year,
            streets=street,
            planned_start=start,
            planned_end=end,
            budget_source=rng.choice(BUDGET),
            status=status,
        )
        counts["projects"] += 1
        lengths = [rng.uniform(250, 1400) for _ in range(n_segments)]
        sections = _street(anchors[ward], bearing, lengths, rng)
        for number, coords in enumerate(sections, start=1):
            method, bores = _method(rng)
            operator = participants[(number - 1) % len(participants)]
            segment = services.save_segment(
                official,
                project,
                name=f"{street} - đoạn {number}",
                route=LineString(coords, srid=4326),
                method=method,
                operator=operator,
                bores=bores,
            )
            counts["segments"] += 1
            reporter = users[STAFF[operator.code]] if operator.code in STAFF else official
            plan = _progress_plan(segment, status, rng)
            days = _days(start, end, len(plan), today)
            for (i, duct, cable, overhead, poles), day in zip(plan, days, strict=True):
                update = services.record_progress(
                    reporter,
                    segment,
                    reported_on=day,
                    duct_built_m=duct,
                    cable_pulled_m=cable,
                    overhead_removed_m=overhead,
                    poles_removed=poles,
                    note=f"Thi công {street}, đợt {i + 1}.",
                )
                ProgressUpdate.objects.filter(pk=update.pk).update(created_at=_at(day, 17))
                counts["updates"] += 1
                if i == 0:
                    first_updates[(index, number - 1)] = (update, reporter)
    for key in CORRECTED:
        if key not in first_updates:
            continue
        update, reporter = first_updates[key]
        day = min(update.reported_on + timedelta(days=3), today)
        fixed = services.record_progress(
            reporter,
            update.segment,
            reported_on=day,
            duct_built_m=round(update.duct_built_m * 0.9, 1),
            cable_pulled_m=update.cable_pulled_m,
            overhead_removed_m=update.overhead_removed_m,
            poles_removed=update.poles_removed,
            note="Điều chỉnh: đo lại chiều dài ống đã lắp theo biên bản nghiệm thu.",
            corrects=update,
        )
        ProgressUpdate.objects.filter(pk=fixed.pk).update(created_at=_at(day, 17))
        counts["updates"] += 1
    return counts


# --- Civil-works notices -------------------------------------------------------------------------


def load_notices(rng, today=None):
    today = today or timezone.localdate()
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES)}
    orgs = {o.code: o for o in Organization.objects.filter(code__in=["UBND_HN", "SO_KHCN_HN", "EVN_HANOI"])}  # fmt: skip
    anchors = _anchors({n[2] for n in NOTICES}, SEED + 7)
    units = {u.code: u for u in AdministrativeUnit.objects.defer("boundary", "map_boundary")}
    counts = {"notices": 0, "registrations": 0}
    for title, owner, ward, bearing, metres, deadline_in, works_after, regs in NOTICES:
        deadline = today + timedelta(days=deadline_in)
        route = _street(anchors[ward], bearing, [metres], rng)
        coords = route[0] if route else _leg(anchors[ward], bearing, 300, rng)
        extra = {} if boundaries_loaded() else {"commune": units[ward]}
        notice = services.save_notice(
            users["minh"],
            title=title,
            owner=orgs[owner],
            route=LineString(coords, srid=4326),
            description=NOTICE_TEXT,
            effective_from=deadline + timedelta(days=works_after),
            effective_to=deadline + timedelta(days=works_after + rng.randint(60, 180)),
            registration_deadline=deadline,
            **extra,
        )
        created = deadline - timedelta(days=30)
        CivilWorksNotice.objects.filter(pk=notice.pk).update(created_at=_at(created, 9))
        counts["notices"] += 1
        for offset, (username, need, bores) in enumerate(regs, start=1):
            day = min(created + timedelta(days=3 * offset), today)
            registration = services.register_joint_use(
                users[username],
                notice,
                need,
                bores=bores,
                note="Đăng ký sử dụng chung rãnh đào để hạ ngầm cáp quang.",
                today=day,
            )
            type(registration).objects.filter(pk=registration.pk).update(created_at=_at(day, 10))
            counts["registrations"] += 1
    services.close_expired_notices(today=today)
    return counts


# --- Entry point ---------------------------------------------------------------------------------


def load(stdout=None):
    """Load the demo projects (with segments and progress) and civil-works notices (each once)."""
    from core import demo as core_demo

    started = timezone.now()
    if User.objects.filter(username__in=DEMO_USERNAMES).count() != len(DEMO_USERNAMES):
        core_demo.load()
    result = {"projects": 0, "segments": 0, "updates": 0, "notices": 0, "registrations": 0}
    with transaction.atomic():
        if not CableProject.objects.filter(code=f"HNC-{PROJECTS[0][3]}-01").exists():
            result.update(load_projects(random.Random(SEED)))
    with transaction.atomic():
        if not CivilWorksNotice.objects.filter(title=NOTICES[0][0]).exists():
            result.update(load_notices(random.Random(SEED + 1)))
    if stdout:
        seconds = (timezone.now() - started).total_seconds()
        stdout.write(
            f"cables: {result['projects']} projects, {result['segments']} segments, "
            f"{result['updates']} progress updates, {result['notices']} civil-works notices and "
            f"{result['registrations']} registrations created ({seconds:.1f} s)."
        )
    return result
