"""Every API error is the JSON error shape, a write behind an error keeps nothing, hostile input is
a 400 (core.api.exceptions, core.api.middleware, core.api.parsers, core.api.params), and an XLSX
export over EXPORT_MAX_ROWS asks to filter (core.exports)."""

import io
import json
import logging

import pytest
from django.http import Http404, QueryDict
from django.urls import include, path
from rest_framework.decorators import api_view
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from core.api.middleware import query_errors
from core.api.parsers import PayloadTooLarge, SafeJSONParser
from sharing.models import InfrastructureAsset
from stations.models import Station
from stations.tests.conftest import BA_DINH, make_station  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

STATIONS = "/api/v1/stations/"
ASSETS = "/api/v1/assets/"


# --- A test-only URLconf: the project's routes plus views that fail --------------------------------


def crash_outside_drf(request):
    raise RuntimeError("boom outside DRF")


def not_found_outside_drf(request):
    raise Http404("no such thing")


@api_view(["GET", "POST"])
def crash_in_drf(request):
    raise RuntimeError("boom in DRF")


@api_view(["POST"])
def writes_then_crashes(request):
    from core.models import Organization

    Organization.objects.filter(code="VIETTEL").update(name="Written before the crash")
    if request.data.get("how") == "return":
        return Response({"detail": "x", "code": "server_error"}, status=503)
    raise RuntimeError("boom after a write")


urlpatterns = [
    path("api/v1/test-crash/", crash_outside_drf),
    path("api/v1/test-missing/", not_found_outside_drf),
    path("api/v1/test-drf-crash/", crash_in_drf),
    path("api/v1/test-write-crash/", writes_then_crashes),
    path("page-crash/", crash_outside_drf),
    path("", include("hanoi_infra.urls")),
]
handler400 = "core.api.exceptions.bad_request"
handler403 = "core.api.exceptions.permission_denied"
handler404 = "core.api.exceptions.not_found"
handler500 = "core.api.exceptions.server_error"


@pytest.fixture
def viettel(token_client):
    client = token_client(org_code="VIETTEL")
    client.raise_request_exception = False
    return client


@pytest.fixture
def official(as_role):
    client = as_role("city_official")
    client.raise_request_exception = False
    return client


@pytest.fixture
def page_client(client, role_user):
    """Django's test client signed in as Viettel's staff (pages; no second factor needed)."""
    client.force_login(role_user("operator_viettel"))
    client.raise_request_exception = False
    return client


def assert_json_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert body["code"] == code and body["detail"], body
    assert response["Error-Code"] == code


# --- 404 / 405 / 500 are JSON under /api/ ------------------------------------------------------------


def test_unknown_api_url_is_json_404_and_a_page_url_stays_html(viettel, official):
    assert_json_error(viettel.get("/api/v1/nothing-here/"), 404, "not_found")
    assert_json_error(viettel.get("/api/nowhere"), 404, "not_found")
    page = official.get("/nothing-here/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_unknown_record_is_json_404_with_its_code(viettel):
    url = f"{STATIONS}00000000-0000-0000-0000-000000000000/"
    assert_json_error(viettel.get(url), 404, "not_found")


def test_wrong_method_is_json_405(viettel):
    assert_json_error(viettel.delete("/api/v1/units/resolve/?address=x"), 405, "method_not_allowed")


@pytest.mark.urls(__name__)
def test_http404_outside_drf_is_json(viettel):
    assert_json_error(viettel.get("/api/v1/test-missing/"), 404, "not_found")


@pytest.mark.urls(__name__)
def test_crash_outside_drf_is_json_500_under_api_and_html_elsewhere(viettel, page_client):
    assert_json_error(viettel.get("/api/v1/test-crash/"), 500, "server_error")
    page = page_client.get("/page-crash/")
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


@pytest.mark.urls(__name__)
def test_unexpected_exception_in_a_view_is_json_500_and_logged(viettel, caplog):
    with caplog.at_level(logging.ERROR, logger="core.api"):
        response = viettel.get("/api/v1/test-drf-crash/")
    assert_json_error(response, 500, "server_error")
    assert "boom in DRF" not in response.content.decode()  # no internals in the answer
    logged = [r for r in caplog.records if r.name == "core.api"]
    assert logged and logged[0].exc_info and "boom in DRF" in str(logged[0].exc_info[1])


def test_service_failure_in_a_look_up_is_json_500(viettel, monkeypatch):
    from core import services

    def broken(address):
        raise RuntimeError("injected")

    monkeypatch.setattr(services, "resolve_address", broken)
    assert_json_error(viettel.get("/api/v1/units/resolve/?address=Ba"), 500, "server_error")


# --- A 500 never follows a write -----------------------------------------------------------------------


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("how", ["raise", "return"])
def test_a_write_that_fails_after_writing_keeps_nothing(viettel, how):
    from core.models import Organization

    before = Organization.objects.get(code="VIETTEL").name
    response = viettel.post("/api/v1/test-write-crash/", {"how": how}, format="json")
    assert response.status_code in (500, 503) and response.json()["code"] == "server_error"
    assert Organization.objects.get(code="VIETTEL").name == before


def station(code, external_id, **properties):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [BA_DINH.x, BA_DINH.y]},
        "properties": {
            "operator": "VIETTEL",
            "code": code,
            "name": "Trạm",
            "structure_type": "monopole",
            "structure_height_m": 30,
            "land_category": "public_land",
            "technologies": ["4G"],
            "source": "VIETTEL",
            **properties,
        },
        "external_id": external_id,
    }


