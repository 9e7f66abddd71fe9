"""The sharing rules through the services (real PostGIS, no mocks)."""

from datetime import date

import pytest
from django.contrib.gis.geos import LineString, Point
from django.db import IntegrityError, transaction
from django.utils import translation

from core.exceptions import Conflict, InvalidInput, InvalidTransition, PermissionDenied
from core.models import Notification, Organization
from sharing import selectors, services
from sharing.models import InfrastructureAsset, SharingRequest, Tenancy

pytestmark = pytest.mark.django_db
R = SharingRequest.Status
BA_DINH = Point(105.8345, 21.0360, srid=4326)
NEAR = Point(105.8380, 21.0360, srid=4326)  # ~360 m east


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def people(role_user, make_user):
    return {
        "viettel": role_user("operator_viettel"),
        "mobifone": role_user("operator_mobifone"),
        "vnpt": make_user("operator_staff", "VNPT"),
        "official": role_user("city_official"),
        "national": role_user("national_official"),
    }


def org(code):
    return Organization.objects.get(code=code)


@pytest.fixture
def tower(people):
    """Viettel's tower T-0231: 4 slots, Viettel uses 2 itself, 2 free."""
    asset = services.save_asset(
        people["viettel"],
        code="T-0231",
        name="Cột Đội Cấn",
        kind="tower",
        owner=org("VIETTEL"),
        geometry=BA_DINH,
        capacity=4,
    )
    services.create_tenancy(people["viettel"], asset, org("VIETTEL"), 2, occupies="2 ăng ten")
    asset.refresh_from_db()
    return asset


def test_asset_commune_is_found_from_the_point_and_free_capacity_follows_tenancies(tower):
    assert tower.commune.code == "00004"
    assert (tower.capacity, tower.used_capacity, tower.free_capacity) == (4, 2, 2)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"geometry": Point(2.35, 48.85, srid=4326)}, "geometry"),
        (
            {"geometry": LineString((105.83, 21.03), (105.84, 21.03), srid=4326)},
            "geometry",
        ),  # a tower is a point
        ({"capacity": 0}, "capacity"),
        ({"kind": "spaceship"}, "kind"),
    ],
)
def test_bad_asset_input_is_refused(people, fields, field):
    data = {
        "code": "X-1",
        "name": "Thử",
        "kind": "tower",
        "owner": org("VIETTEL"),
        "geometry": BA_DINH,
        "capacity": 3,
    }
    data.update(fields)
    with pytest.raises(InvalidInput) as exc:
        services.save_asset(people["viettel"], **data)
    assert field in exc.value.errors
    assert not InfrastructureAsset.objects.filter(code="X-1").exists()


def test_duct_route_length_is_computed_in_metres(people):
    route = LineString((105.8300, 21.0300), (105.8400, 21.0300), srid=4326)
    duct = services.save_asset(
        people["official"],
        code="D-1",
        name="Tuyến cống Kim Mã",
        kind="duct",
        owner=org("VNPT"),
        geometry=route,
        capacity=6,
    )
    assert 1030 < duct.length_m < 1045  # 0.01° of longitude at 21°N


def test_an_operator_cannot_register_assets_for_another(people):
    with pytest.raises(PermissionDenied):
        services.save_asset(
            people["mobifone"],
            code="X",
            name="X",
            kind="tower",
            owner=org("VIETTEL"),
            geometry=BA_DINH,
            capacity=2,
        )


def test_tenancy_beyond_free_capacity_is_refused_and_nothing_changes(people, tower):
    with pytest.raises(InvalidInput) as exc:
        services.create_tenancy(people["viettel"], tower, org("MOBIFONE"), 3)
    assert "Only 2 of 4" in str(exc.value.errors["units"][0])
    tower.refresh_from_db()
    assert tower.used_capacity == 2 and tower.tenancies.count() == 1


def test_the_database_refuses_over_allocation_even_bypassing_services(tower):
    with pytest.raises(IntegrityError), transaction.atomic():
        InfrastructureAsset.objects.filter(pk=tower.pk).update(used_capacity=5)


def test_capacity_cannot_drop_below_what_is_used(people, tower):
    with pytest.raises(InvalidInput):
        services.save_asset(people["viettel"], tower, capacity=1)


