"""The change feed (sync.capture, sync.feed, /api/v1/changes/): every create, update and
delete of every synced resource, in commit order, with the record's API Feature; cursors, pruning,
scoping, seeding and query counts. Real PostGIS, no mocks.

Most tests run inside the test's transaction and number its changes as they are written
(``feed_now``); the concurrency tests commit for real from several threads (``transactional_db``).
"""

import base64
import random
import threading
import time
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.gis.geos import LineString
from django.core import signing
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AdministrativeUnit, Organization
from stations.models import PermitApplication, PublicSite, Station
from stations.tests import conftest as station_fixtures
from stations.tests.conftest import BA_DINH
from sync import capture, feed
from sync.models import Change, ChangeFeedState, IdempotencyRecord

# The stations app's factories, used here as fixtures.
app_type = station_fixtures.app_type
make_application = station_fixtures.make_application
make_site = station_fixtures.make_site
make_station = station_fixtures.make_station

CHANGES = "/api/v1/changes/"
DETAIL = {
    "stations": "/api/v1/stations/{}/",
    "public-sites": "/api/v1/public-sites/{}/",
    "assets": "/api/v1/assets/{}/",
    "cable-segments": "/api/v1/cable-segments/{}/",
}
KIM_MA = [[105.8120, 21.0316], [105.8230, 21.0318]]
DOI_CAN = [[105.8160, 21.0350], [105.8250, 21.0352]]
# Properties a detail gives that the feed's Feature does not (yet) carry: a segment's progress in
# metres comes from its progress updates, which cables/sync.py does not declare.
DETAIL_ONLY = {"cable-segments": {"duct_built_m", "cable_pulled_m", "overhead_removed_m"}}


# --- Factories and helpers ---------------------------------------------------------------------


@pytest.fixture
def make_asset(db):
    counter = {"n": 0}

    def make(owner_code="VIETTEL", geometry=BA_DINH, **fields):
        from sharing.models import InfrastructureAsset

        counter["n"] += 1
        defaults = {
            "code": f"A-{counter['n']:05d}",
            "name": f"Cột thử {counter['n']}",
            "kind": "tower",
            "capacity": 2,
            "commune": AdministrativeUnit.objects.get(code="00004"),
        }
        defaults.update(fields)
        return InfrastructureAsset.objects.create(
            owner=Organization.objects.get(code=owner_code), geometry=geometry, **defaults
        )

    return make


@pytest.fixture
def official(role_user):
    return role_user("city_official")


@pytest.fixture
def make_project(db):
    counter = {"n": 0}

    def make(participants=("VIETTEL", "MOBIFONE"), **fields):
        from cables.models import CableProject

        counter["n"] += 1
        project = CableProject.objects.create(
            code=fields.pop("code", f"NH-{counter['n']:03d}"),
            name=f"Ngầm hoá phố {counter['n']}",
            lead_agency=Organization.objects.get(code="VNPT"),
            year=2025,
            **fields,
        )
        project.participants.set(Organization.objects.filter(code__in=participants))
        return project

    return make


@pytest.fixture
def make_segment(official, make_project):
    """make_segment(operator="VIETTEL", coords=KIM_MA, project=None) through the cables service."""

    def make(operator="VIETTEL", coords=KIM_MA, project=None, **fields):
        from cables import services

        return services.save_segment(
            official,
            project or make_project(),
            name=fields.pop("name", "Phố Kim Mã"),
            route=LineString(coords, srid=4326),
            method="new_duct_bank",
            operator=Organization.objects.get(code=operator) if operator else None,
            **fields,
        )

    return make


@pytest.fixture
def make_record(make_station, make_site, make_asset, make_segment):
    """make_record(resource, org_code) -> a new record of that synced resource."""

    def make(resource, org_code="VIETTEL"):
        if resource == "stations":
            return make_station(operator_code=org_code)
        if resource == "public-sites":
            return make_site(owner=Organization.objects.get(code=org_code))
        if resource == "assets":
            return make_asset(owner_code=org_code)
        return make_segment(operator=org_code)

    return make


def events(http, after=None, limit=None, **params):
    """Every event the client gets from ``after`` to the end, following ``next``; (events, next)."""
    found = []
    while True:
        query = dict(params)
        if after:
            query["after"] = after
        if limit:
            query["limit"] = limit
        response = http.get(CHANGES, query)
        assert response.status_code == 200, response.content[:500]
        page = response.json()
        found += page["results"]
        after = page["next"]
        if not page["has_more"]:
            return found, after


def of(found, record):
    return [e for e in found if e["id"] == str(record.public_id)]


