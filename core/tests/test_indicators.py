"""The indicator registry (core.indicators) and the measures each app declares in its indicators.py:
registration rules, values on known data, figures as of a past day, breakdowns by every declared
dimension.

The known data is made once for the module through the apps' services (inside a transaction rolled
back at the end): a cable segment with progress and a correction, two towers with tenancies, two
spam cases answered on time and late, stations and two permits decided on time and late.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.contrib.gis.geos import LineString, Point
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from core import indicators, roles
from core.indicators import REGISTRY, Window, indicator
from core.models import AdministrativeUnit, Organization, User

pytestmark = pytest.mark.django_db

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
FIRST_APPS = ("stations", "sharing", "cables", "spam_reports")
FIRST_KEYS = (
    "stations.count",
    "stations.permits_on_time_pct",
    "sharing.shared_site_pct",
    "cables.km_overhead_removed",
    "cables.km_cable_pulled",
    "cables.km_duct_built",
    "spam_reports.handled_within_sla_pct",
    "spam_reports.reports_received",
)
D1, D2, D3 = date(2025, 6, 1), date(2025, 9, 1), date(2025, 9, 11)
KIM_MA = LineString((105.8120, 21.0316), (105.8230, 21.0318), srid=4326)  # ~1,144 m
BA_DINH = Point(105.8345, 21.0360, srid=4326)
NEAR = Point(105.8380, 21.0360, srid=4326)
FAR = Point(105.7800, 21.0500, srid=4326)


def value(key, as_of=None, **kwargs):
    return indicators.get(key).value(as_of=as_of, **kwargs)


def by(key, dimension, as_of=None, **kwargs):
    rows = indicators.get(key).value(as_of=as_of, by=dimension, **kwargs)
    return {r["key"]: r["value"] for r in rows}


def hanoi(day, hour):
    return datetime(day.year, day.month, day.day, hour, tzinfo=HANOI)


# --- The registry ----------------------------------------------------------------------------------


@pytest.fixture
def scratch_registry(monkeypatch):
    """Registrations made by a test are forgotten after it."""
    monkeypatch.setattr(indicators, "REGISTRY", dict(REGISTRY))
    return indicators.REGISTRY


def test_each_app_declares_its_first_measures():
    assert {i.app for i in indicators.all_indicators()} >= set(FIRST_APPS)
    for key in FIRST_KEYS:
        assert indicators.exists(key), key
    assert not indicators.exists("cables.km_of_happiness")
    with pytest.raises(KeyError):
        indicators.get("cables.km_of_happiness")


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_every_indicator_is_documented(key):
    item = indicators.get(key)
    assert item.key == key and key.startswith(f"{item.app}.")
    assert item.unit in indicators.UNITS
    assert str(item.label) and str(item.description)
    assert isinstance(item.dimensions, tuple) and len(set(item.dimensions)) == len(item.dimensions)
    assert (key, f"{item.label} ({item.unit_label})") in indicators.choices()


def test_listing_is_sorted_by_app_then_key():
    listed = [(i.app, i.key) for i in indicators.all_indicators()]
    assert listed == sorted(listed)
    for tag in ("overdue", "headline"):
        assert all(tag in i.tags for i in indicators.tagged(tag))


def test_registering_a_key_twice_is_an_error(scratch_registry):
    def compute(window):
        return 1

    indicator("test.once", "Once", "count")(compute)
    indicator("test.once", "Once", "count")(compute)  # the same function again (a re-import)
    with pytest.raises(ValueError, match="registered twice"):
        indicator("test.once", "Once", "count")(lambda window: 2)
    with pytest.raises(ValueError, match="registered twice"):
        indicator("cables.km_overhead_removed", "Again", "km")(lambda window: 0)
    assert indicators.get("test.once").compute is compute
    assert indicators.get("test.once").app == __name__.split(".")[0]
    assert REGISTRY is not scratch_registry and "test.once" not in REGISTRY


def test_an_unknown_unit_is_refused(scratch_registry):
    with pytest.raises(ValueError, match="unknown unit"):
        indicator("test.miles", "Miles", "miles")
    assert not indicators.exists("test.miles")


def test_a_measure_must_return_a_number(scratch_registry):
    indicator("test.text", "Text", "count")(lambda window: "many")
    indicator("test.none", "Nothing", "count")(lambda window: None)
    indicator("test.decimal", "Decimal", "km")(lambda window: Decimal("1.5"))
    with pytest.raises(TypeError, match="not a number"):
        indicators.get("test.text").value()
    assert indicators.get("test.none").value() is None
    assert indicators.get("test.decimal").value() == Decimal("1.5")


def test_the_window_defaults_to_today_and_spans_whole_hanoi_days(scratch_registry):
    seen = []

    @indicator("test.window", "Window", "count", dimensions=("operator",))
    def compute(window, by=None):
        seen.append((window, by))
        return [] if by else 0

    indicators.get("test.window").value()
    indicators.get("test.window").value(as_of=D1, start=date(2025, 1, 1), by="operator")
    assert seen[0] == (Window(as_of=timezone.localdate()), None)
    window = seen[1][0]
    assert (window.as_of, window.start, seen[1][1]) == (D1, date(2025, 1, 1), "operator")
    assert timezone.localtime(window.end_at).date() == D1
    assert window.end_at + timedelta(microseconds=1) == timezone.make_aware(
        datetime(2025, 6, 2, 0, 0)
    )
    assert window.start_at == timezone.make_aware(datetime(2025, 1, 1, 0, 0))
    assert Window(as_of=D1).start_at is None


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_an_undeclared_dimension_is_an_error(key):
    with pytest.raises(ValueError, match="cannot be broken down by"):
        indicators.get(key).value(by="galaxy")


def test_percent():
    assert indicators.percent(1, 3) == 33.3
    assert indicators.percent(0, 5) == 0.0
    assert indicators.percent(3, 0) is None
    assert indicators.percent(3, None) is None


# --- Known data ----------------------------------------------------------------------------------


def _user(role, code):
    user = User.objects.create_user(
        username=f"ind-{role}-{code}".lower(),
        password="x",
        organization=Organization.objects.get(code=code),
    )
    user.groups.add(Group.objects.get(name=role))
    return user


def _cables(people, orgs):
    from cables import services
    from cables.models import ProgressUpdate

    project = services.save_project(
        people["official"],
        participants=[orgs["VIETTEL"], orgs["VNPT"]],
        code="T-IND-KM",
        name="Hạ ngầm cáp phố Kim Mã (thử chỉ số)",
        lead_agency=orgs["SO_KHCN_HN"],
        year=2025,
        status="in_construction",
    )
    segment = services.save_segment(
        people["official"],
        project,
        name="Kim Mã - đoạn 1",
        route=KIM_MA,
        method="existing_duct",
        operator=orgs["VIETTEL"],
    )
    first = services.record_progress(
        people["viettel"], segment, reported_on=D1, cable_pulled_m=400, overhead_removed_m=400
    )
    # VNPT's 200 m on Viettel's segment: a record from before the rule that only a segment's
    # responsible operator reports on it (the service refuses it now), so written directly.
    ProgressUpdate.objects.create(
        segment=segment,
        operator=orgs["VNPT"],
        reported_on=D2,
        cable_pulled_m=200,
        overhead_removed_m=200,
        created_by=people["vnpt"],
    )
    # Re-measured: the first update was 300 m, not 400 (reported on D3).
    services.record_progress(
        people["viettel"],
        segment,
        reported_on=D3,
        cable_pulled_m=300,
        overhead_removed_m=300,
        corrects=first,
    )
    return segment


def _sharing(people, orgs):
    from sharing import services

    shared = services.save_asset(
        people["viettel"],
        code="T-IND-1",
        name="Cột Đội Cấn",
        kind="tower",
        owner=orgs["VIETTEL"],
        geometry=BA_DINH,
        capacity=4,
    )
    services.create_tenancy(people["viettel"], shared, orgs["VIETTEL"], 2, since=date(2024, 1, 1))
    guest = services.create_tenancy(people["viettel"], shared, orgs["MOBIFONE"], 1, since=D1)
    services.end_tenancy(people["viettel"], guest, until=date(2025, 12, 31))
    alone = services.save_asset(
        people["vnpt"],
        code="T-IND-2",
        name="Cột Giảng Võ",
        kind="tower",
        owner=orgs["VNPT"],
        geometry=NEAR,
        capacity=3,
    )
    services.create_tenancy(people["vnpt"], alone, orgs["VNPT"], 1, since=date(2024, 1, 1))


def _spam(people):
    from spam_reports import services

    def case(sender, hour):
        report = services.submit_report(
            people["official"],
            channel="sms",
            sender=sender,
            recipient="0987 654 321",
            content=f"Vay tiền nhanh, giải ngân trong 15 phút ({sender})",
            received_at=hanoi(D1, hour),
        )
        return report.case

    vnpt_case = case("0912 345 678", 8)
    viettel_case = case("0981 234 567", 9)
    on_time = services.assign(people["official"], vnpt_case, now=hanoi(date(2025, 6, 2), 9))
    services.respond(people["vnpt"], on_time, "blocked_number", now=hanoi(date(2025, 6, 2), 11))
    late = services.assign(
        people["official"], viettel_case, sla_hours=24, now=hanoi(date(2025, 6, 3), 9)
    )
    services.respond(people["viettel"], late, "blocked_number", now=hanoi(date(2025, 6, 4), 15))


def _stations(people, orgs):
    from stations import services
    from stations.models import ApplicationType, Station

    commune = AdministrativeUnit.objects.get(code="00004")
    for n, (operator, techs) in enumerate((("VIETTEL", ["4G", "5G"]), ("VNPT", ["4G"])), start=1):
        Station.objects.create(
            operator=orgs[operator],
            code=f"IND-{n}",
            name=f"Trạm thử {n}",
            address="Hà Nội",
            location=FAR,
            commune=commune,
            structure_type="monopole",
            structure_height_m=Decimal("30"),
            land_category="public_land",
            status=Station.Status.OPERATING,
            technologies=techs,
        )
    today = timezone.localdate()
    for who, code, submitted in (
        ("viettel", "HN-IND-OK", today),
        ("mobifone", "HN-IND-LATE", today - timedelta(days=60)),
    ):
        app = services.save_draft(
            people[who],
            application_type=ApplicationType.objects.get(code="public_station"),
            station_code=code,
            station_name=f"Trạm {code}",
            address="Số 1 Phố Thử",
            location=BA_DINH,
            structure_type="rooftop_mast",
            structure_height_m=Decimal("6"),
            building_height_m=Decimal("24"),
            technologies=["4G"],
            land_category="public_building",
        )
        app = services.submit(
            people[who], app, sharing_justification="Cột gần đã hết chỗ.", today=submitted
        )
        app = services.accept(people["official"], app, today=submitted)
        services.approve(people["official"], app, f"{code}/GP-SKHCN")


@pytest.fixture(scope="module")
def data(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("indicator-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=str(media)):
        if not AdministrativeUnit.objects.filter(boundary__isnull=False).exists():
            pytest.skip("no commune boundaries loaded (see ../shared/data/README.md)")
        outer = transaction.atomic()
        outer.__enter__()
        try:
            orgs = {o.code: o for o in Organization.objects.all()}
            people = {
                "official": _user(roles.CITY_OFFICIAL, "SO_KHCN_HN"),
                "viettel": _user(roles.OPERATOR_STAFF, "VIETTEL"),
                "vnpt": _user(roles.OPERATOR_STAFF, "VNPT"),
                "mobifone": _user(roles.OPERATOR_STAFF, "MOBIFONE"),
            }
            _cables(people, orgs)
            _sharing(people, orgs)
            _spam(people)
            _stations(people, orgs)
            yield people
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def test_km_of_cable_as_reported_by_each_day(data):
    key = "cables.km_overhead_removed"
    assert value(key, D1 - timedelta(days=1)) == 0
    assert value(key, D1) == pytest.approx(0.4)
    assert value(key, D2) == pytest.approx(0.6)  # the correction was reported later
    assert value(key, D3) == pytest.approx(0.5)
    assert value(key) == pytest.approx(0.5)
    assert value("cables.km_cable_pulled") == pytest.approx(0.5)
    assert value("cables.km_duct_built") == 0
    assert by(key, "operator") == {"VIETTEL": pytest.approx(0.3), "VNPT": pytest.approx(0.2)}
    assert by(key, "operator", D2) == {"VIETTEL": pytest.approx(0.4), "VNPT": pytest.approx(0.2)}
    assert by(key, "operator", D1 - timedelta(days=1)) == {}
    communes = by(key, "commune")
    assert set(communes) == {"00008", "00025"}  # Ngọc Hà and Giảng Võ
    assert communes["00008"] == pytest.approx(0.5 * 1006 / 1144, abs=0.005)
    assert sum(communes.values()) == pytest.approx(0.5, abs=0.002)


def test_km_planned_as_drawn_by_each_day(data):
    if not indicators.exists("cables.km_planned"):
        pytest.skip("cables.km_planned is not declared")
    yesterday = timezone.localdate() - timedelta(days=1)
    assert value("cables.km_planned") == pytest.approx(1.144, abs=0.005)
    assert value("cables.km_planned", yesterday) == 0  # the segment was drawn today


def test_share_of_shared_towers_on_each_day(data):
    key = "sharing.shared_site_pct"
    assert value(key, date(2023, 12, 31)) is None  # no tower in use yet
    assert value(key, D1 - timedelta(days=1)) == 0.0  # MobiFone's tenancy starts on D1
    assert value(key, D1) == 50.0
    assert value(key, date(2025, 12, 31)) == 50.0
    assert value(key, date(2026, 1, 1)) == 0.0  # ended on 31/12/2025
    assert by(key, "operator", D1) == {"MOBIFONE": 100.0, "VIETTEL": 100.0, "VNPT": 0.0}
    assert by(key, "operator", D1 - timedelta(days=1)) == {"VIETTEL": 0.0, "VNPT": 0.0}


def test_spam_cases_handled_within_the_deadline(data):
    key = "spam_reports.handled_within_sla_pct"
    assert value(key, date(2025, 6, 1)) is None  # nothing answered yet
    assert value(key, date(2025, 6, 2)) == 100.0
    assert value(key) == 50.0
    assert value(key, start=date(2025, 6, 3)) == 0.0  # only the late answer falls in the period
    assert by(key, "operator") == {"VIETTEL": 0.0, "VNPT": 100.0}


def test_spam_reports_received_count_what_was_stored_by_the_day(data):
    key = "spam_reports.reports_received"
    assert value(key) == 2
    assert value(key, date(2025, 6, 30)) == 0  # received on D1 but filed today
    assert by(key, "channel") == {"sms": 2}
    assert by(key, "operator") == {"VIETTEL": 1, "VNPT": 1}
    assert value(key, start=timezone.localdate()) == 0  # received before the period


def test_stations_and_permits(data):
    yesterday = timezone.localdate() - timedelta(days=1)
    # Two stations entered, two granted by the permits.
    assert value("stations.count") == 4
    assert value("stations.count", yesterday) == 0
    assert by("stations.count", "operator") == {"MOBIFONE": 1, "VIETTEL": 2, "VNPT": 1}
    key = "stations.permits_on_time_pct"
    assert value(key) == 50.0
    assert value(key, yesterday) is None
    assert by(key, "operator") == {"MOBIFONE": 0.0, "VIETTEL": 100.0}


def _every_dimension():
    return [(k, d) for k in sorted(REGISTRY) for d in REGISTRY[k].dimensions]


@pytest.mark.parametrize(("key", "dimension"), _every_dimension())
def test_every_declared_breakdown_gives_rows(data, key, dimension):
    rows = indicators.get(key).value(by=dimension)
    assert isinstance(rows, list)
    for row in rows:
        assert set(row) >= {"key", "label", "value"}, row
        assert row["value"] is None or isinstance(row["value"], int | float | Decimal)
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys)), keys


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_every_indicator_gives_a_number_today_and_in_the_past(data, key):
    for as_of in (None, D1, date(2019, 1, 1)):
        result = indicators.get(key).value(as_of=as_of)
        assert result is None or isinstance(result, int | float | Decimal), (as_of, result)
    result = indicators.get(key).value(as_of=D3, start=D1)
    assert result is None or isinstance(result, int | float | Decimal)


ADDITIVE = [
    k
    for k in FIRST_KEYS
    if k in REGISTRY
    and REGISTRY[k].unit in ("count", "km")
    and "operator" in REGISTRY[k].dimensions
]


@pytest.mark.parametrize("key", ADDITIVE)
def test_a_breakdown_by_operator_adds_up_for_counts_and_km(data, key):
    item = indicators.get(key)
    total = item.value()
    assert sum(r["value"] or 0 for r in item.value(by="operator")) == pytest.approx(total)
