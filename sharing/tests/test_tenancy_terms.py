"""The tenancy a sharing request grants takes its fields from the terms the owner states — where on
the asset, contract number, start and end dates — when it accepts or counter-offers (issue 15):
never from the request's ``needs`` or the counter-offer's free-text note. Through the services, the
HTML forms and the API, on the real database."""

from datetime import date, timedelta

import pytest
from django.contrib.gis.geos import Point
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from core.exceptions import Conflict, InvalidInput
from core.models import AdministrativeUnit, Notification, Organization
from sharing import services
from sharing.models import SharingEvent, SharingRequest, Tenancy

pytestmark = pytest.mark.django_db
R = SharingRequest.Status
BA_DINH = Point(105.8345, 21.0360, srid=4326)
NEEDS = "Lắp 2 ăng-ten 5G ở độ cao 30 m, dùng chung nguồn điện của trạm."
REQUESTS = "/api/v1/sharing-requests/"
LOCATION = "Tầng ăng-ten 2, hướng Đông"
CONTRACT = "HĐ-DC-2026/017"
START, END = date(2026, 7, 1), date(2029, 6, 30)
TERMS = {
    "location": LOCATION,
    "contract_number": CONTRACT,
    "start_date": START,
    "end_date": END,
}
API_TERMS = {**TERMS, "start_date": START.isoformat(), "end_date": END.isoformat()}

# (terms, the field the error is on): each refused, through every door, with nothing written.
BAD_TERMS = [
    pytest.param(
        {"start_date": "2026-07-01", "end_date": "2026-06-30"}, "end_date", id="end-first"
    ),
    pytest.param({"start_date": "1899-12-31"}, "start_date", id="start-1899"),
    pytest.param({"end_date": "2101-01-01"}, "end_date", id="end-2101"),
    pytest.param({"location": "x" * 256}, "location", id="location-too-long"),
    pytest.param({"contract_number": "H" * 101}, "contract_number", id="contract-too-long"),
    pytest.param({"contract_number": "HĐ\u202e-17"}, "contract_number", id="contract-bidi"),
]
# The same, as a service caller passes them (dates as dates).
SERVICE_BAD_TERMS = [
    pytest.param({"start_date": START, "end_date": START - timedelta(days=1)}, "end_date"),
    pytest.param({"start_date": date(1899, 12, 31)}, "start_date"),
    pytest.param({"end_date": date(2101, 1, 1)}, "end_date"),
    pytest.param({"location": "x" * 256}, "location"),
    pytest.param({"contract_number": "H" * 101}, "contract_number"),
    pytest.param({"contract_number": "HĐ\u202e-17"}, "contract_number"),
]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def viettel(make_user):
    return make_user("operator_staff", "VIETTEL")


@pytest.fixture
def mobifone(make_user):
    return make_user("operator_staff", "MOBIFONE")


@pytest.fixture
def tower(make_user):
    official = make_user("city_official", "SO_KHCN_HN")
    return services.save_asset(
        official,
        code="T-0231",
        name="Cột Viettel Ba Đình",
        kind="tower",
        owner=Organization.objects.get(code="VIETTEL"),
        geometry=BA_DINH,
        commune=AdministrativeUnit.objects.get(code="00004"),
        capacity=4,
    )


@pytest.fixture
def req(tower, mobifone):
    return services.create_request(mobifone, asset=tower, units=2, needs=NEEDS)


@pytest.fixture
def countered(req, viettel):
    return services.counter_offer(
        viettel,
        req,
        1,
        terms="Một vị trí; giá thuê 12 triệu đồng/năm theo khung 2026.",
        expected_version=req.version,
        **TERMS,
    )


def written(req):
    """What a refused step must leave as it was."""
    req.refresh_from_db()
    req.asset.refresh_from_db()
    return (
        req.status,
        req.version,
        req.counter_units,
        req.counter_location,
        req.counter_contract_number,
        req.counter_start_date,
        req.counter_end_date,
        Tenancy.objects.count(),
        req.asset.used_capacity,
        SharingEvent.objects.filter(request=req).count(),
        Notification.objects.count(),
    )