def normalised(feature, only=None):
    """A Feature with its timestamps parsed (PostgreSQL writes 12:00:00.1+00:00 where Python
    writes 12:00:00.100000+00:00) and, with ``only``, just those properties."""
    properties = {}
    for key, value in feature["properties"].items():
        if only is not None and key not in only:
            continue
        if key.endswith("_at") and value:
            value = datetime.fromisoformat(value)
        properties[key] = value
    return {
        "type": feature["type"],
        "id": feature["id"],
        "geometry": feature["geometry"],
        "properties": properties,
    }


def assert_same_feature(resource, data, detail):
    """The feed's Feature is the API detail's (except the properties listed in DETAIL_ONLY)."""
    assert set(data["properties"]) <= set(detail["properties"])
    assert set(detail["properties"]) - set(data["properties"]) <= DETAIL_ONLY.get(resource, set())
    assert normalised(data) == normalised(detail, only=data["properties"])


def cursor_of(seq):
    return feed.encode_cursor(seq)


def seq_of(cursor):
    return feed.decode_cursor(cursor)


# --- Create, update, delete of every resource ------------------------------------------------------

RESOURCES = ["stations", "public-sites", "assets", "cable-segments"]


@pytest.mark.parametrize("resource", RESOURCES)
def test_create_update_delete_give_events_with_the_detail_feature(
    feed_now, token_client, make_record, resource
):
    http = token_client()
    start = cursor_of(feed.head_seq())
    record = make_record(resource)
    url = DETAIL[resource].format(record.public_id)
    details = [http.get(url).json()]
    record.name = "Tên mới"
    record.save()
    details.append(http.get(url).json())
    record.name = "Tên mới hơn"
    record.save()
    details.append(http.get(url).json())
    public_id = record.public_id
    record.delete()

    found, _next = events(http, after=start)
    mine = [e for e in found if e["id"] == str(public_id)]
    assert [e["action"] for e in mine] == ["create", "update", "update", "delete"]
    assert [e["version"] for e in mine] == [1, 2, 3, 4]
    assert {e["type"] for e in mine} == {resource}
    seqs = [e["seq"] for e in mine]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4
    for event, detail in zip(mine, details, strict=False):
        assert_same_feature(resource, event["data"], detail)
    assert mine[1]["data"]["properties"]["name"] == "Tên mới"
    assert mine[-1]["data"] is None


def test_an_update_that_changes_nothing_in_the_feature_writes_no_event(
    feed_now,
    token_client,
    make_station,
    make_site,
):
    http = token_client()
    station = make_station(structure_height_m=Decimal("30"))
    site = make_site()
    head = cursor_of(feed.head_seq())
    Station.objects.filter(pk=station.pk).update(name=F("name"))
    Station.objects.filter(pk=station.pk).update(structure_height_m=Decimal("30.0"))
    PublicSite.objects.filter(pk=site.pk).update(capacity=F("capacity"))
    # Organisation fields the Features do not show: no event for its stations, sites, assets.
    Organization.objects.filter(code="VIETTEL").update(name=F("name"))
    assert events(http, after=head)[0] == []
    # save() moves updated_at, which the Feature shows: that is a change.
    station.save()
    found = events(http, after=head)[0]
    assert [(e["action"], e["version"]) for e in found] == [("update", 2)]


def test_bulk_update_and_delete_are_captured(feed_now, token_client, make_station):
    http = token_client()
    stations = [make_station() for _ in range(5)]
    head = cursor_of(feed.head_seq())
    ids = [s.pk for s in stations]
    assert Station.objects.filter(pk__in=ids).update(status="suspended") == 5
    found = events(http, after=head)[0]
    assert sorted(e["id"] for e in found) == sorted(str(s.public_id) for s in stations)
    assert {(e["action"], e["version"], e["data"]["properties"]["status"]) for e in found} == {
        ("update", 2, "suspended")
    }
    head = cursor_of(feed.head_seq())
    Station.objects.filter(pk__in=ids).delete()
    found = events(http, after=head)[0]
    assert sorted(e["id"] for e in found) == sorted(str(s.public_id) for s in stations)
    assert {(e["action"], e["version"], e["data"]) for e in found} == {("delete", 3, None)}


