"""The cables app's HTML pages: the permission matrix, bad input through the forms (nothing stored),
query counts that do not grow with the rows, exports, and the map's GeoJSON."""

import csv
import datetime
import io
import json

import pytest
from django.contrib.gis.geos import LineString
from django.utils import timezone, translation
from openpyxl import load_workbook

from cables import services
from cables.models import CableProject, CableSegment, CivilWorksNotice, ProgressUpdate
from conftest import ROLE_USERS
from core.models import Organization

pytestmark = pytest.mark.django_db

ROLES = list(ROLE_USERS)
SEES_ALL = {"city_official", "national_official", "agency_api_client", "administrator"}
# The project below is led by the Sở and joined by Viettel and VNPT (VNPT's API client acts for it).
PARTICIPANTS = {"operator_viettel", "operator_api_client"}
# The segment below is Viettel's: only Viettel (of the operators) reports its duct and poles; VNPT,
# taking part, reports there the cable it pulled in and the overhead it removed (issue 15).
RESPONSIBLE = {"operator_viettel"}
MANAGERS = {"city_official", "administrator"}
OPERATORS = {"operator_viettel", "operator_mobifone", "operator_api_client"}
KIM_MA = LineString((105.8150, 21.0320), (105.8200, 21.0318), (105.8250, 21.0314), srid=4326)
KIM_MA_WKT = "LINESTRING(105.8150 21.0320, 105.8200 21.0318, 105.8250 21.0314)"
NGUYEN_TRAI_WKT = "LINESTRING(105.8120 20.9990, 105.8050 20.9930)"


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


def make_project(official, code="KM-2026", participants=("VIETTEL", "VNPT"), **fields):
    data = {
        "code": code,
        "name": "Hạ ngầm cáp phố Kim Mã 2026",
        "lead_agency": Organization.objects.get(code="SO_KHCN_HN"),
        "year": 2026,
    }
    data.update(fields)
    return services.save_project(
        official,
        participants=[Organization.objects.get(code=c) for c in participants],
        **data,
    )


@pytest.fixture
def project(official):
    return make_project(official)


@pytest.fixture
def segment(official, project):
    return services.save_segment(
        official,
        project,
        name="Kim Mã: Liễu Giai – Núi Trúc",
        route=KIM_MA,
        method="new_duct_bank",
        operator=Organization.objects.get(code="VIETTEL"),
    )


@pytest.fixture
def notice(official):
    return services.save_notice(
        official,
        title="Cải tạo vỉa hè Nguyễn Trãi",
        owner=Organization.objects.get(code="UBND_HN"),
        route=LineString((105.8120, 20.9990), (105.8050, 20.9930), srid=4326),
        registration_deadline=timezone.localdate() + datetime.timedelta(days=10),
        effective_from=timezone.localdate() + datetime.timedelta(days=20),
    )


# --- Permission matrix ------------------------------------------------------------------------------

LIST_PAGES = ["/cables/", "/cables/map/", "/cables/map.geojson", "/cables/notices/"]


@pytest.mark.parametrize("url", LIST_PAGES)
@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_list_pages_need_a_login_and_open_for_every_role(client, login, segment, url, role):
    login(role)
    response = client.get(url)
    if role == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    elif role == "no_role":
        assert response.status_code == 403  # an account without a role: core.access
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_lists_and_map_show_only_the_projects_a_user_takes_part_in(client, login, segment, role):
    login(role)
    listed = client.get("/cables/")
    features = client.get("/cables/map.geojson")
    if role == "anonymous":
        return
    if role == "no_role":
        assert listed.status_code == features.status_code == 403
        return
    sees = role in SEES_ALL | PARTICIPANTS
    assert (b"KM-2026" in listed.content) is sees
    assert len(json.loads(features.content)["features"]) == (1 if sees else 0)


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_project_page_is_scoped_another_operator_gets_404(client, login, segment, role):
    login(role)
    response = client.get(f"/cables/projects/{segment.project_id}/")
    if role == "anonymous":
        assert response.status_code == 302
    elif role in SEES_ALL | PARTICIPANTS:
        assert response.status_code == 200
        assert (b'data-testid="progress-form"' in response.content) is (
            role in MANAGERS | PARTICIPANTS
        )
        assert (b'data-testid="segment-form"' in response.content) is (role in MANAGERS)
    else:
        assert response.status_code == (403 if role == "no_role" else 404)