def tenancy_fields(req):
    tenancy = Tenancy.objects.get(request=req)
    return (
        tenancy.units,
        tenancy.occupies,
        tenancy.terms_reference,
        tenancy.since,
        tenancy.until,
    )


# --- Services ------------------------------------------------------------------------------------------


def test_accept_grants_the_tenancy_on_the_stated_terms(req, viettel):
    services.accept(viettel, req, expected_version=req.version, **TERMS)
    assert tenancy_fields(req) == (2, LOCATION, CONTRACT, START, END)


def test_accept_without_terms_keeps_the_old_defaults_but_never_the_needs(req, viettel):
    services.accept(viettel, req)
    req.refresh_from_db()
    assert tenancy_fields(req) == (2, "", req.number, timezone.localdate(), None)


def test_accept_takes_the_older_terms_argument_as_the_contract_number(req, viettel):
    services.accept(viettel, req, terms="HĐ 12/2026")
    assert Tenancy.objects.get(request=req).terms_reference == "HĐ 12/2026"


def test_accept_refuses_two_different_contract_numbers(req, viettel):
    before = written(req)
    with pytest.raises(InvalidInput) as caught:
        services.accept(viettel, req, terms="HĐ 1", contract_number="HĐ 2")
    assert set(caught.value.errors) == {"terms"}
    assert written(req) == before


def test_a_counter_offer_keeps_its_terms_and_accepting_it_grants_exactly_them(countered, mobifone):
    assert countered.status == R.COUNTERED
    assert (
        countered.counter_units,
        countered.counter_location,
        countered.counter_contract_number,
        countered.counter_start_date,
        countered.counter_end_date,
    ) == (1, LOCATION, CONTRACT, START, END)
    assert countered.counter_terms.startswith("Một vị trí")  # the free text stays a note
    done = services.accept_counter(mobifone, countered, expected_version=countered.version)
    assert done.status == R.ACCEPTED
    assert tenancy_fields(done) == (1, LOCATION, CONTRACT, START, END)


def test_a_counter_offer_without_terms_grants_from_the_acceptance_day(req, viettel, mobifone):
    note = "Chỉ còn 1 vị trí ở độ cao 24 m; hợp đồng HĐ-2026/99 sẽ ký sau."
    countered = services.counter_offer(viettel, req, 1, terms=note)
    assert countered.counter_start_date is None and countered.counter_location == ""
    done = services.accept_counter(mobifone, countered)
    tenancy = Tenancy.objects.get(request=done)
    assert tenancy_fields(done) == (1, "", done.number, timezone.localdate(), None)
    # Neither the needs nor the note became a tenancy field (the old defect).
    assert NEEDS[:255] != tenancy.occupies and note[:100] != tenancy.terms_reference


def test_a_counter_offer_ending_before_today_without_a_start_is_refused(req, viettel):
    before = written(req)
    with pytest.raises(InvalidInput) as caught:
        services.counter_offer(viettel, req, 1, end_date=timezone.localdate() - timedelta(days=1))
    assert set(caught.value.errors) == {"end_date"}
    assert written(req) == before


def test_accepting_a_counter_offer_whose_end_has_passed_is_refused(req, viettel, mobifone):
    countered = services.counter_offer(
        viettel, req, 1, end_date=timezone.localdate() + timedelta(days=10)
    )
    # Time passes: the offered end date is behind us when the requester answers.
    SharingRequest.objects.filter(pk=req.pk).update(
        counter_end_date=timezone.localdate() - timedelta(days=1)
    )
    before = written(countered)
    with pytest.raises(Conflict):
        services.accept_counter(mobifone, countered)
    assert written(countered) == before


@pytest.mark.parametrize("step", ["accept", "counter_offer"])
@pytest.mark.parametrize(("terms", "field"), SERVICE_BAD_TERMS)
def test_bad_terms_are_field_errors_and_write_nothing(req, viettel, step, terms, field):
    before = written(req)
    args = (1,) if step == "counter_offer" else ()
    with pytest.raises(InvalidInput) as caught:
        getattr(services, step)(viettel, req, *args, expected_version=req.version, **terms)
    assert set(caught.value.errors) == {field}
    assert written(req) == before