def asset(code, external_id):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [BA_DINH.x, BA_DINH.y]},
        "properties": {
            "owner": "VIETTEL",
            "code": code,
            "name": "Cột",
            "kind": "tower",
            "capacity": 2,
        },
        "source": "VIETTEL",
        "external_id": external_id,
    }


def test_single_create_whose_service_fails_after_saving_keeps_nothing(viettel, monkeypatch):
    from core.exceptions import Conflict
    from stations import services

    real = services.create_station

    def saves_then_fails(user, **data):
        real(user, **data)
        raise Conflict("injected after the save")

    monkeypatch.setattr(services, "create_station", saves_then_fails)
    response = viettel.post(STATIONS, station("ERR-1", "E1"), format="json")
    assert_json_error(response, 409, "conflict")
    assert not Station.objects.filter(code="ERR-1").exists()

    def saves_then_crashes(user, **data):
        real(user, **data)
        raise RuntimeError("injected")

    monkeypatch.setattr(services, "create_station", saves_then_crashes)
    response = viettel.post(STATIONS, station("ERR-2", "E2"), format="json")
    assert_json_error(response, 500, "server_error")
    assert not Station.objects.filter(code="ERR-2").exists()


@pytest.fixture
def second_asset_save_fails(monkeypatch):
    """The asset register's row service (sharing.services.save_asset) raises on its 2nd call."""
    from sharing import services

    real, calls = services.save_asset, []

    def save_asset(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("injected on the second record")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "save_asset", save_asset)
    return calls


def assets_batch(mode):
    records = [asset(f"BK-{n}", f"BK-{n}") for n in range(3)]
    return {"mode": mode, "records": records}


def test_bulk_atomic_with_a_failure_after_the_first_record_keeps_nothing(
    viettel, second_asset_save_fails
):
    response = viettel.post(f"{ASSETS}bulk/", assets_batch("atomic"), format="json")
    assert_json_error(response, 500, "server_error")
    assert len(second_asset_save_fails) == 2
    assert not InfrastructureAsset.objects.filter(code__startswith="BK-").exists()


def test_bulk_partial_with_a_failure_stores_the_others(viettel, second_asset_save_fails):
    response = viettel.post(f"{ASSETS}bulk/", assets_batch("partial"), format="json")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "error", "created"]
    assert "error on our side" in results[1]["errors"]["non_field_errors"][0]
    stored = set(
        InfrastructureAsset.objects.filter(code__startswith="BK-").values_list("code", flat=True)
    )
    assert stored == {"BK-0", "BK-2"}


@pytest.fixture
def station_row_b_fails(monkeypatch):
    """The station register's batched write (stations.services.bulk._write_bulk_rows) fails
    whenever it writes the record with external id "B"."""
    from stations.services import bulk as services

    real = services._write_bulk_rows

    def write(rows):
        if any(final["external_id"] == "B" for _n, final in rows):
            raise RuntimeError("injected on record B")
        return real(rows)

    monkeypatch.setattr(services, "_write_bulk_rows", write)


def stations_batch(mode):
    records = [station(f"SB-{key}", key) for key in ("A", "B", "C")]
    return {"mode": mode, "records": records}