def progress_post(segment, **extra):
    data = {
        "progress-segment": segment.pk,
        "progress-reported_on": timezone.localdate().isoformat(),
        "progress-duct_built_m": "100",
        "progress-cable_pulled_m": "0",
        "progress-overhead_removed_m": "0",
        "progress-poles_removed": "0",
    }
    data.update({f"progress-{k}": v for k, v in extra.items()})
    return data


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_only_the_responsible_operator_the_lead_and_officials_post_progress(
    client, login, segment, role
):
    login(role)
    response = client.post(
        f"/cables/projects/{segment.project_id}/progress/", progress_post(segment)
    )
    stored = ProgressUpdate.objects.filter(segment=segment).count()
    if role == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    elif role in MANAGERS | RESPONSIBLE:
        assert response.status_code == 302, response.content[:2000]
        assert stored == 1
        return
    elif role in PARTICIPANTS:  # another participating operator: its duct is refused (issue 15)
        assert response.status_code == 400
        assert response.context["progress_form"].errors.get("duct_built_m")
    elif role in SEES_ALL or role == "no_role":
        assert response.status_code == 403  # sees the project, reports on none; or has no role
    else:
        assert response.status_code == 404
    assert stored == 0


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_segment_and_import_only_for_managers(client, login, project, role):
    login(role)
    response = client.post(
        f"/cables/projects/{project.pk}/segments/",
        {
            "segment-name": "Kim Mã",
            "segment-method": "new_duct_bank",
            "segment-bores": "4",
            "segment-route_text": KIM_MA_WKT,
        },
    )
    stored = CableSegment.objects.filter(project=project).count()
    if role == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    elif role in MANAGERS:
        assert response.status_code == 302
        assert stored == 1
        return
    elif role in SEES_ALL | PARTICIPANTS or role == "no_role":
        assert response.status_code == 403
    else:
        assert response.status_code == 404
    assert stored == 0


CREATE_PROJECT = {"city_official", "administrator", "agency_api_client"}
CREATE_NOTICE = {"city_official", "administrator", "agency_api_client", *OPERATORS}


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_create_pages(client, login, role):
    login(role)
    project_page = client.get("/cables/projects/new/")
    notice_page = client.get("/cables/notices/new/")
    if role == "anonymous":
        assert project_page.status_code == notice_page.status_code == 302
        return
    assert project_page.status_code == (200 if role in CREATE_PROJECT else 403)
    assert notice_page.status_code == (200 if role in CREATE_NOTICE else 403)


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_notice_page_and_joint_use_registration(client, login, notice, role):
    login(role)
    page = client.get(f"/cables/notices/{notice.pk}/")
    response = client.post(
        f"/cables/notices/{notice.pk}/register/", {"reg-need": "duct", "reg-bores": "2"}
    )
    registered = notice.registrations.count()
    if role == "anonymous":
        assert page.status_code == response.status_code == 302
    elif role == "no_role":
        assert page.status_code == response.status_code == 403  # core.access
    elif role in OPERATORS:
        assert page.status_code == 200 and b'data-testid="register-form"' in page.content
        assert response.status_code == 302 and registered == 1
        return
    else:
        assert page.status_code == 200 and b'data-testid="register-form"' not in page.content
        assert response.status_code == 403
    assert registered == 0


# --- Bad input through the forms ------------------------------------------------------------------

BAD_ROUTES = [
    ("LINESTRING(105.815 21.032, 105.825 21.030, 105.815 21.030, 105.825 21.032)", "crosses"),
    ("LINESTRING(105.815 21.032, 105.815 21.032)", "two different points"),
    ("POINT(105.815 21.032)", "line"),
    ("LINESTRING(2.35 48.85, 2.36 48.86)", "leaves Vietnam"),
    ("LINESTRING(105.8 21.0,", "cannot be read"),
    ("", "Draw the route"),
]