def test_the_database_refuses_counter_dates_out_of_order(req):
    with pytest.raises(IntegrityError), transaction.atomic():
        SharingRequest.objects.filter(pk=req.pk).update(
            counter_start_date=START, counter_end_date=START - timedelta(days=1)
        )


def test_a_regulators_share_decision_does_not_take_the_needs_as_location(req, viettel, make_user):
    official = make_user("city_official", "SO_KHCN_HN")
    req = services.refuse(viettel, req, "Không đủ tải trọng")
    req = services.escalate(viettel, req)
    done = services.decide(official, req, "share", "17/QĐ-SKHCN")
    assert tenancy_fields(done)[1:3] == ("", "17/QĐ-SKHCN")


def test_create_tenancy_refuses_an_end_before_its_start(tower, viettel):
    with pytest.raises(InvalidInput) as caught:
        services.create_tenancy(
            viettel,
            tower,
            Organization.objects.get(code="VNPT"),
            1,
            since=START,
            until=START - timedelta(days=1),
        )
    assert set(caught.value.errors) == {"until"}
    assert not Tenancy.objects.exists()


# --- HTML forms ----------------------------------------------------------------------------------------


def post_form(client, req, action, fields, **extra):
    data = {f"{action}-version": req.version, **{f"{action}-{k}": v for k, v in fields.items()}}
    return client.post(f"/sharing/requests/{req.pk}/{action}/", data, **extra)


def test_the_request_page_asks_the_owner_for_the_terms(client, req, viettel):
    client.force_login(viettel)
    page = client.get(f"/sharing/requests/{req.pk}/").content.decode()
    for action in ("accept", "counter"):
        for name in ("location", "contract_number", "start_date", "end_date"):
            assert f'name="{action}-{name}"' in page
    # Accepting starts today unless said otherwise; a counter-offer leaves the start open.
    assert f'name="accept-start_date" value="{timezone.localdate().isoformat()}"' in page
    assert 'name="counter-start_date" value=' not in page