def test_station_bulk_atomic_with_an_unexpected_failure_keeps_nothing(viettel, station_row_b_fails):
    response = viettel.post(f"{STATIONS}bulk/", stations_batch("atomic"), format="json")
    assert_json_error(response, 500, "server_error")
    assert not Station.objects.filter(code__startswith="SB-").exists()


def test_station_bulk_partial_with_an_unexpected_failure_stores_the_others(
    viettel, station_row_b_fails
):
    response = viettel.post(f"{STATIONS}bulk/", stations_batch("partial"), format="json")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "error", "created"]
    assert results[1]["errors"]["non_field_errors"]
    stored = set(Station.objects.filter(code__startswith="SB-").values_list("code", flat=True))
    assert stored == {"SB-A", "SB-C"}


def test_lone_surrogate_in_a_partial_bulk_is_400_json_and_writes_nothing(viettel):
    """The issue's case: an HTML 500 that had committed the other records."""
    body = json.dumps(stations_batch("partial"), ensure_ascii=True)
    body = body.replace('"SB-B"', '"SB-B", "status": "\\ud800"', 1)
    assert "\\ud800" in body
    response = viettel.post(f"{STATIONS}bulk/", body, content_type="application/json")
    assert response.status_code == 400 and response["Error-Code"] == "invalid"
    assert "surrogate" in response.json()["records.1.properties.status"][0]
    assert not Station.objects.filter(code__startswith="SB-").exists()


# --- The JSON parser -----------------------------------------------------------------------------------


def raw_post(client, url, text):
    return client.post(url, text, content_type="application/json")


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        (
            '{"mode": "partial", "records": [{"status": "\\ud800"}]}',
            "records.0.status",
            "surrogate",
        ),
        ('{"mode": "partial", "records": [{"\\udfff": 1}]}', "records.0", "surrogate"),
        ('{"records": [{"name": "a\\u0000b"}]}', "records.0.name", "NUL"),
        ('{"records": ["ok", "\\u0000"]}', "records.1", "NUL"),
        ('"\\ud800"', "non_field_errors", "surrogate"),
    ],
)
def test_bad_characters_in_json_are_400_field_errors(viettel, text, field, words):
    response = raw_post(viettel, f"{STATIONS}bulk/", text)
    assert response.status_code == 400 and response["Error-Code"] == "invalid", response.content
    assert words in response.json()[field][0]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"records": ' + "[" * 40 + "]" * 40 + "}", "nested"),
        ("[" * 100_000 + "]" * 100_000, "nested"),
        ('{"records": [NaN]}', "JSON parse error"),
        ('{"records": [', "JSON parse error"),
    ],
)
def test_hostile_json_is_400_with_a_clear_message(viettel, text, words):
    response = raw_post(viettel, f"{STATIONS}bulk/", text)
    assert_json_error(response, 400, "parse_error")
    assert words in response.json()["detail"]


def test_hostile_json_in_choice_and_look_up_fields_is_400(viettel, official):
    for name in ("operator", "status", "structure_type"):
        body = json.dumps(station("LS-1", "LS-1", **{name: "@@"})).replace('"@@"', '"\\ud800"')
        for text in (body, body.replace("\\ud800", "\\u0000")):
            response = raw_post(viettel, STATIONS, text)
            assert response.status_code == 400 and response["Error-Code"] == "invalid"
            assert list(response.json()) == [f"properties.{name}"]
    assert not Station.objects.filter(code="LS-1").exists()


def test_nesting_up_to_the_limit_and_surrogate_pairs_are_accepted(settings):
    parser = SafeJSONParser()
    deep = "[" * 32 + "]" * 32
    assert parser.parse(io.BytesIO(deep.encode())) == json.loads(deep)
    with pytest.raises(ParseError):
        parser.parse(io.BytesIO(("[" * 33 + "]" * 33).encode()))
    emoji = parser.parse(io.BytesIO(b'{"name": "\\ud83d\\udce1 Tr\\u1ea1m"}'))
    assert emoji == {"name": "\U0001f4e1 Trạm"}
    settings.API_JSON_MAX_DEPTH = 2
    assert parser.parse(io.BytesIO(b'{"a": {"b": 1}}')) == {"a": {"b": 1}}
    with pytest.raises(ParseError):
        parser.parse(io.BytesIO(b'{"a": {"b": [1]}}'))