def test_an_import_upsert_is_captured(feed_now, token_client, official):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from stations import services

    header = (
        "operator,code,name,address,commune,lon,lat,structure_type,structure_height_m,"
        "building_height_m,technologies,land_category,status,permit_reference,commissioned_on\n"
    )
    rows = [
        "VIETTEL,VT-IMP-1,Trạm nhập 1,Phố Đội Cấn,00004,105.8345,21.0360,monopole,30,,4G;5G,"
        "public_land,operating,,01/02/2024\n",
        "VIETTEL,VT-IMP-2,Trạm nhập 2,Phố Đội Cấn,00004,105.8355,21.0365,monopole,20,,4G,"
        "public_land,operating,,\n",
    ]

    def upload(text):
        return SimpleUploadedFile("stations.csv", text.encode())

    http = token_client()
    head = cursor_of(feed.head_seq())
    result = services.import_stations(official, upload(header + "".join(rows)))
    assert (result.created, result.updated) == (2, 0)
    first, second = Station.objects.get(code="VT-IMP-1"), Station.objects.get(code="VT-IMP-2")
    found = events(http, after=head)[0]
    assert [(e["id"], e["action"], e["version"]) for e in found] == [
        (str(first.public_id), "create", 1),
        (str(second.public_id), "create", 1),
    ]
    assert_same_feature(
        "stations", found[0]["data"], http.get(DETAIL["stations"].format(first.public_id)).json()
    )
    head = cursor_of(feed.head_seq())
    result = services.import_stations(
        official, upload(header + rows[0].replace(",30,", ",36,") + rows[1])
    )
    assert (result.created, result.updated) == (0, 2)
    found = of(events(http, after=head)[0], first)
    assert [(e["action"], e["version"]) for e in found] == [("update", 2)]
    assert found[0]["data"]["properties"]["structure_height_m"] == 36
    assert_same_feature(
        "stations", found[0]["data"], http.get(DETAIL["stations"].format(first.public_id)).json()
    )


# --- Properties read from other tables -----------------------------------------------------------


def test_an_approved_application_changes_its_site_feature(
    feed_now,
    token_client,
    make_site,
    make_application,
    role_user,
):
    http = token_client()
    site = make_site(capacity=2)
    application = make_application(role_user("operator_viettel"), public_site=site)
    head = cursor_of(feed.head_seq())
    PermitApplication.objects.filter(pk=application.pk).update(status="approved")
    found = of(events(http, after=head)[0], site)
    assert [(e["action"], e["data"]["properties"]["taken"]) for e in found] == [("update", 1)]
    assert_same_feature(
        "public-sites",
        found[0]["data"],
        http.get(DETAIL["public-sites"].format(site.public_id)).json(),
    )
    # A change the Feature does not show (the application's name) writes nothing.
    head = cursor_of(feed.head_seq())
    PermitApplication.objects.filter(pk=application.pk).update(station_name="Khác")
    assert of(events(http, after=head)[0], site) == []
    PermitApplication.objects.filter(pk=application.pk).delete()
    found = of(events(http, after=head)[0], site)
    assert [(e["version"], e["data"]["properties"]["taken"]) for e in found] == [(3, 0)]


def test_a_project_status_and_an_operator_code_reach_their_records(
    feed_now,
    token_client,
    make_segment,
    make_project,
    make_station,
):
    from cables.models import CableProject

    http = token_client()
    project = make_project()
    segments = [make_segment(project=project), make_segment(project=project, coords=DOI_CAN)]
    station = make_station(operator_code="MOBIFONE")
    head = cursor_of(feed.head_seq())
    CableProject.objects.filter(pk=project.pk).update(status="in_construction")
    found = events(http, after=head)[0]
    assert sorted(e["id"] for e in found) == sorted(str(s.public_id) for s in segments)
    assert {e["data"]["properties"]["project_status"] for e in found} == {"in_construction"}
    head = cursor_of(feed.head_seq())
    Organization.objects.filter(code="MOBIFONE").update(code="MOBIFONE-2")
    found = of(events(http, after=head)[0], station)
    assert [(e["version"], e["data"]["properties"]["operator"]) for e in found] == [
        (2, "MOBIFONE-2")
    ]


# --- Cursors, pages, filters -------------------------------------------------------------------


def tampered(cursor):
    signed = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    value, signature = signed.rsplit(":", 1)
    forged = f"c1.1:{signature}"  # another seq under the old signature
    return base64.urlsafe_b64encode(forged.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense",
        "!!!",
        "YWJj",  # base64 of "abc"
        base64.urlsafe_b64encode(b"c1.5").decode(),  # unsigned
        base64.urlsafe_b64encode(signing.Signer(salt="other").sign("c1.5").encode()).decode(),
        base64.urlsafe_b64encode(signing.Signer(salt=feed.SALT).sign("c9.5").encode()).decode(),
        base64.urlsafe_b64encode(signing.Signer(salt=feed.SALT).sign("c1.x").encode()).decode(),
        "tampered",
        "future",
        "é",
    ],
)
def test_a_cursor_never_issued_is_refused(feed_now, token_client, make_station, cursor):
    http = token_client()
    make_station()
    if cursor == "tampered":
        cursor = tampered(cursor_of(feed.head_seq()))
    elif cursor == "future":
        cursor = cursor_of(feed.head_seq() + 1000)
    response = http.get(CHANGES, {"after": cursor})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"
    assert response["Error-Code"] == "invalid_cursor"