def test_the_accept_form_grants_the_stated_terms(client, req, viettel):
    client.force_login(viettel)
    response = post_form(client, req, "accept", {**API_TERMS, "note": "Đồng ý"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert tenancy_fields(req) == (2, LOCATION, CONTRACT, START, END)
    page = client.get(f"/sharing/requests/{req.pk}/").content.decode()
    assert LOCATION in page and CONTRACT in page


def test_the_counter_form_and_accepting_it_grant_the_offered_terms(client, req, viettel, mobifone):
    client.force_login(viettel)
    note = "Giá thuê 12 triệu đồng/năm."
    response = post_form(client, req, "counter", {"units": 1, "terms": note, **API_TERMS})
    assert response.status_code == 302, response.content.decode()[:2000]
    req.refresh_from_db()
    assert (req.counter_location, req.counter_contract_number, req.counter_terms) == (
        LOCATION,
        CONTRACT,
        note,
    )
    client.force_login(mobifone)
    page = client.get(f"/sharing/requests/{req.pk}/").content.decode()
    assert LOCATION in page and CONTRACT in page and "30/06/2029" in page
    response = post_form(client, req, "accept_counter", {})
    assert response.status_code == 302
    assert tenancy_fields(req) == (1, LOCATION, CONTRACT, START, END)


@pytest.mark.parametrize("action", ["accept", "counter"])
@pytest.mark.parametrize(("terms", "field"), BAD_TERMS)
def test_bad_terms_through_the_form_are_field_errors(client, req, viettel, action, terms, field):
    client.force_login(viettel)
    before = written(req)
    units = {"units": 1} if action == "counter" else {}
    response = post_form(client, req, action, {**units, **terms})
    assert response.status_code == 400
    form = next(f["form"] for f in response.context["action_forms"] if f["action"] == action)
    assert list(form.errors) == [field], form.errors
    assert written(req) == before


def test_a_date_out_of_range_is_a_vietnamese_form_error(client, req, viettel):
    client.force_login(viettel)
    with translation.override("vi"):
        response = post_form(
            client, req, "accept", {"end_date": "2101-01-01"}, HTTP_ACCEPT_LANGUAGE="vi"
        )
    assert response.status_code == 400
    assert "Vui lòng nhập ngày trong khoảng từ 1900 đến 2100." in response.content.decode()
    assert not Tenancy.objects.exists()


# --- API -----------------------------------------------------------------------------------------------


@pytest.fixture
def api(viettel, mobifone):
    from rest_framework.test import APIClient

    def client_for(user):
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        client.force_authenticate(user)
        return client

    return {"owner": client_for(viettel), "requester": client_for(mobifone)}


def test_api_accept_grants_the_stated_terms(api, req):
    response = api["owner"].post(
        f"{REQUESTS}{req.pk}/accept/", {"version": req.version, **API_TERMS}, format="json"
    )
    assert response.status_code == 200, response.content
    [tenancy] = response.json()["tenancies"]
    assert (tenancy["occupies"], tenancy["terms_reference"]) == (LOCATION, CONTRACT)
    assert (tenancy["since"], tenancy["until"]) == ("2026-07-01", "2029-06-30")
    assert tenancy_fields(req) == (2, LOCATION, CONTRACT, START, END)


def test_api_clients_that_send_no_terms_work_as_before(api, req):
    response = api["owner"].post(f"{REQUESTS}{req.pk}/accept/", {"terms": "HĐ 7"}, format="json")
    assert response.status_code == 200, response.content
    assert tenancy_fields(req) == (2, "", "HĐ 7", timezone.localdate(), None)


def test_api_counter_offer_and_accept_counter_grant_the_offered_terms(api, req):
    url = f"{REQUESTS}{req.pk}/"
    countered = api["owner"].post(
        f"{url}counter/",
        {"units": 1, "terms": "Giá thuê 12 triệu/năm", "version": req.version, **API_TERMS},
        format="json",
    )
    assert countered.status_code == 200, countered.content
    body = countered.json()
    assert {k: body[k] for k in body if k.startswith("counter_")} == {
        "counter_units": 1,
        "counter_location": LOCATION,
        "counter_contract_number": CONTRACT,
        "counter_start_date": "2026-07-01",
        "counter_end_date": "2029-06-30",
        "counter_terms": "Giá thuê 12 triệu/năm",
    }
    accepted = api["requester"].post(
        f"{url}accept-counter/", {"version": body["version"]}, format="json"
    )
    assert accepted.status_code == 200, accepted.content
    assert tenancy_fields(req) == (1, LOCATION, CONTRACT, START, END)


def test_api_counter_offer_without_terms_works_as_before(api, req):
    url = f"{REQUESTS}{req.pk}/"
    countered = api["owner"].post(
        f"{url}counter/", {"units": 1, "terms": "HĐ-2026-01"}, format="json"
    )
    assert countered.status_code == 200, countered.content
    assert api["requester"].post(f"{url}accept-counter/", {}, format="json").status_code == 200
    req.refresh_from_db()
    # The note "HĐ-2026-01" is not the contract number, nor the needs the location.
    assert tenancy_fields(req) == (1, "", req.number, timezone.localdate(), None)


@pytest.mark.parametrize("action", ["accept", "counter"])
@pytest.mark.parametrize(("terms", "field"), BAD_TERMS)
def test_bad_terms_through_the_api_are_400_field_errors(api, req, action, terms, field):
    before = written(req)
    units = {"units": 1} if action == "counter" else {}
    response = api["owner"].post(
        f"{REQUESTS}{req.pk}/{action}/", {"version": req.version, **units, **terms}, format="json"
    )
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field], response.json()
    assert written(req) == before


def test_the_schema_documents_the_terms(api):
    response = api["owner"].get("/api/schema/?format=json")
    assert response.status_code == 200, response.content[:300]
    schema = response.json()["components"]["schemas"]
    for name in ("SharingAcceptRequest", "SharingCounterRequest"):
        properties = schema[name]["properties"]
        assert {"location", "contract_number", "start_date", "end_date"} <= set(properties)
        assert properties["start_date"]["format"] == properties["end_date"]["format"] == "date"
        assert properties["location"]["maxLength"] == 255
        assert properties["contract_number"]["maxLength"] == 100
    detail = schema["SharingRequestDetail"]["properties"]
    for name in ("counter_location", "counter_contract_number", "counter_start_date"):
        assert detail[name]["readOnly"] is True
    assert "occupies" in schema["RequestTenancy"]["properties"]