def test_body_over_the_limit_is_refused_by_the_parser_without_a_content_length(settings):
    settings.SYNC_MAX_BODY_BYTES = 100
    parser = SafeJSONParser()
    assert parser.parse(io.BytesIO(b'{"a": "' + b"x" * 80 + b'"}')) == {"a": "x" * 80}
    with pytest.raises(PayloadTooLarge):
        parser.parse(io.BytesIO(b'{"a": "' + b"x" * 200 + b'"}'))


def test_nul_in_a_form_field_is_400(official):
    response = official.post(
        "/api/v1/spam-reports/", {"channel": "sms", "sender": "09\x0012"}, format="multipart"
    )
    assert response.status_code == 400 and "NUL" in response.json()["sender"][0]


# --- Query parameters -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/api/v1/units/resolve/?address=%00", "address"),
        ("/api/v1/units/?name=a%00b", "name"),
        ("/api/v1/stations/?code=%00", "code"),
        (f"{STATIONS}by-source/VIETTEL/a%00b/", "path"),
    ],
)
def test_nul_in_a_query_parameter_or_path_is_400(viettel, url, param):
    response = viettel.get(url)
    assert response.status_code == 400, response.content
    assert response["Error-Code"] == "invalid"
    assert param in response.json()


def test_nul_in_a_page_filter_is_400(page_client):
    response = page_client.get("/stations/?code=%00")
    assert response.status_code == 400


def test_lone_surrogate_in_a_query_parameter_is_refused():
    class Request:
        path_info = "/api/v1/units/"
        GET = QueryDict(mutable=True)

    Request.GET["name"] = "\ud800"
    assert list(query_errors(Request)) == ["name"]
    Request.GET = QueryDict("name=Ba%20%C4%90%C3%ACnh")
    assert query_errors(Request) == {}


# --- Dates out of range -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/spam-statistics/?period=year&date=9999-12-31", "date"),
        ("/api/v1/spam-statistics/?period=day&date=0001-01-01", "date"),
        ("/api/v1/cable-projects/?as_of=9999-12-31", "as_of"),
        ("/api/v1/cable-totals/?by=commune&as_of=9999-12-31", "as_of"),
        ("/api/v1/indicators/stations.count/?as_of=9999-12-31", "as_of"),
        ("/api/v1/indicators/stations.count/?start=0001-01-01", "start"),
        ("/api/v1/spam-reports/?received_before=9999-12-31", "received_before"),
        ("/api/v1/spam-cases/?seen_after=0001-01-01", "seen_after"),
    ],
)
def test_out_of_range_dates_in_queries_are_400_with_a_field_message(official, url, field):
    response = official.get(url)
    assert response.status_code == 400, response.content
    assert "1900" in response.json()[field][0]


def test_out_of_range_date_on_the_statistics_page_is_a_form_error(page_client):
    response = page_client.get("/spam/statistics/?period=year&date=9999-12-31")
    assert response.status_code == 200
    assert "1900" in response.content.decode()


# --- OPTIONS on a by-source URL ---------------------------------------------------------------------------


def test_options_on_a_by_source_url_is_200(viettel):
    url = f"{STATIONS}by-source/VIETTEL/OPT-1/"
    response = viettel.options(url)
    assert response.status_code == 200, response.content
    assert viettel.put(url, station("OPT-1", "OPT-1"), format="json").status_code == 201
    response = viettel.options(url)
    assert response.status_code == 200, response.content
    assert "PUT" in response.json().get("actions", {})


# --- XLSX export cap ---------------------------------------------------------------------------------------


def test_xlsx_export_over_the_cap_asks_to_filter(page_client, make_station, settings):  # noqa: F811
    for _n in range(3):
        make_station()
    client = page_client
    settings.EXPORT_MAX_ROWS = 2
    response = client.get("/stations/", {"operator": "VIETTEL", "export": "xlsx"})
    assert response.status_code == 302
    assert response["Location"] == "/stations/?operator=VIETTEL"
    page = client.get(response["Location"])
    assert "vượt quá giới hạn của một tệp Excel" in page.content.decode()  # Vietnamese first
    csv = client.get("/stations/", {"export": "csv"})
    assert csv.status_code == 200 and len(b"".join(csv.streaming_content).splitlines()) == 4
    settings.EXPORT_MAX_ROWS = 3
    response = client.get("/stations/", {"operator": "VIETTEL", "export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