def test_the_cursor_handed_out_is_valid_and_signed(feed_now, token_client, make_station):
    http = token_client()
    make_station()
    page = http.get(CHANGES).json()
    assert seq_of(page["next"]) == feed.head_seq()
    assert tampered(page["next"]) != page["next"]
    assert http.get(CHANGES, {"after": page["next"]}).json() == {
        "results": [],
        "next": page["next"],
        "has_more": False,
    }


def back_date(records, days):
    """Make the changes of these records (or record ids) ``days`` old."""
    ids = [getattr(r, "pk", r) for r in records]
    Change.objects.filter(resource="stations", object_id__in=ids).update(
        changed_at=timezone.now() - timedelta(days=days)
    )


def test_prune_expires_old_cursors_and_keeps_every_live_record(
    feed_now,
    token_client,
    make_station,
    settings,
):
    settings.SYNC_CHANGE_RETENTION_DAYS = 30
    http = token_client()
    start = cursor_of(feed.head_seq())
    kept = make_station(name="Giữ")
    renamed = make_station(name="Cũ")
    gone = make_station(name="Xoá")
    renamed.name = "Mới"
    renamed.save()
    gone_pk = gone.pk
    gone.delete()
    old_middle = cursor_of(feed.head_seq() - 1)
    back_date([kept, renamed, gone_pk], days=60)
    recent = make_station(name="Gần đây")  # within the retention
    at_horizon = cursor_of(feed.head_seq() - 1)

    removed = feed.prune()
    assert removed == 3  # renamed's first version, gone's create and its tombstone
    horizon = ChangeFeedState.objects.get().pruned_through
    assert seq_of(at_horizon) == horizon
    for cursor in (start, old_middle):
        response = http.get(CHANGES, {"after": cursor})
        assert response.status_code == 410
        assert response.json()["code"] == "cursor_expired"
    # At the horizon nothing is missing: the consumer goes on.
    found = events(http, after=at_horizon)[0]
    assert [e["id"] for e in found] == [str(recent.public_id)]
    # From the beginning: every live record's last state, nothing of the deleted one.
    found = events(http)[0]
    latest = {e["id"]: e for e in found}
    assert len(latest) == len(found)
    for station in (kept, renamed, recent):
        assert latest[str(station.public_id)]["data"]["properties"]["name"] == station.name
    assert latest[str(renamed.public_id)]["version"] == 2
    assert str(gone.public_id) not in latest
    # Nothing more to prune: the horizon stays.
    assert feed.prune() == 0
    assert ChangeFeedState.objects.get().pruned_through == horizon


def test_the_horizon_stops_below_the_first_change_within_the_retention(
    feed_now, make_station, settings
):
    """seq follows commits and changed_at writes: a change written long ago may commit after a
    recent one. Only what lies wholly beyond the retention is pruned."""
    settings.SYNC_CHANGE_RETENTION_DAYS = 30
    first = make_station()
    first.save()
    recent = make_station()
    recent.save()
    late = make_station()
    late.save()
    back_date([first, late], days=60)  # ``late`` as if written long ago, committed last
    assert feed.prune() == 1  # first's create only
    assert (
        ChangeFeedState.objects.get().pruned_through
        == Change.objects.get(resource="stations", object_id=first.pk, version=2).seq
    )


def test_pruning_away_the_last_change_keeps_the_end_cursor_valid(
    feed_now,
    token_client,
    make_station,
    settings,
):
    settings.SYNC_CHANGE_RETENTION_DAYS = 30
    http = token_client()
    station = make_station()
    pk = station.pk
    station.delete()
    end = http.get(CHANGES, {"after": cursor_of(feed.head_seq())}).json()["next"]
    back_date([pk], days=60)
    feed.prune()
    assert not Change.objects.filter(object_id=pk, resource="stations").exists()
    # The end of the feed was pruned away, yet a consumer holding it is neither expired nor "from
    # the future"; /changes/head/ gives the same position.
    response = http.get(CHANGES, {"after": end})
    assert response.status_code == 200, response.content
    assert response.json()["next"] == end
    assert http.get(CHANGES + "head/").json()["cursor"] == end


def test_next_moves_to_the_end_when_a_page_is_not_full(
    feed_now,
    token_client,
    make_station,
    make_site,
):
    http = token_client()
    start = cursor_of(feed.head_seq())
    site = make_site()
    for _ in range(3):
        make_station()
    page = http.get(CHANGES, {"after": start, "types": "public-sites"}).json()
    assert [e["id"] for e in page["results"]] == [str(site.public_id)]
    assert page["has_more"] is False
    assert seq_of(page["next"]) == feed.head_seq()  # past the stations, not at the site
    for _ in range(2):
        make_station()
    again = http.get(CHANGES, {"after": page["next"], "types": "public-sites"}).json()
    assert again["results"] == [] and seq_of(again["next"]) == feed.head_seq()


