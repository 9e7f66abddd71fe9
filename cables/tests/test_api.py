"""The cables API over HTTP: permissions, bad input, progress and corrections, totals, imports,
civil works, map pages and query counts (real PostGIS with Hanoi's real boundaries, no mocks)."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import LineString
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cables import services
from cables.models import (
    CableProject,
    CableSegment,
    CivilWorksNotice,
    CivilWorksRegistration,
    ProgressUpdate,
    SegmentCommune,
)
from conftest import ROLE_USERS
from core.models import Organization
from sharing.models import InfrastructureAsset

pytestmark = pytest.mark.django_db
ROLES = [*ROLE_USERS, "anonymous"]

# Kim Mã street, Ba Đình (about 1.14 km), and a street nearby for a second segment.
KIM_MA = [[105.8120, 21.0316], [105.8230, 21.0318]]
DOI_CAN = [[105.8160, 21.0350], [105.8250, 21.0352]]
PROJECTS = "/api/v1/cable-projects/"
SEGMENTS = "/api/v1/cable-segments/"
UPDATES = "/api/v1/progress-updates/"
NOTICES = "/api/v1/civil-works/"
TOTALS = "/api/v1/cable-totals/"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


# --- Factories -------------------------------------------------------------------------------------------


@pytest.fixture
def official(role_user):
    return role_user("city_official")


@pytest.fixture
def make_project(db):
    """make_project(code, lead="VNPT", participants=("VIETTEL", "VNPT")) straight into the database."""
    counter = {"n": 0}

    def make(code=None, lead="VNPT", participants=("VIETTEL", "VNPT"), **fields):
        counter["n"] += 1
        project = CableProject.objects.create(
            code=code or f"NH-{counter['n']:03d}",
            name=fields.pop("name", f"Ngầm hoá phố {counter['n']}"),
            lead_agency=Organization.objects.get(code=lead),
            year=fields.pop("year", 2025),
            **fields,
        )
        project.participants.set(Organization.objects.filter(code__in=participants))
        return project

    return make


@pytest.fixture
def make_segment(official):
    """make_segment(project, coords=KIM_MA, method, operator_code) through the service (communes
    clipped as in real use)."""

    def make(project, coords=KIM_MA, method="new_duct_bank", operator="VIETTEL", **fields):
        return services.save_segment(
            official,
            project,
            name=fields.pop("name", "Phố Kim Mã"),
            route=LineString(coords, srid=4326),
            method=method,
            operator=Organization.objects.get(code=operator) if operator else None,
            **fields,
        )

    return make


@pytest.fixture
def segment(make_project, make_segment):
    return make_segment(make_project("NH-KM"))


def segment_body(project="NH-KM", coords=KIM_MA, **properties):
    data = {"project": project, "name": "Phố Kim Mã", "method": "new_duct_bank", "bores": 6}
    data.update(properties)
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": coords},
        "properties": data,
    }


def counts():
    return (
        CableProject.objects.count(),
        CableSegment.objects.count(),
        SegmentCommune.objects.count(),
        ProgressUpdate.objects.count(),
        CivilWorksNotice.objects.count(),
        CivilWorksRegistration.objects.count(),
    )


def report(client, segment, **data):
    body = {"reported_on": str(days_ago(1)), **data}
    return client.post(f"{SEGMENTS}{segment.public_id}/progress/", body, format="json")


# --- Permission matrix --------------------------------------------------------------------------------------

# role: (project list sees it, project retrieve, segment list sees it, segment retrieve,
#        report progress, progress list sees it, create a project led by VNPT)
# The project is led by VNPT with Viettel and VNPT taking part; MobiFone takes no part. The segment
# is Viettel's: VNPT's client, although its organisation leads the project, does not report its duct
# (400 on the field since issue 15; it may report cable pulled in and overhead removed there).
MATRIX = {
    "city_official": (1, 200, 1, 200, 201, 1, 201),
    "national_official": (1, 200, 1, 200, 403, 1, 403),
    "operator_viettel": (1, 200, 1, 200, 201, 1, 403),
    "operator_mobifone": (0, 404, 0, 404, 404, 0, 403),
    "agency_api_client": (1, 200, 1, 200, 403, 1, 403),
    "operator_api_client": (1, 200, 1, 200, 400, 1, 201),
    "administrator": (1, 200, 1, 200, 201, 1, 201),
    "no_role": (403, 403, 403, 403, 403, 403, 403),
    "anonymous": (401, 401, 401, 401, 401, 401, 401),
}
OPERATIONS = ["projects", "project", "segments", "segment", "progress", "updates", "create"]


def _seen(response, key):
    if response.status_code != 200:
        return response.status_code
    return len(response.json()[key])


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(as_role, official, segment, role, operation):
    services.record_progress(official, segment, reported_on=days_ago(3), duct_built_m=10)
    client = as_role(role)
    expected = MATRIX[role][OPERATIONS.index(operation)]
    before = counts()
    if operation == "projects":
        assert _seen(client.get(PROJECTS), "results") == expected
    elif operation == "project":
        response = client.get(f"{PROJECTS}{segment.project.public_id}/")
        assert response.status_code == expected, response.content
    elif operation == "segments":
        assert _seen(client.get(SEGMENTS), "features") == expected
    elif operation == "segment":
        response = client.get(f"{SEGMENTS}{segment.public_id}/")
        assert response.status_code == expected, response.content
    elif operation == "progress":
        response = report(client, segment, duct_built_m=5)
        assert response.status_code == expected, response.content
        if expected == 201:
            assert counts()[3] == before[3] + 1
    elif operation == "updates":
        assert _seen(client.get(f"{UPDATES}?segment={segment.public_id}"), "results") == expected
    elif operation == "create":
        body = {"code": "NH-NEW", "name": "Phố Đội Cấn", "lead_agency": "VNPT", "year": 2026}
        response = client.post(PROJECTS, body, format="json")
        assert response.status_code == expected, response.content
        if expected == 201:
            assert counts()[0] == before[0] + 1
    if operation not in ("progress", "create") or expected != 201:
        assert counts() == before


@pytest.mark.parametrize("role", ["no_role", "anonymous"])
def test_no_portal_role_sees_nothing(as_role, segment, role):
    client = as_role(role)
    for url in (NOTICES, f"{TOTALS}?by=commune", f"{UPDATES}?segment={segment.public_id}"):
        assert client.get(url).status_code == (401 if role == "anonymous" else 403)


@pytest.mark.parametrize("role", ["operator_viettel", "operator_mobifone", "national_official"])
def test_only_the_lead_agency_and_officials_change_segments(as_role, segment, role):
    before = counts()
    response = as_role(role).patch(
        f"{SEGMENTS}{segment.public_id}/", {"name": "Đổi tên"}, format="json"
    )
    assert response.status_code == (404 if role == "operator_mobifone" else 403), response.content
    segment.refresh_from_db()
    assert segment.name == "Phố Kim Mã" and counts() == before


def test_progress_updates_are_append_only(as_role, official, segment):
    update = services.record_progress(official, segment, reported_on=days_ago(2), duct_built_m=5)
    client = as_role("city_official")
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(f"{UPDATES}{update.pk}/", {"note": "x"}, format="json")
        assert response.status_code == 405
    assert client.post(UPDATES, {}, format="json").status_code == 405


# --- Projects and segments -----------------------------------------------------------------------------------


def test_official_creates_a_project_and_a_segment(as_role):
    client = as_role("city_official")
    body = {
        "code": "NH-KM",
        "name": "Ngầm hoá phố Kim Mã",
        "lead_agency": "VNPT",
        "participants": ["VIETTEL", "VNPT"],
        "year": 2025,
        "status": "approved",
    }
    response = client.post(PROJECTS, body, format="json")
    assert response.status_code == 201, response.content
    project = response.json()
    assert sorted(project["participants"]) == ["VIETTEL", "VNPT"]
    assert project["totals"]["km_planned"] == 0
    assert response["ETag"]

    response = client.post(SEGMENTS, segment_body(operator="VIETTEL"), format="json")
    assert response.status_code == 201, response.content
    feature = response.json()
    assert feature["properties"]["project"] == "NH-KM"
    assert 1100 < feature["properties"]["length_m"] < 1200
    assert feature["geometry"]["type"] == "LineString"
    segment = CableSegment.objects.get(public_id=feature["id"])
    assert segment.pieces.exists()

    # The project by its id and public id works too.
    by_pk = segment_body(project=str(segment.project_id), coords=DOI_CAN, name="Đội Cấn")
    assert client.post(SEGMENTS, by_pk, format="json").status_code == 201
    detail = client.get(f"{PROJECTS}{project['id']}/").json()
    assert detail["totals"]["km_planned"] == pytest.approx(
        sum(CableSegment.objects.values_list("length_m", flat=True)) / 1000
    )


def test_update_with_a_stale_etag_is_412(as_role, segment):
    client = as_role("city_official")
    url = f"{PROJECTS}{segment.project.public_id}/"
    etag = client.get(url)["ETag"]
    assert client.patch(url, {"name": "Mới"}, format="json", HTTP_IF_MATCH=etag).status_code == 200
    response = client.patch(url, {"name": "Cũ"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    segment.project.refresh_from_db()
    assert segment.project.name == "Mới"


BAD_SEGMENTS = [
    (
        "self-intersecting",
        {"coords": [[105.812, 21.0316], [105.823, 21.0318], [105.815, 21.030], [105.815, 21.034]]},
        "route",
    ),
    ("single point", {"coords": [[105.812, 21.0316]]}, "route"),
    ("repeated point", {"coords": [[105.812, 21.0316], [105.812, 21.0316]]}, "route"),
    ("outside Vietnam", {"coords": [[100.50, 13.75], [100.51, 13.76]]}, "route"),
    ("unknown method", {"method": "tunnel"}, "method"),
    ("unknown project", {"project": "NOPE"}, "project"),
    ("operator not taking part", {"operator": "MOBIFONE"}, "operator"),
    ("bores out of range", {"bores": 0}, "bores"),
]


@pytest.mark.parametrize(
    ("change", "field"), [pytest.param(c, f, id=w) for w, c, f in BAD_SEGMENTS]
)
def test_bad_segment_is_400_and_nothing_is_stored(as_role, make_project, change, field):
    make_project("NH-KM")
    before = counts()
    response = as_role("city_official").post(SEGMENTS, segment_body(**change), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert counts() == before


def test_bad_route_on_update_leaves_the_segment(as_role, segment):
    before = (segment.route.wkt, segment.length_m)
    body = {"route": {"type": "LineString", "coordinates": [[100.5, 13.75], [100.51, 13.76]]}}
    response = as_role("city_official").patch(
        f"{SEGMENTS}{segment.public_id}/", body, format="json"
    )
    assert response.status_code == 400 and "route" in response.json()
    segment.refresh_from_db()
    assert (segment.route.wkt, segment.length_m) == before


# --- Progress -----------------------------------------------------------------------------------------------


@pytest.fixture
def corrected(official, segment):
    """An update of 300 m (10 days ago) corrected to 200 m (2 days ago)."""
    first = services.record_progress(official, segment, reported_on=days_ago(10), duct_built_m=300)
    services.record_progress(
        official, segment, reported_on=days_ago(2), duct_built_m=200, corrects=first
    )
    return first


BAD_PROGRESS = [
    ("beyond the length", {"duct_built_m": 5000}, "duct_built_m"),
    ("negative metres", {"cable_pulled_m": -5}, "cable_pulled_m"),
    ("negative poles", {"poles_removed": -1}, "poles_removed"),
    ("future date", {"reported_on": "FUTURE"}, "reported_on"),
    ("no date", {"reported_on": None}, "reported_on"),
    ("not a number", {"duct_built_m": "many"}, "duct_built_m"),
    ("already corrected", {"corrects": "CORRECTED", "duct_built_m": 100}, "corrects"),
    ("unknown update", {"corrects": 999999}, "corrects"),
]


@pytest.mark.parametrize(
    ("change", "field"), [pytest.param(c, f, id=w) for w, c, f in BAD_PROGRESS]
)
def test_bad_progress_is_400_and_nothing_is_stored(as_role, segment, corrected, change, field):
    change = dict(change)
    if change.get("reported_on") == "FUTURE":
        change["reported_on"] = str(timezone.localdate() + timedelta(days=1))
    if change.get("corrects") == "CORRECTED":
        change["corrects"] = corrected.pk
    before = counts()
    response = report(as_role("operator_viettel"), segment, **change)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert counts() == before


def test_progress_beyond_the_length_counts_earlier_updates(as_role, official, segment):
    services.record_progress(official, segment, reported_on=days_ago(3), duct_built_m=1000)
    response = report(as_role("operator_viettel"), segment, duct_built_m=200)
    assert response.status_code == 400 and "duct_built_m" in response.json()


def test_progress_on_someone_elses_project_is_refused(as_role, make_project, make_segment):
    other = make_segment(make_project("NH-OTHER", participants=("MOBIFONE",)), operator=None)
    before = counts()
    response = report(as_role("operator_viettel"), other, duct_built_m=10)
    assert response.status_code == 404, response.content
    # An agency that sees every project still cannot report on it.
    response = report(as_role("agency_api_client"), other, duct_built_m=10)
    assert response.status_code == 403, response.content
    assert counts() == before


def test_progress_with_photos_multipart(as_role, segment):
    client = as_role("operator_viettel")
    response = client.post(
        f"{SEGMENTS}{segment.public_id}/progress/",
        {
            "reported_on": str(days_ago(1)),
            "cable_pulled_m": "120.5",
            "note": "Kéo cáp đoạn đầu",
            "photos": [SimpleUploadedFile("a.png", PNG, content_type="image/png")],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["cable_pulled_m"] == 120.5 and body["operator"] == "VIETTEL"
    assert len(body["photos"]) == 1 and body["photos"][0]["content_type"] == "image/png"


def test_a_correction_replaces_the_corrected_update(as_role, segment, corrected):
    client = as_role("city_official")
    url = f"{PROJECTS}{segment.project.public_id}/"
    assert client.get(url).json()["totals"]["km_duct_built"] == pytest.approx(0.2)
    # As of a date before the correction, the first report stands; before it, nothing.
    past = client.get(f"{url}?as_of={days_ago(5)}").json()
    assert past["totals"]["km_duct_built"] == pytest.approx(0.3)
    assert past["by_operator"][0]["km_duct_built"] == pytest.approx(0.3)
    earlier = client.get(f"{url}?as_of={days_ago(20)}").json()
    assert earlier["totals"]["km_duct_built"] == 0
    assert client.get(f"{url}?as_of=yesterday").status_code == 400
    # The segment's own figures and the map agree.
    feature = client.get(f"{SEGMENTS}{segment.public_id}/").json()
    assert feature["properties"]["duct_built_m"] == pytest.approx(200)
    listed = client.get(SEGMENTS).json()["features"][0]
    assert listed["properties"]["duct_built_m"] == pytest.approx(200)
    updates = client.get(f"{UPDATES}?segment={segment.public_id}").json()["results"]
    assert [u["corrected_by"] is not None for u in updates] == [True, False]
    assert updates[1]["corrects"] == corrected.pk


def test_totals_per_commune_sum_to_the_planned_length(as_role, official, segment, make_segment):
    make_segment(segment.project, coords=DOI_CAN, name="Đội Cấn")
    services.record_progress(official, segment, reported_on=days_ago(1), duct_built_m=500)
    planned = sum(CableSegment.objects.values_list("length_m", flat=True)) / 1000
    client = as_role("city_official")
    rows = client.get(f"{TOTALS}?by=commune").json()
    assert rows and sum(r["km_planned"] for r in rows) == pytest.approx(planned, rel=1e-3)
    assert sum(r["km_duct_built"] for r in rows) == pytest.approx(0.5, rel=1e-3)
    detail = client.get(f"{PROJECTS}{segment.project.public_id}/").json()
    assert sum(r["km_planned"] for r in detail["by_commune"]) == pytest.approx(planned, rel=1e-3)
    by_operator = client.get(f"{TOTALS}?by=operator&as_of={days_ago(0)}").json()
    assert by_operator == [
        {
            "operator": "SO_KHCN_HN",
            "name": Organization.objects.get(code="SO_KHCN_HN").short_name,
            "km_duct_built": pytest.approx(0.5),
            "km_cable_pulled": 0,
            "km_overhead_removed": 0,
        }
    ]
    assert client.get(f"{TOTALS}?by=street").status_code == 400
    # An operator taking no part sees no kilometres of this project.
    assert as_role("operator_mobifone").get(f"{TOTALS}?by=commune").json() == []


def test_built_duct_becomes_a_sharing_asset(as_role, segment):
    client = as_role("operator_viettel")
    response = report(client, segment, duct_built_m=round(segment.length_m, 1))
    assert response.status_code == 201, response.content
    segment.refresh_from_db()
    asset = segment.duct_asset
    assert asset is not None and asset.kind == "duct" and asset.capacity == segment.bores
    assert asset.owner.code == "VIETTEL"
    ids = [f["id"] for f in client.get("/api/v1/assets/?kind=duct").json()["features"]]
    assert str(asset.public_id) in ids
    assert InfrastructureAsset.objects.filter(cable_segments=segment).count() == 1


# --- Import ---------------------------------------------------------------------------------------------------


def _csv(text):
    return SimpleUploadedFile("segments.csv", text.encode(), content_type="text/csv")


def test_import_with_bad_rows_is_400_with_row_numbers_and_nothing_is_stored(as_role, make_project):
    project = make_project("NH-IMP")
    text = (
        "name,method,operator,bores,wkt\n"
        '"Kim Mã",new_duct_bank,VIETTEL,4,"LINESTRING(105.812 21.0316, 105.823 21.0318)"\n'
        '"Hỏng",new_duct_bank,,4,"LINESTRING(105.812 21.0316"\n'
        '"Bangkok",existing_duct,,4,"LINESTRING(100.5 13.75, 100.51 13.76)"\n'
        '"Đội Cấn",tunnel,MOBIFONE,400,"LINESTRING(105.816 21.035, 105.825 21.0352)"\n'
    )
    before = counts()
    response = as_role("city_official").post(
        f"{PROJECTS}{project.public_id}/import/", {"file": _csv(text)}, format="multipart"
    )
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert {(e["row"], e["column"]) for e in errors} == {
        (3, "geometry"),
        (4, "geometry"),
        (5, "method"),
        (5, "operator"),
        (5, "bores"),
    }
    assert counts() == before


def test_import_writes_every_row(as_role, make_project):
    project = make_project("NH-IMP")
    text = (
        "name,method,operator,wkt\n"
        '"Kim Mã",new_duct_bank,VIETTEL,"LINESTRING(105.812 21.0316, 105.823 21.0318)"\n'
        '"Đội Cấn",micro_trenching,,"LINESTRING(105.816 21.035, 105.825 21.0352)"\n'
    )
    client = as_role("operator_api_client")  # VNPT leads the project
    response = client.post(
        f"{PROJECTS}{project.public_id}/import/", {"file": _csv(text)}, format="multipart"
    )
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 2}
    assert project.segments.count() == 2
    viettel = as_role("operator_viettel").post(
        f"{PROJECTS}{project.public_id}/import/", {"file": _csv(text)}, format="multipart"
    )
    assert viettel.status_code == 403 and project.segments.count() == 2


# --- Civil works -----------------------------------------------------------------------------------------------


def notice_body(**properties):
    data = {
        "title": "Cải tạo vỉa hè phố Kim Mã",
        "owner": "SO_KHCN_HN",
        "effective_from": str(timezone.localdate() + timedelta(days=30)),
        "effective_to": str(timezone.localdate() + timedelta(days=90)),
        "registration_deadline": str(timezone.localdate() + timedelta(days=10)),
    }
    data.update(properties)
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": KIM_MA},
        "properties": data,
    }


def test_civil_works_notice_and_joint_use(as_role):
    official = as_role("city_official")
    response = official.post(NOTICES, notice_body(), format="json")
    assert response.status_code == 201, response.content
    notice = response.json()
    assert notice["properties"]["commune"] and notice["properties"]["status"] == "open"
    url = f"{NOTICES}{notice['id']}/"

    viettel = as_role("operator_viettel")
    listed = viettel.get(NOTICES).json()["features"]
    assert [f["id"] for f in listed] == [notice["id"]]
    response = viettel.post(f"{url}register/", {"need": "duct", "bores": 2}, format="json")
    assert response.status_code == 201, response.content
    again = viettel.post(f"{url}register/", {"need": "cable"}, format="json")
    assert again.status_code == 400 and "need" in again.json()
    mobifone = as_role("operator_mobifone")
    assert mobifone.post(f"{url}register/", {"need": "cable"}, format="json").status_code == 201
    assert official.post(f"{url}register/", {"need": "duct"}, format="json").status_code == 403

    # The owner sees every registration; an operator only its own.
    assert len(official.get(url).json()["properties"]["registrations"]) == 2
    own = viettel.get(url).json()["properties"]["registrations"]
    assert [r["operator"] for r in own] == ["VIETTEL"]

    # Only the owner (or officials) change the notice: an operator cannot take it over.
    before = counts()
    takeover = viettel.patch(url, {"owner": "VIETTEL", "title": "Của tôi"}, format="json")
    assert takeover.status_code == 403, takeover.content
    assert CivilWorksNotice.objects.get().owner.code == "SO_KHCN_HN" and counts() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"registration_deadline": "2099-01-01"}, "registration_deadline"),
        ({"owner": "NOPE"}, "owner"),
        ({"effective_to": "2000-01-01"}, "effective_to"),
    ],
)
def test_bad_notice_is_400(as_role, change, field):
    before = counts()
    response = as_role("city_official").post(NOTICES, notice_body(**change), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert counts() == before


def test_registration_after_the_deadline_is_409(as_role, official):
    notice = services.save_notice(
        official,
        title="Đào đường",
        owner=Organization.objects.get(code="SO_KHCN_HN"),
        route=LineString(KIM_MA, srid=4326),
        registration_deadline=days_ago(5),
        effective_from=days_ago(1),
    )
    response = as_role("operator_viettel").post(
        f"{NOTICES}{notice.public_id}/register/", {"need": "duct"}, format="json"
    )
    assert response.status_code == 409, response.content


# --- Map pages and query counts ------------------------------------------------------------------------------


def _segments_in_bulk(project, n, vertices=20):
    """``n`` Kim Mã-like routes of ``vertices`` points each, straight into the database."""
    rows = []
    for i in range(n):
        lat = 21.0300 + (i % 50) * 0.0001
        x0 = 105.8120 + (i // 50) * 0.0005
        coords = [(x0 + k * 0.0005, lat + (k % 2) * 0.00005) for k in range(vertices)]
        rows.append(
            CableSegment(
                project=project,
                name=f"Đoạn {i} phố Kim Mã",
                route=LineString(coords, srid=4326),
                length_m=1000,
                method="new_duct_bank",
                operator=Organization.objects.get(code="VIETTEL"),
            )
        )
    CableSegment.objects.bulk_create(rows)


def test_a_bbox_page_stays_under_one_megabyte(as_role, make_project):
    _segments_in_bulk(make_project("NH-MAP"), 600)
    response = as_role("city_official").get(
        f"{SEGMENTS}?bbox=105.80,21.02,105.84,21.05&page_size=1000"
    )
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert len(body["features"]) == 500 and body["next"]
    assert len(response.content) < 1_000_000


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("role", ["city_official", "operator_viettel"])
def test_list_query_counts_are_constant(as_role, official, make_project, role):
    for i in range(12):
        project = make_project(f"NH-Q{i:02d}")
        _segments_in_bulk(project, 2, vertices=3)
        for seg in project.segments.all():
            services.record_progress(official, seg, reported_on=days_ago(1), duct_built_m=10)
    client = as_role(role)
    client.get(PROJECTS)  # the user's roles are read once, on the first request
    for url, key in [
        (f"{PROJECTS}?status=planned", "results"),
        (f"{SEGMENTS}?status=planned&operator=VIETTEL", "features"),
        (UPDATES, "results"),
    ]:
        small, small_response = _queries(client, f"{url}{'&' if '?' in url else '?'}page_size=2")
        big, big_response = _queries(client, f"{url}{'&' if '?' in url else '?'}page_size=12")
        assert len(small_response.json()[key]) == 2 and len(big_response.json()[key]) == 12
        assert small == big, url
