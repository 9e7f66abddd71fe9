"""Values within sense on the station register (issue 14), through the API and the form: an operating
station's commissioning date has come; dates within 1900–2100; no control or bidi characters in
codes and identifiers; text stored in NFC. Real PostGIS, no mocks."""

import datetime
import unicodedata

import pytest
from django.utils import timezone, translation

from stations.models import Station
from stations.tests.test_api import STATIONS, feature
from stations.tests.test_views import station_post

pytestmark = pytest.mark.django_db

NFD = unicodedata.normalize("NFD", "Trạm Cầu Giấy")
NFC = unicodedata.normalize("NFC", "Trạm Cầu Giấy")


@pytest.fixture(autouse=True)
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def tomorrow():
    return timezone.localdate() + datetime.timedelta(days=1)


def post(as_role, **properties):
    return as_role("operator_viettel").post(STATIONS, feature(**properties), format="json")


# --- Commissioning date ----------------------------------------------------------------------------


def test_an_operating_station_commissioned_tomorrow_is_refused_by_the_api(as_role):
    response = post(as_role, status="operating", commissioned_on=tomorrow().isoformat())
    assert response.status_code == 400, response.content
    assert "commissioned in the future" in str(response.json()["commissioned_on"])
    assert not Station.objects.exists()


def test_a_planned_station_may_have_a_future_commissioning_date(as_role):
    response = post(as_role, status="planned", commissioned_on=tomorrow().isoformat())
    assert response.status_code == 201, response.content


def test_an_operating_station_commissioned_today_is_fine(as_role):
    response = post(as_role, status="operating", commissioned_on=timezone.localdate().isoformat())
    assert response.status_code == 201, response.content


def test_the_commissioning_rule_holds_on_update_too(as_role, make_station):
    station = make_station("VIETTEL", status="planned", commissioned_on=tomorrow())
    client = as_role("operator_viettel")
    response = client.patch(
        f"{STATIONS}{station.public_id}/", {"status": "operating"}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "commissioned_on" in response.json()
    station.refresh_from_db()
    assert station.status == "planned"


def test_an_operating_station_commissioned_tomorrow_is_a_form_error(
    client, role_user, org, needs_shared_data
):
    client.force_login(role_user("city_official"))
    data = station_post(
        operator=str(org("VIETTEL").pk),
        status="operating",
        commissioned_on=tomorrow().strftime("%d/%m/%Y"),
    )
    response = client.post("/stations/new/", data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "commissioned in the future" in str(errors.get("commissioned_on")), errors
    assert not Station.objects.exists()


# --- Dates within 1900–2100 -----------------------------------------------------------------------


@pytest.mark.parametrize("day", ["9999-12-31", "1899-12-31", "2101-01-01", "0001-01-01"])
def test_a_date_outside_1900_2100_is_a_field_error_in_the_api(as_role, day):
    response = post(as_role, status="planned", commissioned_on=day)
    assert response.status_code == 400, response.content
    assert "between 1900 and 2100" in str(response.json()["commissioned_on"])
    assert not Station.objects.exists()


def test_year_9999_is_a_form_error(client, role_user, org):
    client.force_login(role_user("city_official"))
    data = station_post(
        operator=str(org("VIETTEL").pk), status="operating", commissioned_on="31/12/9999"
    )
    response = client.post("/stations/new/", data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "between 1900 and 2100" in str(errors.get("commissioned_on")), errors
    assert not Station.objects.exists()


def test_year_9999_is_refused_by_the_model_too(make_station):
    from django.core.exceptions import ValidationError

    station = make_station("VIETTEL")
    station.commissioned_on = datetime.date(9999, 12, 31)
    with pytest.raises(ValidationError) as caught:
        station.full_clean(validate_unique=False, validate_constraints=False)
    assert "commissioned_on" in caught.value.message_dict


# --- Codes and identifiers ------------------------------------------------------------------------

# (NUL is refused earlier, by the JSON parser: core.api.parsers.)
HIDDEN = ["\u202e", "\u202a", "\u2066", "\u2069", "\u200e", "\u200f", "\x01", "\x1b", "\x85", "\t"]


@pytest.mark.parametrize("char", HIDDEN)
@pytest.mark.parametrize("field", ["code", "external_id", "source"])
def test_control_and_bidi_characters_in_identifiers_are_refused_by_the_api(as_role, field, char):
    properties = {"source": "viettel-oss", "external_id": "E-1", field: f"VT{char}01"}
    response = post(as_role, **properties)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Station.objects.exists()


@pytest.mark.parametrize("char", ["\u202e", "\u2067", "\x07"])
def test_a_bidi_override_in_the_station_code_is_a_form_error(client, role_user, org, char):
    client.force_login(role_user("city_official"))
    response = client.post(
        "/stations/new/", station_post(operator=str(org("VIETTEL").pk), code=f"HN{char}T-1")
    )
    assert response.status_code == 200
    assert response.context["form"].errors.get("code"), response.context["form"].errors
    assert not Station.objects.exists()


def test_a_plain_code_still_passes(as_role):
    assert post(as_role, code="VT-HN_01.A").status_code == 201


# --- NFC -------------------------------------------------------------------------------------------


def test_decomposed_text_is_stored_composed_through_the_api(as_role):
    assert NFD != NFC
    response = post(as_role, name=NFD, address=f"Số 1 {NFD}")
    assert response.status_code == 201, response.content
    station = Station.objects.get()
    assert station.name == NFC
    assert station.address == f"Số 1 {NFC}"


def test_decomposed_text_is_stored_composed_through_the_form(
    client, role_user, org, needs_shared_data
):
    client.force_login(role_user("city_official"))
    response = client.post(
        "/stations/new/", station_post(operator=str(org("VIETTEL").pk), name=NFD)
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert Station.objects.get().name == NFC