def test_pages_and_has_more(feed_now, token_client, make_station):
    http = token_client()
    start = cursor_of(feed.head_seq())
    stations = [make_station() for _ in range(5)]
    page = http.get(CHANGES, {"after": start, "limit": 2}).json()
    assert len(page["results"]) == 2 and page["has_more"] is True
    assert seq_of(page["next"]) == page["results"][-1]["seq"]
    page = http.get(CHANGES, {"after": page["next"], "limit": 3}).json()
    # Exactly the last three: no more to come, and no empty page needed to find out.
    assert len(page["results"]) == 3 and page["has_more"] is False
    assert [e["id"] for e in page["results"]] == [str(s.public_id) for s in stations[2:]]
    found, _next = events(http, after=start, limit=1)
    assert [e["id"] for e in found] == [str(s.public_id) for s in stations]


@pytest.mark.parametrize("limit", ["0", "5001", "abc", "-1", "1.5", "", " 5", "²", "٣"])
def test_a_bad_limit_is_refused(feed_now, token_client, limit):
    response = token_client().get(CHANGES, {"limit": limit})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_limit"


@pytest.mark.parametrize("limit", ["1", "5000"])
def test_the_limits_of_limit_are_accepted(feed_now, token_client, limit):
    assert token_client().get(CHANGES, {"limit": limit}).status_code == 200


def test_types_filter(feed_now, token_client, make_record):
    http = token_client()
    start = cursor_of(feed.head_seq())
    made = {resource: make_record(resource) for resource in RESOURCES}

    def types_of(**params):
        return {e["type"] for e in events(http, after=start, **params)[0]}

    assert types_of() == set(RESOURCES)
    assert types_of(types="stations,assets") == {"stations", "assets"}
    assert types_of(types=" stations , cable-segments ") == {"stations", "cable-segments"}
    response = http.get(CHANGES, {"after": start, "types": ["stations", "public-sites"]})
    assert {e["type"] for e in response.json()["results"]} == {"stations", "public-sites"}
    assert {e["id"] for e in response.json()["results"]} == {
        str(made["stations"].public_id),
        str(made["public-sites"].public_id),
    }
    for bad in ("towers", "stations,towers", "Stations"):
        response = http.get(CHANGES, {"types": bad})
        assert response.status_code == 400
        assert response.json()["code"] == "unknown_type"
        assert "towers" in response.json()["detail"] or "Stations" in response.json()["detail"]


def test_head_gives_a_cursor_after_which_only_later_changes_come(
    feed_now,
    token_client,
    make_station,
):
    http = token_client()
    make_station()
    head = http.get(CHANGES + "head/")
    assert head.status_code == 200
    assert seq_of(head.json()["cursor"]) == feed.head_seq()
    later = make_station()
    found = events(http, after=head.json()["cursor"])[0]
    assert [(e["id"], e["action"]) for e in found] == [(str(later.public_id), "create")]


# --- Who sees what -----------------------------------------------------------------------------


@pytest.fixture
def everyones_records(feed_now, make_record):
    """A record of every resource for VIETTEL and for MOBIFONE, then one of each deleted:
    {(resource, org): public id}, starting from the returned cursor."""
    start = cursor_of(feed.head_seq())
    made = {}
    for resource in RESOURCES:
        for org_code in ("VIETTEL", "MOBIFONE"):
            made[resource, org_code] = make_record(resource, org_code)
    for record in made.values():
        record.delete()
    return start, {key: str(record.public_id) for key, record in made.items()}


def visible(http, start):
    found = events(http, after=start)[0]
    return {(e["type"], e["id"]) for e in found}, found


def expected(made, resources, orgs):
    return {(r, pk) for (r, org_code), pk in made.items() if r in resources and org_code in orgs}


def test_an_operator_client_sees_its_own_records_and_the_open_registers(
    everyones_records, token_client
):
    """Its own stations and segments; the public sites and the asset register are open to every
    role (as in their API lists), so all of them."""
    start, made = everyones_records
    http = token_client(scopes={"*": "read"}, org_code="VIETTEL")
    seen, found = visible(http, start)
    assert seen == expected(made, {"stations", "cable-segments"}, {"VIETTEL"}) | (
        expected(made, {"public-sites", "assets"}, {"VIETTEL", "MOBIFONE"})
    )
    # Its own records' tombstones too.
    assert {e["action"] for e in found} == {"create", "delete"}


def test_an_agency_client_sees_everything(everyones_records, token_client):
    start, made = everyones_records
    seen, found = visible(token_client(scopes={"*": "read"}, org_code="CUC_VT"), start)
    assert seen == set(expected(made, set(RESOURCES), {"VIETTEL", "MOBIFONE"}))
    assert len(found) == 2 * len(made)


