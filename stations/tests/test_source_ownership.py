"""Source keys belong to their organisation (issue 14): nobody but the source's own organisation
(or a city official, who keeps the registers) sets or moves a record's (source, external_id), at any
door: the HTML form, the session API (PATCH, PUT by source, bulk), a token client's PATCH, the
import. The rule is sync.services.may_use_source, checked by check_source_key in the services of
stations, public sites and assets."""

import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from sharing.models import InfrastructureAsset
from stations import services
from stations.models import Station
from stations.tests.conftest import BA_DINH

pytestmark = pytest.mark.django_db

STATIONS = "/api/v1/stations/"
ASSETS = "/api/v1/assets/"


@pytest.fixture(autouse=True)
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def lan(make_user):
    return make_user("operator_staff", "VIETTEL")


@pytest.fixture
def session(as_role, lan):
    client = as_role("anonymous")
    client.force_authenticate(lan)
    return client


@pytest.fixture
def station(make_station):
    return make_station("VIETTEL", source="VIETTEL", external_id="VT-OSS-1")


def key(obj):
    obj.refresh_from_db()
    return (obj.source, obj.external_id)


# --- Session API ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"source": "MOBIFONE", "external_id": "MB-1"},  # into a rival's keys
        {"source": "MOBIFONE"},
        {"source": "", "external_id": ""},  # allowed: own source left for none
    ],
)
def test_a_session_patch_sets_only_its_own_source(session, station, change):
    response = session.patch(f"{STATIONS}{station.public_id}/", change, format="json")
    if change.get("source") == "MOBIFONE":
        assert response.status_code == 400, response.content
        assert "source" in response.json(), response.json()
        assert key(station) == ("VIETTEL", "VT-OSS-1")
    else:
        assert response.status_code == 200, response.content
        assert key(station) == ("", "")


def test_a_session_cannot_move_a_record_out_of_another_source(session, make_station):
    """A Viettel station that the Cục's system keeps under its source: Viettel's staff edit its
    fields, but not its key (the Cục's upserts would then create a second station)."""
    kept = make_station("VIETTEL", source="CUC_VT", external_id="C-77")
    response = session.patch(f"{STATIONS}{kept.public_id}/", {"external_id": "C-78"}, format="json")
    assert response.status_code == 400 and "source" in response.json(), response.content
    response = session.patch(f"{STATIONS}{kept.public_id}/", {"name": "Đổi tên"}, format="json")
    assert response.status_code == 200, response.content
    assert key(kept) == ("CUC_VT", "C-77")


def test_a_session_put_by_another_source_is_refused(session, station):
    body = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [BA_DINH.x, BA_DINH.y]},
        "properties": {
            "operator": "VIETTEL",
            "code": "VT-X",
            "name": "Trạm",
            "structure_type": "monopole",
            "structure_height_m": 30,
            "land_category": "public_land",
            "technologies": ["4G"],
        },
    }
    response = session.put(f"{STATIONS}by-source/MOBIFONE/MB-9/", body, format="json")
    assert response.status_code == 403 and response.json()["code"] == "source_not_owned"
    record = {**body, "properties": {**body["properties"], "source": "MOBIFONE"}}
    record["properties"]["external_id"] = "MB-9"
    response = session.post(
        f"{STATIONS}bulk/", {"mode": "partial", "records": [record]}, format="json"
    )
    assert response.status_code == 200, response.content
    result = response.json()["results"][0]
    assert result["status"] == "error" and "source" in result["errors"]
    assert not Station.objects.filter(external_id="MB-9").exists()
    response = session.put(f"{STATIONS}by-source/VIETTEL/VT-9/", body, format="json")
    assert response.status_code == 201, response.content


