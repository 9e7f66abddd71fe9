"""Downloads are scoped like the lists (issue 14): the registers open to every role (public sites,
shareable assets: ``open_to_all`` in sync) are offered to everyone; stations and cable segments,
whose lists show an operator only its own records, are offered only to those who see every record.
An operator's staff or client never gets a file holding another operator's stations or segments, and
its lists and change feed hold none either (real PostGIS, real files)."""

# ruff: noqa: F811  (pytest fixtures imported from stations.tests.conftest)
import json

import pytest
from django.contrib.gis.geos import LineString, Point

from stations.tests.conftest import make_station  # noqa: F401
from sync import downloads

pytestmark = pytest.mark.django_db

BA_DINH = Point(105.8342, 21.0358, srid=4326)
RESTRICTED = {"stations", "cable-segments"}
OPEN = {"public-sites", "assets"}


@pytest.fixture
def built(make_station, role_user, org, settings, tmp_path, feed_now):
    from cables import services as cables

    settings.MEDIA_ROOT = tmp_path
    make_station("VIETTEL", code="VT-OWN-1")
    make_station("MOBIFONE", code="MB-RIVAL-1", location=Point(105.8300, 21.0300, srid=4326))
    official = role_user("city_official")
    project = cables.save_project(
        official,
        participants=[org("MOBIFONE")],  # a project Viettel takes no part in
        code="DL-KM-1",
        name="Hạ ngầm cáp (tải về)",
        lead_agency=org("SO_KHCN_HN"),
        year=2026,
    )
    cables.save_segment(
        official,
        project,
        name="Đoạn MobiFone",
        route=LineString((105.8120, 21.0316), (105.8230, 21.0318), srid=4326),
        method="existing_duct",
        operator=org("MOBIFONE"),
    )
    return {(d.resource, d.format): d for d in downloads.build()}


def listed(client):
    response = client.get("/api/v1/downloads/")
    assert response.status_code == 200, response.content
    return {item["resource"] for item in response.json()}


@pytest.mark.parametrize("who", ["operator_viettel", "operator_api_client", "viettel_token"])
def test_an_operator_gets_only_the_open_registers(built, as_role, token_client, who):
    client = token_client(org_code="VIETTEL") if who == "viettel_token" else as_role(who)
    assert listed(client) == OPEN
    for resource in RESTRICTED:
        for fmt in downloads.FORMATS:
            assert client.get(f"/api/v1/downloads/{resource}.{fmt}").status_code == 404
    for resource in OPEN:
        assert client.get(f"/api/v1/downloads/{resource}.csv").status_code == 200


@pytest.mark.parametrize("who", ["city_official", "national_official", "agency_api_client"])
def test_officials_and_agencies_get_every_register(built, as_role, who):
    client = as_role(who)
    assert listed(client) == OPEN | RESTRICTED
    response = client.get("/api/v1/downloads/stations.geojson")
    assert response.status_code == 200
    codes = {
        f["properties"]["code"]
        for f in json.loads(b"".join(response.streaming_content))["features"]
    }
    assert {"VT-OWN-1", "MB-RIVAL-1"} <= codes


def test_the_downloads_page_offers_an_operator_only_the_open_registers(built, client, role_user):
    client.cookies["django_language"] = "en"
    client.force_login(role_user("operator_viettel"))
    page = client.get("/downloads/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="download-assets-csv"' in html
    assert 'data-testid="download-public-sites-geojson"' in html
    assert 'data-testid="download-stations-csv"' not in html
    assert 'data-testid="download-cable-segments-geojson"' not in html


def test_an_operators_lists_map_and_feed_hold_no_rival_records(built, token_client, as_role):
    """The other doors already follow the same rule: no MobiFone station or segment for Viettel."""
    staff = as_role("operator_viettel")
    stations = staff.get("/api/v1/stations/").json()["features"]
    assert {f["properties"]["code"] for f in stations} == {"VT-OWN-1"}
    assert staff.get("/api/v1/cable-segments/").json()["features"] == []
    viettel = token_client(org_code="VIETTEL", scopes={"*": "read"})
    changes = viettel.get("/api/v1/changes/").json()["results"]
    assert changes, "the feed has the changes above"
    for change in changes:
        if change["type"] == "stations":
            assert change["data"]["properties"]["operator"] == "VIETTEL", change
        assert change["type"] != "cable-segments", change