def test_ending_a_tenancy_frees_its_capacity(people, tower):
    tenancy = services.create_tenancy(people["viettel"], tower, org("MOBIFONE"), 1)
    services.end_tenancy(people["viettel"], tenancy)
    tower.refresh_from_db()
    assert tower.used_capacity == 2
    with pytest.raises(InvalidTransition):
        services.end_tenancy(people["viettel"], tenancy)


# --- Requests -------------------------------------------------------------------------------------


def ask(people, tower, units=2, who="mobifone", today=date(2026, 11, 2)):
    return services.create_request(
        people[who], asset=tower, units=units, needs="2 ăng ten 5G ở độ cao 30 m", today=today
    )


def test_request_gets_a_number_deadline_and_notifies_the_owner(people, tower):
    req = ask(people, tower)
    assert req.number == f"CS-2026-{req.pk:06d}" and req.owner.code == "VIETTEL"
    # 22 working days after Monday 02/11/2026; 24/11 (Vietnam Cultural Day) does not count.
    assert req.response_due == date(2026, 12, 3)
    assert Notification.objects.filter(
        recipient=people["viettel"], title__contains=req.number
    ).exists()


def test_asking_to_share_ones_own_asset_is_refused(people, tower):
    with pytest.raises(InvalidInput):
        ask(people, tower, who="viettel")
    assert not SharingRequest.objects.exists()


def test_the_database_refuses_a_request_to_oneself(people, tower):
    req = ask(people, tower)
    with pytest.raises(IntegrityError), transaction.atomic():
        SharingRequest.objects.filter(pk=req.pk).update(owner=req.requester)


def test_journey_three_counter_offer_accepted(people, tower):
    req = ask(people, tower)
    req = services.counter_offer(
        people["viettel"], req, 1, terms="1 vị trí, 12 triệu/năm", expected_version=req.version
    )
    assert req.status == R.COUNTERED
    req = services.accept_counter(people["mobifone"], req, expected_version=req.version)
    assert req.status == R.ACCEPTED
    tower.refresh_from_db()
    assert tower.free_capacity == 1
    tenancy = Tenancy.objects.get(request=req)
    assert (tenancy.operator.code, tenancy.units) == ("MOBIFONE", 1)


def test_owner_accepts_the_request_as_asked(people, tower):
    req = services.accept(people["viettel"], ask(people, tower), terms="HĐ 12/2026")
    tower.refresh_from_db()
    assert req.status == R.ACCEPTED and tower.free_capacity == 0
    assert Tenancy.objects.get(request=req).terms_reference == "HĐ 12/2026"


def test_accepting_more_than_is_free_rolls_back(people, tower):
    req = ask(people, tower, units=2)
    services.create_tenancy(people["viettel"], tower, org("VNPT"), 1)  # meanwhile one slot is let
    with pytest.raises(InvalidInput):
        services.accept(people["viettel"], req)
    req.refresh_from_db()
    assert req.status == R.SUBMITTED and not Tenancy.objects.filter(request=req).exists()


@pytest.mark.parametrize(
    ("action", "who"),
    [
        ("accept", "mobifone"),
        ("refuse", "mobifone"),
        ("counter_offer", "vnpt"),
        ("withdraw", "viettel"),
        ("accept", "official"),
        ("decide", "viettel"),
    ],
)
def test_parties_may_only_take_their_own_steps(people, tower, action, who):
    req = ask(people, tower)
    args = {"refuse": ("Không đủ tải",), "counter_offer": (1,), "decide": ("share", "1/QĐ")}.get(
        action, ()
    )
    with pytest.raises((PermissionDenied, InvalidTransition)):
        getattr(services, action)(people[who], req, *args)
    req.refresh_from_db()
    assert req.status == R.SUBMITTED


def test_counter_offer_on_a_closed_request_is_a_conflict(people, tower):
    req = services.withdraw(people["mobifone"], ask(people, tower))
    with pytest.raises(Conflict):
        services.counter_offer(people["viettel"], req, 1)
    req.refresh_from_db()
    assert req.status == R.WITHDRAWN and req.counter_units is None