def test_a_client_never_gets_a_type_it_may_not_read(everyones_records, token_client):
    start, made = everyones_records
    http = token_client(scopes={"stations": "write", "assets": "read"}, org_code="CUC_VT")
    seen, _found = visible(http, start)
    assert seen == expected(made, {"stations", "assets"}, {"VIETTEL", "MOBIFONE"})
    # Asking for it by name does not help.
    response = http.get(CHANGES, {"after": start, "types": "public-sites,cable-segments"})
    assert response.status_code == 200 and response.json()["results"] == []
    nothing = token_client(scopes={}, org_code="CUC_VT")
    assert nothing.get(CHANGES, {"after": start}).json()["results"] == []


@pytest.mark.parametrize(
    ("role", "orgs", "open_orgs"),
    [
        ("city_official", {"VIETTEL", "MOBIFONE"}, {"VIETTEL", "MOBIFONE"}),
        ("national_official", {"VIETTEL", "MOBIFONE"}, {"VIETTEL", "MOBIFONE"}),
        ("administrator", {"VIETTEL", "MOBIFONE"}, {"VIETTEL", "MOBIFONE"}),
        ("operator_viettel", {"VIETTEL"}, {"VIETTEL", "MOBIFONE"}),
        ("operator_mobifone", {"MOBIFONE"}, {"VIETTEL", "MOBIFONE"}),
    ],
)
def test_session_users_see_what_their_role_allows(
    everyones_records, as_role, role, orgs, open_orgs
):
    start, made = everyones_records
    seen, _found = visible(as_role(role), start)
    assert seen == expected(made, {"stations", "cable-segments"}, orgs) | expected(
        made, {"public-sites", "assets"}, open_orgs
    )


@pytest.mark.parametrize("role", ["anonymous", "no_role"])
def test_no_role_no_feed(everyones_records, as_role, role):
    start, _made = everyones_records
    response = as_role(role).get(CHANGES, {"after": start})
    assert response.status_code in (401, 403)


def test_read_without_a_user_gives_nothing(everyones_records):
    from django.contrib.auth.models import AnonymousUser

    start, _made = everyones_records
    for user in (None, AnonymousUser()):
        page = feed.read(user, after=start)
        assert page.text == "[]" and page.count == 0


# --- Query count ---------------------------------------------------------------------------------


def test_a_page_costs_the_same_queries_whatever_its_size(
    feed_now, token_client, make_record, django_assert_max_num_queries
):
    http = token_client(scopes={"*": "read"}, org_code="VIETTEL")
    start = cursor_of(feed.head_seq())
    http.get(CHANGES, {"after": start})  # the token's first use is written once
    counts = []
    for n in (1, 12):
        for _ in range(n):
            for resource in RESOURCES:
                make_record(resource)
        with CaptureQueriesContext(connection) as queries:
            response = http.get(CHANGES, {"after": start, "limit": 5000})
        assert response.status_code == 200
        assert len(response.json()["results"]) >= 4 * n
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    # The token and its client, the user's roles, the page (and a spare for the auth's own use).
    with django_assert_max_num_queries(4):
        http.get(CHANGES, {"after": start, "limit": 5000})


# --- Pruning task, seeding ---------------------------------------------------------------------


def test_prune_sync_removes_old_changes_and_idempotency_records(
    feed_now,
    make_station,
    settings,
):
    from sync.tasks import prune_sync

    settings.SYNC_CHANGE_RETENTION_DAYS = 30
    settings.SYNC_IDEMPOTENCY_HOURS = 48
    station = make_station()
    station.name = "Đổi"
    station.save()
    back_date([station], days=60)

    def record(key, hours_ago):
        row = IdempotencyRecord.objects.create(
            principal="client:1", key=key, method="POST", path="/api/v1/stations/", fingerprint="x"
        )
        IdempotencyRecord.objects.filter(pk=row.pk).update(
            created_at=timezone.now() - timedelta(hours=hours_ago)
        )

    record("old", 72)
    record("fresh", 1)
    result = prune_sync()
    assert result == {"changes": 1, "idempotency_keys": 1}
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]
    assert list(
        Change.objects.filter(object_id=station.pk, resource="stations").values_list(
            "version", flat=True
        )
    ) == [2]


def drop_capture(resource):
    import sync

    table = sync.get(resource).table
    with connection.cursor() as cursor:
        for op in ("insert", "update", "delete"):
            cursor.execute(
                f"DROP TRIGGER {capture._function_name(sync.get(resource), op)} ON {table}"
            )