def test_a_token_clients_patch_sets_only_its_own_source(token_client, station):
    viettel = token_client(org_code="VIETTEL")
    response = viettel.patch(
        f"{STATIONS}{station.public_id}/",
        {"source": "MOBIFONE", "external_id": "MB-2"},
        format="json",
    )
    assert response.status_code == 400 and "source" in response.json(), response.content
    assert key(station) == ("VIETTEL", "VT-OSS-1")


def test_a_city_official_keeps_the_register_and_may_set_any_source(as_role, station):
    response = as_role("city_official").patch(
        f"{STATIONS}{station.public_id}/",
        {"source": "MOBIFONE", "external_id": "MB-3"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert key(station) == ("MOBIFONE", "MB-3")


# --- The HTML form and the import -------------------------------------------------------------------


def test_the_html_form_never_changes_the_key(client, lan, station, needs_shared_data):
    client.force_login(lan)
    data = {
        "operator": str(station.operator_id),
        "code": station.code,
        "name": "Trạm mới",
        "address": "Hà Nội",
        "commune": str(station.commune_id),
        "lon": str(BA_DINH.x),
        "lat": str(BA_DINH.y),
        "structure_type": "monopole",
        "structure_height_m": "30",
        "technologies": ["4G"],
        "land_category": "public_land",
        "status": "operating",
        "source": "MOBIFONE",
        "external_id": "MB-4",
    }
    response = client.post(f"/stations/{station.public_id}/edit/", data)
    assert response.status_code == 302, response.content[:1500]
    station.refresh_from_db()
    assert station.name == "Trạm mới" and key(station) == ("VIETTEL", "VT-OSS-1")


def test_the_service_refuses_what_no_form_offers(lan, station):
    """Whatever door builds the call: the service itself refuses another organisation's source."""
    from core.exceptions import InvalidInput

    with pytest.raises(InvalidInput) as exc:
        services.update_station(lan, station, source="MOBIFONE", external_id="MB-5")
    assert "source" in exc.value.errors
    with pytest.raises(InvalidInput):
        services.create_station(
            lan,
            operator=station.operator,
            code="VT-NEW",
            name="Trạm",
            location=BA_DINH,
            structure_type="monopole",
            structure_height_m=30,
            land_category="public_land",
            technologies=["4G"],
            source="MOBIFONE",
            external_id="MB-6",
        )
    assert key(station) == ("VIETTEL", "VT-OSS-1")
    assert not Station.objects.filter(code="VT-NEW").exists()


def test_the_import_keeps_the_key(lan, station, needs_shared_data):
    header = (
        "operator,code,name,address,commune,lon,lat,structure_type,structure_height_m,"
        "building_height_m,technologies,land_category,status,permit_reference,commissioned_on,"
        "source,external_id\n"
    )
    row = (
        f"VIETTEL,{station.code},Trạm nhập,Hà Nội,,{BA_DINH.x},{BA_DINH.y},monopole,30,,4G,"
        "public_land,operating,,,MOBIFONE,MB-7\n"
    )
    result = services.import_stations(lan, SimpleUploadedFile("s.csv", (header + row).encode()))
    assert result.updated == 1
    assert key(station) == ("VIETTEL", "VT-OSS-1")


# --- Other synced registers ---------------------------------------------------------------------------


def test_an_asset_takes_only_its_owners_source(session, lan):
    from sharing import services as sharing_services

    asset = sharing_services.save_asset(
        lan,
        code="VT-COT-1",
        name="Cột",
        kind="tower",
        owner=lan.organization,
        geometry=Point(BA_DINH.x, BA_DINH.y, srid=4326),
        capacity=3,
        source="VIETTEL",
        external_id="A-1",
    )
    response = session.patch(
        f"{ASSETS}{asset.public_id}/", {"source": "VNPT", "external_id": "A-1"}, format="json"
    )
    assert response.status_code == 400 and "source" in response.json(), response.content
    assert key(asset) == ("VIETTEL", "A-1")
    assert InfrastructureAsset.objects.filter(source="VNPT").count() == 0