def test_stale_version_is_a_conflict(people, tower):
    req = ask(people, tower)
    seen = req.version
    services.refuse(people["viettel"], req, "Cột đã đầy", expected_version=seen)
    with pytest.raises(Conflict):
        services.counter_offer(people["viettel"], req, 1, expected_version=seen)


def test_escalation_needs_a_refusal_or_the_deadline_passed(people, tower):
    req = ask(people, tower)
    with pytest.raises(InvalidTransition):
        services.escalate(people["mobifone"], req)
    assert services.mark_overdue(today=date(2026, 12, 3)).overdue == 0  # the deadline day itself
    assert services.mark_overdue(today=date(2026, 12, 4)).overdue == 1
    assert services.mark_overdue(today=date(2026, 12, 5)).overdue == 0  # once
    req.refresh_from_db()
    assert req.overdue and req.status == R.SUBMITTED
    req = services.escalate(people["mobifone"], req)
    assert req.status == R.DISPUTED and req.escalated_by.code == "MOBIFONE"
    assert Notification.objects.filter(
        recipient=people["official"], title__contains=req.number
    ).exists()


def test_official_decision_binds_both_parties(people, tower):
    req = services.refuse(people["viettel"], ask(people, tower, units=1), "Không muốn chia sẻ")
    req = services.escalate(people["viettel"], req)  # either party may escalate
    with pytest.raises(PermissionDenied):
        services.decide(people["national"], req, "share", "5/QĐ-SKHCN")
    with pytest.raises(InvalidInput):
        services.decide(people["official"], req, "maybe", "")
    req = services.decide(
        people["official"], req, "share", "5/QĐ-SKHCN", text="Đủ điều kiện kỹ thuật"
    )
    assert req.status == R.DECIDED and req.outcome == "share"
    assert Tenancy.objects.get(request=req).operator.code == "MOBIFONE"
    with pytest.raises(Conflict):
        services.decide(people["official"], req, "no_share", "6/QĐ")


def test_area_request_is_granted_on_an_asset_the_owner_names(people, tower):
    req = services.create_request(
        people["mobifone"],
        owner=org("VIETTEL"),
        point=NEAR,
        radius_m=500,
        units=1,
        needs="Bất kỳ cột nào gần đây",
    )
    assert req.asset is None
    with pytest.raises(InvalidInput):
        services.accept(people["viettel"], req)  # which asset?
    req = services.accept(people["viettel"], req, asset=tower)
    assert req.asset == tower and Tenancy.objects.filter(request=req, asset=tower).exists()


def test_free_assets_near_lists_other_owners_with_free_capacity(people, tower):
    full = services.save_asset(
        people["official"],
        code="T-FULL",
        name="Đầy",
        kind="tower",
        owner=org("VNPT"),
        geometry=NEAR,
        capacity=1,
    )
    services.create_tenancy(people["official"], full, org("VNPT"), 1)
    found = selectors.free_assets_near(NEAR, 500, exclude_owner=org("MOBIFONE").pk)
    assert [a.code for a in found] == ["T-0231"]
    assert 330 < found[0].distance_m < 390 and found[0].free_capacity == 2
    assert selectors.free_assets_near(NEAR, 500, exclude_owner=org("VIETTEL").pk) == []


def test_shared_site_ratio_is_computed_from_tenancies(people, tower):
    lonely = services.save_asset(
        people["official"],
        code="T-2",
        name="Riêng",
        kind="tower",
        owner=org("VNPT"),
        geometry=NEAR,
        capacity=3,
    )
    services.create_tenancy(people["official"], lonely, org("VNPT"), 1)
    services.create_tenancy(people["viettel"], tower, org("MOBIFONE"), 1)
    by_operator = {r["key"]: r for r in selectors.shared_site_ratio("operator")}
    assert by_operator["VIETTEL"] == {"key": "VIETTEL", "sites": 1, "shared": 1, "ratio": 1.0}
    assert by_operator["VNPT"]["ratio"] == 0.0
    by_commune = {r["key"]: r for r in selectors.shared_site_ratio("commune")}
    assert by_commune["00004"]["sites"] == 2 and by_commune["00004"]["shared"] == 1