def test_install_seeds_records_stored_before_their_resource_joined_the_feed(
    feed_now,
    token_client,
    make_station,
    make_asset,
):
    http = token_client()
    changed = make_station(name="Trước")
    removed = make_station()
    asset = make_asset()
    head = cursor_of(feed.head_seq())
    drop_capture("stations")
    earlier = make_station(name="Có từ trước")
    Station.objects.filter(pk=changed.pk).update(name="Đổi khi không có trigger")
    removed_id = removed.public_id
    removed.delete()
    assert events(http, after=head)[0] == []

    capture.install(seed=True)
    found = events(http, after=head)[0]
    assert {(e["id"], e["action"], e["version"]) for e in found} == {
        (str(earlier.public_id), "create", 1),
        (str(changed.public_id), "update", 2),
        (str(removed_id), "delete", 2),
    }
    data = {e["id"]: e["data"] for e in found}
    assert_same_feature(
        "stations",
        data[str(earlier.public_id)],
        http.get(DETAIL["stations"].format(earlier.public_id)).json(),
    )
    assert data[str(changed.public_id)]["properties"]["name"] == "Đổi khi không có trigger"
    assert str(asset.public_id) not in data  # the assets' triggers were there all along
    # The triggers are back, and installing again records nothing twice.
    head = cursor_of(feed.head_seq())
    capture.install(seed=True)
    assert events(http, after=head)[0] == []
    later = make_station()
    assert [e["id"] for e in events(http, after=head)[0]] == [str(later.public_id)]


def test_install_brings_every_record_level_when_the_feature_changed_shape(
    feed_now, token_client, make_station, make_asset
):
    http = token_client()
    stations = [make_station() for _ in range(3)]
    asset = make_asset()
    # As if the stations' Feature had no "address" when these were written.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_change SET data = jsonb_set(data, '{properties}', "
            "(data -> 'properties') - 'address') WHERE resource = 'stations'"
        )
        cursor.execute("COMMENT ON FUNCTION sync_capture_stations_insert() IS 'feature old'")
    head = cursor_of(feed.head_seq())
    capture.install(seed=True)
    found = events(http, after=head)[0]
    assert sorted((e["id"], e["action"], e["version"]) for e in found) == sorted(
        (str(s.public_id), "update", 2) for s in stations
    )
    assert all(e["data"]["properties"]["address"] == "Hà Nội" for e in found)
    assert str(asset.public_id) not in {e["id"] for e in found}
    head = cursor_of(feed.head_seq())
    capture.install(seed=True)
    assert events(http, after=head)[0] == []


def test_install_drops_triggers_of_resources_no_longer_declared(feed_now):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TRIGGER sync_capture_retired_insert AFTER INSERT ON core_organization "
            "FOR EACH STATEMENT EXECUTE FUNCTION sync_capture_stations_insert()"
        )
    capture.install()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'sync_capture_retired_insert'"
        )
        assert cursor.fetchone()[0] == 0


# --- Committed for real: savepoints, big transactions, concurrent writers ------------------------


def _station_values():
    operator = Organization.objects.get(code="VIETTEL")
    commune = AdministrativeUnit.objects.get(code="00004")
    return {
        "operator": operator,
        "commune": commune,
        "location": BA_DINH,
        "address": "Hà Nội",
        "structure_type": "monopole",
        "structure_height_m": Decimal("30"),
        "land_category": "public_land",
        "status": "operating",
        "technologies": ["4G"],
    }


def _new_station(values, **fields):
    code = f"T-{uuid.uuid4().hex[:12]}"
    return Station.objects.create(code=code, name=code, **{**values, **fields})


def _sequenced(public_ids):
    return list(
        Change.objects.filter(public_id__in=public_ids)
        .order_by("seq")
        .values_list("public_id", "action", "seq")
    )


