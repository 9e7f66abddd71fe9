"""The sharing app's HTML pages: the permission matrix, bad input through the forms, exports and
query counts."""

import csv
import io

import pytest
from django.contrib.gis.geos import LineString, Point
from django.utils import translation
from openpyxl import load_workbook

from conftest import ROLE_USERS
from core.models import AdministrativeUnit, Organization
from sharing import services
from sharing.models import InfrastructureAsset, SharingRequest, Tenancy

pytestmark = pytest.mark.django_db

ROLES = list(ROLE_USERS)
SEES_ALL = {"city_official", "national_official", "agency_api_client", "administrator"}
CITY = {"city_official", "administrator"}
# An operator's staff or API client acting for it (VNPT's API client is the third operator).
OPERATORS = {"operator_viettel", "operator_mobifone", "operator_api_client"}
BA_DINH = Point(105.8345, 21.0360, srid=4326)


@pytest.fixture(autouse=True)
def english(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def login(client, role_user):
    def log_in(role):
        user = role_user(role)
        if user is not None:
            client.force_login(user)
        return user

    return log_in


@pytest.fixture
def official(make_user):
    return make_user("city_official", "SO_KHCN_HN")


@pytest.fixture
def viettel(make_user):
    return make_user("operator_staff", "VIETTEL")


@pytest.fixture
def mobifone(make_user):
    return make_user("operator_staff", "MOBIFONE")


@pytest.fixture
def make_asset(official):
    counter = {"n": 0}

    def make(owner="VIETTEL", capacity=2, **fields):
        counter["n"] += 1
        data = {
            "code": f"T-{counter['n']:04d}",
            "name": f"Cột thử {counter['n']}",
            "kind": "tower",
            "geometry": BA_DINH,
            "commune": AdministrativeUnit.objects.get(code="00004"),
            "capacity": capacity,
        }
        data.update(fields)
        return services.save_asset(official, owner=Organization.objects.get(code=owner), **data)

    return make


@pytest.fixture
def tower(make_asset):
    return make_asset(code="T-0231", name="Cột Viettel Ba Đình")


@pytest.fixture
def request_(tower, mobifone):
    return services.create_request(mobifone, asset=tower, units=2, needs="Hai ăng ten 5G")


# --- Permission matrix ------------------------------------------------------------------------------

LIST_PAGES = [
    "/sharing/",
    "/sharing/assets/",
    "/sharing/assets/map/",
    "/sharing/assets/map.geojson",
    "/sharing/requests/",
]


@pytest.mark.parametrize("url", LIST_PAGES)
@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_list_pages_need_a_login_and_open_for_every_role(client, login, url, role):
    login(role)
    response = client.get(url)
    if role == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    elif role == "no_role":
        assert response.status_code == 403  # an account without a role: core.access
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_asset_and_request_pages_are_scoped(client, login, tower, request_, role):
    login(role)
    asset_page = client.get(f"/sharing/assets/{tower.public_id}/")
    request_page = client.get(f"/sharing/requests/{request_.pk}/")
    if role == "anonymous":
        assert asset_page.status_code == request_page.status_code == 302
        return
    if role == "no_role":
        assert asset_page.status_code == request_page.status_code == 403  # core.access
        return
    # The register is for every portal role; a request for its two parties and officials only.
    assert asset_page.status_code == 200
    parties = {"operator_viettel", "operator_mobifone"}
    assert request_page.status_code == (200 if role in SEES_ALL | parties else 404)


@pytest.mark.parametrize("role", ROLES)
def test_create_and_edit_asset_pages(client, login, tower, role):
    login(role)
    may_create = role in CITY | OPERATORS | {"agency_api_client"}
    assert client.get("/sharing/assets/new/").status_code == (200 if may_create else 403)
    response = client.get(f"/sharing/assets/{tower.public_id}/edit/")
    if role in CITY or role == "operator_viettel":
        assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_request_form_for_operators_only(client, login, tower, role):
    login(role)
    response = client.get(f"/sharing/requests/new/?asset={tower.public_id}")
    assert response.status_code == (200 if role in OPERATORS else 403)


@pytest.mark.parametrize("role", ROLES)
def test_ask_button_only_for_other_operators(client, login, tower, role):
    login(role)
    response = client.get(f"/sharing/assets/{tower.public_id}/")
    if role == "no_role":
        return
    shown = b'data-testid="ask-to-share"' in response.content
    assert shown == (role in {"operator_mobifone", "operator_api_client"})


def test_a_third_operator_gets_404_on_every_request_url(client, make_user, request_):
    client.force_login(make_user("operator_staff", "VNPT"))
    assert client.get(f"/sharing/requests/{request_.pk}/").status_code == 404
    for url, data in (
        (f"/sharing/requests/{request_.pk}/accept/", {"accept-version": 1}),
        (f"/sharing/requests/{request_.pk}/withdraw/", {"withdraw-version": 1}),
        (f"/sharing/requests/{request_.pk}/messages/", {"msg-text": "hi"}),
    ):
        assert client.post(url, data).status_code == 404, url
    request_.refresh_from_db()
    assert request_.status == "submitted"


def test_the_inbox_is_scoped_and_split_into_received_and_sent(
    client, viettel, mobifone, make_user, request_
):
    client.force_login(viettel)
    received = client.get("/sharing/requests/", {"box": "received"}).context["object_list"]
    assert [r.pk for r in received] == [request_.pk]
    assert not list(client.get("/sharing/requests/", {"box": "sent"}).context["object_list"])
    client.force_login(mobifone)
    sent = client.get("/sharing/requests/", {"box": "sent"}).context["object_list"]
    assert [r.pk for r in sent] == [request_.pk]
    client.force_login(make_user("operator_staff", "VNPT"))
    assert not list(client.get("/sharing/requests/").context["object_list"])


def test_the_inbox_searches_by_number_and_highlights_overdue(client, viettel, request_):
    import datetime

    services.mark_overdue(today=request_.response_due + datetime.timedelta(days=1))
    client.force_login(viettel)
    response = client.get("/sharing/requests/", {"q": request_.number})
    assert [r.pk for r in response.context["object_list"]] == [request_.pk]
    assert b'data-overdue="yes"' in response.content
    assert not list(client.get("/sharing/requests/", {"q": "CS-1999"}).context["object_list"])


# --- Bad input: clear messages, nothing changed --------------------------------------------------


def test_asking_to_share_ones_own_asset_is_a_form_error(client, viettel, tower):
    client.force_login(viettel)
    response = client.post(
        f"/sharing/requests/new/?asset={tower.public_id}", {"units": 1, "needs": "x"}
    )
    assert response.status_code == 200
    assert "cannot ask to share its own asset" in " ".join(
        response.context["form"].non_field_errors()
    )
    assert not SharingRequest.objects.exists()


def test_asking_beyond_free_capacity_is_a_form_error(client, mobifone, tower):
    client.force_login(mobifone)
    response = client.post(
        f"/sharing/requests/new/?asset={tower.public_id}", {"units": 3, "needs": "x"}
    )
    assert response.status_code == 200
    assert "Only 2 of 2" in response.context["form"].errors["units"][0]
    assert not SharingRequest.objects.exists()


def test_a_tenancy_beyond_free_capacity_is_a_form_error(client, viettel, tower):
    client.force_login(viettel)
    response = client.post(
        f"/sharing/assets/{tower.public_id}/tenancies/",
        {"tenancy-operator": Organization.objects.get(code="VNPT").pk, "tenancy-units": 5},
    )
    assert response.status_code == 400
    assert "Only 2 of 2" in response.context["tenancy_form"].errors["units"][0]
    tower.refresh_from_db()
    assert tower.used_capacity == 0 and not Tenancy.objects.exists()


def test_record_and_end_a_tenancy(client, viettel, tower):
    client.force_login(viettel)
    response = client.post(
        f"/sharing/assets/{tower.public_id}/tenancies/",
        {"tenancy-operator": Organization.objects.get(code="VNPT").pk, "tenancy-units": 1},
    )
    assert response.status_code == 302
    tower.refresh_from_db()
    assert tower.free_capacity == 1
    tenancy = Tenancy.objects.get()
    assert client.post(f"/sharing/tenancies/{tenancy.pk}/end/").status_code == 302
    tower.refresh_from_db()
    assert tower.free_capacity == 2


def test_a_decision_by_a_party_is_refused_with_a_message(client, viettel, mobifone, request_):
    services.refuse(viettel, request_, "Cột đã đầy tải.")
    req = services.escalate(mobifone, request_)
    client.force_login(mobifone)
    response = client.post(
        f"/sharing/requests/{req.pk}/decide/",
        {"decide-version": req.version, "decide-outcome": "share", "decide-decision_number": "1"},
        follow=True,
    )
    assert response.status_code == 200
    assert any(m.level_tag == "error" for m in response.context["messages"])
    req.refresh_from_db()
    assert req.status == "disputed" and not req.decision_number


def test_a_counter_offer_on_a_closed_request_is_refused(client, viettel, mobifone, make_asset):
    asset = make_asset(capacity=4)
    req = services.create_request(mobifone, asset=asset, units=2, needs="x")
    req = services.accept(viettel, req)
    client.force_login(viettel)
    response = client.post(
        f"/sharing/requests/{req.pk}/counter/",
        {"counter-version": req.version, "counter-units": 1},
        follow=True,
    )
    assert response.status_code == 200
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert errors and "closed" in errors[0]
    req.refresh_from_db()
    assert req.status == "accepted" and req.counter_units is None


def test_a_refusal_without_reason_is_a_field_error(client, viettel, request_):
    client.force_login(viettel)
    response = client.post(
        f"/sharing/requests/{request_.pk}/refuse/", {"refuse-version": 1, "refuse-reason": " "}
    )
    assert response.status_code == 400
    assert b'data-testid="error-reason"' in response.content
    request_.refresh_from_db()
    assert request_.status == "submitted"


def test_a_stale_version_is_a_message_not_a_500(client, viettel, request_):
    client.force_login(viettel)
    response = client.post(
        f"/sharing/requests/{request_.pk}/accept/", {"accept-version": 99}, follow=True
    )
    assert any("Someone else" in str(m) for m in response.context["messages"])
    request_.refresh_from_db()
    assert request_.status == "submitted"


def test_create_an_asset_from_lon_lat_and_a_duct_from_the_map(client, viettel):
    client.force_login(viettel)
    data = {
        "owner": Organization.objects.get(code="VIETTEL").pk,
        "code": "T-NEW",
        "name": "Cột mới",
        "kind": "tower",
        "capacity": 3,
        "condition": "good",
        "status": "active",
        "shareable": "on",
        "lon": str(BA_DINH.x),
        "lat": str(BA_DINH.y),
    }
    response = client.post("/sharing/assets/new/", data)
    assert response.status_code == 302, response.context["form"].errors
    assert InfrastructureAsset.objects.get(code="T-NEW").commune.code == "00004"
    line = LineString((105.8345, 21.0360), (105.8355, 21.0365), srid=4326)
    duct = {**data, "code": "D-1", "kind": "duct", "lon": "", "lat": "", "geometry": line.geojson}
    assert client.post("/sharing/assets/new/", duct).status_code == 302
    assert InfrastructureAsset.objects.get(code="D-1").length_m > 100


def test_an_operator_cannot_register_for_another_owner_or_outside_vietnam(client, viettel):
    client.force_login(viettel)
    data = {
        "owner": Organization.objects.get(code="MOBIFONE").pk,
        "code": "X",
        "name": "x",
        "kind": "tower",
        "capacity": 1,
        "condition": "good",
        "status": "active",
        "lon": "2.35",
        "lat": "48.85",
    }
    response = client.post("/sharing/assets/new/", data)
    assert response.status_code == 200 and response.context["form"].errors["owner"]
    data["owner"] = Organization.objects.get(code="VIETTEL").pk
    response = client.post("/sharing/assets/new/", data)
    assert response.status_code == 200
    assert "outside Vietnam" in str(response.context["form"].errors)
    assert not InfrastructureAsset.objects.exists()


# --- Exports and query counts ---------------------------------------------------------------------


def test_csv_and_xlsx_exports_hold_the_filtered_rows(client, login, make_asset):
    make_asset(code="V-1")
    make_asset(owner="MOBIFONE", code="M-1")
    login("operator_viettel")
    response = client.get("/sharing/assets/", {"owner": "VIETTEL", "export": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    assert [r["code"] for r in rows] == ["V-1"] and rows[0]["free_capacity"] == "2"
    response = client.get("/sharing/assets/", {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    codes = sorted(row[1] for row in sheet.iter_rows(min_row=2, values_only=True))
    assert codes == ["M-1", "V-1"]


@pytest.mark.parametrize("n", [3, 55])
def test_query_counts_do_not_grow_with_rows(
    client, make_asset, mobifone, official, django_assert_max_num_queries, n
):
    for i in range(n):
        asset = make_asset(code=f"Q-{i:03d}", capacity=3)
        services.create_request(mobifone, asset=asset, units=1, needs="x")
    client.force_login(official)
    with django_assert_max_num_queries(10):
        response = client.get("/sharing/assets/", {"ordering": "-free"})
    assert len(response.context["object_list"]) == min(n, 50)
    with django_assert_max_num_queries(10):
        response = client.get("/sharing/requests/")
    assert len(response.context["object_list"]) == min(n, 50)
    with django_assert_max_num_queries(6):
        client.get("/sharing/assets/map.geojson")
    with django_assert_max_num_queries(6):
        client.get("/sharing/assets/", {"export": "csv"}).getvalue()
    with django_assert_max_num_queries(10):
        client.get("/sharing/")
    client.force_login(mobifone)
    with django_assert_max_num_queries(10):
        client.get("/sharing/requests/", {"box": "sent"})