@pytest.mark.parametrize(("wkt", "message"), BAD_ROUTES)
def test_bad_routes_are_refused_with_a_clear_error(client, official, project, wkt, message):
    client.force_login(official)
    response = client.post(
        f"/cables/projects/{project.pk}/segments/",
        {
            "segment-name": "Kim Mã",
            "segment-method": "new_duct_bank",
            "segment-bores": "4",
            "segment-route_text": wkt,
        },
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CableSegment.objects.filter(project=project).exists()


def test_a_segment_length_is_computed_from_its_route(client, official, project):
    client.force_login(official)
    geojson = json.dumps(
        {"type": "LineString", "coordinates": [[105.815, 21.032], [105.825, 21.0314]]}
    )
    response = client.post(
        f"/cables/projects/{project.pk}/segments/",
        {
            "segment-name": "Kim Mã",
            "segment-method": "existing_duct",
            "segment-bores": "4",
            "segment-route_text": geojson,
            "segment-operator": Organization.objects.get(code="VNPT").pk,
        },
    )
    assert response.status_code == 302
    segment = CableSegment.objects.get(project=project)
    assert 1000 < segment.length_m < 1100
    page = client.get(f"/cables/projects/{project.pk}/").content.decode()
    assert f'data-length="{round(segment.length_m)}"' in page


def test_an_operator_outside_the_project_cannot_be_responsible(client, official, project):
    client.force_login(official)
    response = client.post(
        f"/cables/projects/{project.pk}/segments/",
        {
            "segment-name": "Kim Mã",
            "segment-method": "new_duct_bank",
            "segment-bores": "4",
            "segment-route_text": KIM_MA_WKT,
            "segment-operator": Organization.objects.get(code="MOBIFONE").pk,
        },
    )
    assert response.status_code == 400
    assert not CableSegment.objects.exists()


def future():
    return (timezone.localdate() + datetime.timedelta(days=2)).isoformat()


BAD_PROGRESS = [
    ({"duct_built_m": "5000"}, "on a"),
    ({"cable_pulled_m": "-5"}, "cannot be negative"),
    ({"reported_on": future()}, "cannot be in the future"),
    ({"duct_built_m": "abc"}, "Enter a number"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_PROGRESS)
def test_bad_progress_is_refused_and_nothing_stored(client, make_user, segment, extra, message):
    client.force_login(make_user("operator_staff", "VIETTEL"))
    response = client.post(
        f"/cables/projects/{segment.project_id}/progress/", progress_post(segment, **extra)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ProgressUpdate.objects.exists()


def test_progress_on_someone_elses_project_is_refused(client, make_user, official, segment):
    other = make_project(official, code="NT-2026", participants=("MOBIFONE",))
    client.force_login(make_user("operator_staff", "MOBIFONE"))
    # Through its own project's form, naming a segment of a project it does not take part in.
    response = client.post(f"/cables/projects/{other.pk}/progress/", progress_post(segment))
    assert response.status_code == 403  # no segment of its own project to report on
    response = client.post(
        f"/cables/projects/{segment.project_id}/progress/", progress_post(segment)
    )
    assert response.status_code == 404
    assert not ProgressUpdate.objects.exists()


def test_a_correction_replaces_the_update_it_names(client, make_user, segment):
    client.force_login(make_user("operator_staff", "VIETTEL"))
    url = f"/cables/projects/{segment.project_id}/progress/"
    assert client.post(url, progress_post(segment, duct_built_m="300")).status_code == 302
    first = ProgressUpdate.objects.get()
    response = client.post(url, progress_post(segment, duct_built_m="250", corrects=first.pk))
    assert response.status_code == 302
    page = client.get(f"/cables/projects/{segment.project_id}/").content.decode()
    assert 'data-corrected="1"' in page and 'data-testid="correction"' in page
    assert services.segment_totals([segment.pk])[segment.pk]["duct_built_m"] == 250


def test_photos_must_be_images(client, make_user, segment):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(make_user("operator_staff", "VIETTEL"))
    fake = SimpleUploadedFile("cong-trinh.jpg", b"%PDF-1.4 not an image", "image/jpeg")
    data = progress_post(segment)
    data["progress-photos"] = fake
    response = client.post(f"/cables/projects/{segment.project_id}/progress/", data)
    assert response.status_code == 400
    assert not ProgressUpdate.objects.exists()


def test_an_import_with_bad_rows_lists_them_and_writes_nothing(client, official, project):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(official)
    text = (
        "name,method,operator,wkt\n"
        f'Kim Mã 1,new_duct_bank,VIETTEL,"{KIM_MA_WKT}"\n'
        'Ngoài,new_duct_bank,VIETTEL,"LINESTRING(2.35 48.85, 2.36 48.86)"\n'
        f'Kim Mã 3,digging,MOBIFONE,"{KIM_MA_WKT}"\n'
    )
    upload = SimpleUploadedFile("segments.csv", text.encode(), "text/csv")
    response = client.post(
        f"/cables/projects/{project.pk}/segments/import/", {"import-file": upload}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert page.count('data-testid="import-error"') >= 3
    assert "leaves Vietnam" in page
    assert not CableSegment.objects.exists()
    good = SimpleUploadedFile(
        "segments.csv",
        text.splitlines()[0].encode() + b"\n" + text.splitlines()[1].encode(),
        "text/csv",
    )
    response = client.post(f"/cables/projects/{project.pk}/segments/import/", {"import-file": good})
    assert response.status_code == 302
    assert CableSegment.objects.filter(project=project).count() == 1


def test_bad_notice_input_is_refused(client, official):
    client.force_login(official)
    today = timezone.localdate()
    base = {
        "title": "Cải tạo vỉa hè Nguyễn Trãi",
        "owner": Organization.objects.get(code="UBND_HN").pk,
        "registration_deadline": (today + datetime.timedelta(days=10)).isoformat(),
        "effective_from": (today + datetime.timedelta(days=5)).isoformat(),
        "route_text": NGUYEN_TRAI_WKT,
    }
    response = client.post("/cables/notices/new/", base)
    assert response.status_code == 200 and "Registration must close" in response.content.decode()
    response = client.post(
        "/cables/notices/new/",
        {**base, "effective_from": "", "route_text": "LINESTRING(2 48, 3 49)"},
    )
    assert "leaves Vietnam" in response.content.decode()
    assert not CivilWorksNotice.objects.exists()


def test_registering_twice_or_after_the_deadline_is_refused(client, make_user, notice):
    client.force_login(make_user("operator_staff", "VIETTEL"))
    url = f"/cables/notices/{notice.pk}/register/"
    assert client.post(url, {"reg-need": "duct", "reg-bores": "2"}).status_code == 302
    again = client.post(url, {"reg-need": "cable", "reg-bores": "1"})
    assert again.status_code == 400 and "already registered" in again.content.decode()
    CivilWorksNotice.objects.filter(pk=notice.pk).update(
        registration_deadline=timezone.localdate() - datetime.timedelta(days=1)
    )
    client.force_login(make_user("operator_staff", "MOBIFONE"))
    late = client.post(url, {"reg-need": "duct", "reg-bores": "1"}, follow=True)
    assert "closed" in late.content.decode()
    assert notice.registrations.count() == 1


def test_bad_filter_values_are_form_errors_not_500(client, official):
    client.force_login(official)
    assert client.get("/cables/?year=abc&commune=nope").status_code == 200
    assert client.get("/cables/map.geojson?bbox=1,2").status_code == 200


# --- Query counts, exports, the map -------------------------------------------------------------------


def make_projects(official, n, start=0):
    for i in range(start, start + n):
        project = make_project(official, code=f"P-{i:03d}")
        seg = services.save_segment(
            official,
            project,
            name=f"Đoạn {i}",
            route=KIM_MA,
            method="existing_duct",
            operator=Organization.objects.get(code="VNPT"),
        )
        services.record_progress(official, seg, reported_on=timezone.localdate(), duct_built_m=100)


def test_the_list_query_count_does_not_grow_with_the_rows(
    client, official, django_assert_max_num_queries
):
    client.force_login(official)
    make_projects(official, 2)
    with django_assert_max_num_queries(14):
        assert client.get("/cables/").status_code == 200
    make_projects(official, 12, start=2)
    with django_assert_max_num_queries(14):
        response = client.get("/cables/")
    assert response.content.decode().count('data-testid="project-row"') == 14


def test_the_project_page_query_count_does_not_grow_with_segments(
    client, official, project, django_assert_max_num_queries
):
    client.force_login(official)

    def add(n):
        for i in range(n):
            seg = services.save_segment(
                official, project, name=f"Đoạn {i}", route=KIM_MA, method="existing_duct"
            )
            services.record_progress(
                official, seg, reported_on=timezone.localdate(), duct_built_m=10
            )

    add(1)
    with django_assert_max_num_queries(40) as few:
        assert client.get(f"/cables/projects/{project.pk}/").status_code == 200
    add(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(f"/cables/projects/{project.pk}/").status_code == 200


def test_list_shows_km_and_percent(client, official, segment):
    services.record_progress(
        official, segment, reported_on=timezone.localdate(), duct_built_m=segment.length_m / 2
    )
    client.force_login(official)
    page = client.get("/cables/").content.decode()
    assert 'data-testid="pct-duct">50%' in page


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_holds_the_filtered_projects_with_totals(client, official, segment, fmt):
    make_project(official, code="OLD-2020", year=2020)
    client.force_login(official)
    response = client.get(f"/cables/?year=2026&export={fmt}")
    assert response.status_code == 200
    if fmt == "csv":
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(body)))
    else:
        sheet = load_workbook(io.BytesIO(response.content)).active
        values = list(sheet.values)
        rows = [dict(zip(values[0], r, strict=True)) for r in values[1:]]
    assert [r["code"] for r in rows] == ["KM-2026"]
    assert float(rows[0]["km_planned"]) == pytest.approx(segment.length_m / 1000, abs=0.001)
    assert "VIETTEL" in str(rows[0]["participants"])


def test_the_map_geojson_is_filtered_and_carries_progress(client, official, segment):
    services.record_progress(official, segment, reported_on=timezone.localdate(), duct_built_m=200)
    client.force_login(official)
    data = json.loads(client.get("/cables/map.geojson?bbox=105.80,21.02,105.84,21.04").content)
    (feature,) = data["features"]
    assert feature["properties"]["duct_built_m"] == 200
    assert feature["geometry"]["type"] == "LineString"
    empty = json.loads(client.get("/cables/map.geojson?bbox=105.90,21.10,105.95,21.15").content)
    assert empty["features"] == []
    assert json.loads(client.get("/cables/map.geojson?status=cancelled").content)["features"] == []
    assert CableProject.objects.count() == 1