@pytest.mark.django_db(transaction=True)
def test_savepoints_rolled_back_leave_the_rest_numbered(reference_data):
    values = _station_values()

    class Undo(Exception):
        pass

    made = {}
    # The transaction's first change is in a savepoint that rolls back; later ones still count.
    with transaction.atomic():
        try:
            with transaction.atomic():
                made["undone"] = _new_station(values)
                raise Undo
        except Undo:
            pass
        made["a"] = _new_station(values)
        try:
            with transaction.atomic():
                made["undone2"] = _new_station(values)
                raise Undo
        except Undo:
            pass
        with transaction.atomic():
            made["b"] = _new_station(values)
    # The first change at the top, a savepoint released, then one rolled back.
    with transaction.atomic():
        made["c"] = _new_station(values)
        with transaction.atomic():
            made["d"] = _new_station(values)
        try:
            with transaction.atomic():
                made["undone3"] = _new_station(values)
                raise Undo
        except Undo:
            pass
    rows = _sequenced([s.public_id for s in made.values()])
    assert [pk for pk, _action, _seq in rows] == [made[k].public_id for k in "abcd"]
    assert all(seq is not None for _pk, _action, seq in rows)
    assert not Change.objects.filter(seq__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_a_big_transaction_is_numbered_at_once(reference_data):
    """20,000 changes in one transaction: numbered consecutively, and quickly (the numbering once
    fired for each change and looked for the unnumbered ones each time: 23 s for 20,000)."""
    n = 20_000
    before = feed.head_seq()
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_change (txid, resource, object_id, public_id, action, version, "
            "data, changed_at) SELECT pg_current_xact_id()::text::bigint, 'test-bulk', g, "
            "gen_random_uuid(), 'create', 1, '{}'::jsonb, now() FROM generate_series(1, %s) g",
            [n],
        )
    elapsed = time.monotonic() - started
    rows = list(
        Change.objects.filter(resource="test-bulk").order_by("id").values_list("seq", flat=True)
    )
    assert rows[0] > before and rows == list(range(rows[0], rows[0] + n))
    assert elapsed < 8, f"{n} changes took {elapsed:.1f} s to write and number"


WRITERS = 8
TRANSACTIONS = 50


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_a_poller_gets_every_committed_change_once_in_order(
    reference_data, token_client
):
    """Eight threads commit 50 transactions each (one to three stations, updates and deletes of
    their own, some rolled back, some pausing between their write and their commit) while a poller
    follows the feed over HTTP. It must get every committed change once, in increasing seq, and
    nothing rolled back; and ``Change.id`` must be seen to commit out of order (a feed by id would
    have lost events)."""
    http = token_client(scopes={"*": "read"}, org_code="CUC_VT", throttle_rate="1000000/minute")
    start = cursor_of(feed.head_seq())
    values = _station_values()
    done = threading.Event()
    errors = []
    rolled_back = set()
    lock = threading.Lock()
    polls = []  # [(poll number, [events])]

    class Undo(Exception):
        pass

    def writer(number):
        rng = random.Random(number)
        mine = []
        try:
            for i in range(TRANSACTIONS):
                undo = rng.random() < 0.15
                touched = []
                try:
                    with transaction.atomic():
                        for _ in range(rng.choice((1, 1, 2, 3))):
                            touched.append(_new_station(values).public_id)
                        if mine and rng.random() < 0.3:
                            station = mine[rng.randrange(len(mine))]
                            station.name = f"{station.code} v{i}"
                            station.save()
                        if len(mine) > 3 and rng.random() < 0.15:
                            mine.pop(rng.randrange(len(mine))).delete()
                        if rng.random() < 0.3:
                            time.sleep(rng.uniform(0.005, 0.03))  # others commit meanwhile
                        if undo:
                            raise Undo
                except Undo:
                    with lock:
                        rolled_back.update(touched)
                    continue
                mine += list(Station.objects.filter(public_id__in=touched))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def poller():
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Bearer {http.raw_token}")
        after = start
        try:
            for number in range(1_000_000):
                finished = done.is_set()
                response = client.get(CHANGES, {"after": after, "limit": 37})
                assert response.status_code == 200, response.content[:300]
                page = response.json()
                polls.append((number, page["results"]))
                after = page["next"]
                if finished and not page["has_more"]:
                    return
                if not page["has_more"]:
                    time.sleep(0.002)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    reader = threading.Thread(target=poller)
    reader.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    reader.join()
    assert errors == []

    delivered = [event for _number, page in polls for event in page]
    seqs = [e["seq"] for e in delivered]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "out of order or twice"
    committed = dict(
        Change.objects.filter(resource="stations", seq__gt=seq_of(start)).values_list("seq", "id")
    )
    assert set(seqs) == set(committed), "missed or invented"
    assert len(seqs) > WRITERS * TRANSACTIONS
    assert rolled_back and not rolled_back & {uuid.UUID(e["id"]) for e in delivered}
    assert not Change.objects.filter(public_id__in=rolled_back).exists()
    assert not Change.objects.filter(seq__isnull=True).exists()
    versions = {}
    for event in delivered:  # each record's versions arrive as 1, 2, 3…
        versions.setdefault(event["id"], []).append(event["version"])
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())

    # The hazard the design avoids: a change whose id is lower than one already delivered by an
    # earlier poll. A consumer following ``id`` would have stepped over it for good.
    highest_id_delivered, overtaken = 0, 0
    for _number, page in polls:
        ids = [committed[e["seq"]] for e in page]
        overtaken += sum(1 for i in ids if i < highest_id_delivered)
        highest_id_delivered = max([highest_id_delivered, *ids])
    assert overtaken > 0, "ids committed in order in this run: the test proves nothing"
    print(f"{len(delivered)} events in {len(polls)} polls, {overtaken} overtaken by id")
