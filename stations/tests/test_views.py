"""The stations app's HTML pages: permissions, bad input through forms, exports, query counts."""

import csv
import datetime
import io
import unicodedata
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from openpyxl import load_workbook

from conftest import ROLE_USERS
from core.models import Notification
from stations import services
from stations.models import ApplicationDocument, PermitApplication, PublicSite, Station
from stations.tests.conftest import BA_DINH, NEAR_BA_DINH, jpeg_named_pdf, pdf

pytestmark = pytest.mark.django_db

ROLES = list(ROLE_USERS)
# Who sees every organisation's records (the rest see their own operator's, or nothing).
SEES_ALL = {"city_official", "national_official", "agency_api_client", "administrator"}
# Who may create stations and import them (city officials, an operator's staff and API client).
MAY_CREATE = {
    "city_official",
    "administrator",
    "operator_viettel",
    "operator_mobifone",
    "operator_api_client",
}
MAY_APPLY = {"operator_viettel", "operator_mobifone", "operator_api_client"}
CITY = {"city_official", "administrator"}
OUTSIDE_VIETNAM = (2.3522, 48.8566)  # Paris


@pytest.fixture(autouse=True)
def english(client, settings, tmp_path):
    """Pages in English (messages are asserted in English; Vietnamese, the default, is checked
    separately), uploads in a temporary directory."""
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
def viettel_staff(make_user):
    return make_user("operator_staff", "VIETTEL")


@pytest.fixture
def official(make_user):
    return make_user("city_official", "SO_KHCN_HN")


@pytest.fixture
def objects(make_station, make_site, make_application, viettel_staff):
    """A Viettel station, a public site and a Viettel draft application."""
    station = make_station("VIETTEL")
    site = make_site()
    application = make_application(viettel_staff)
    return {"station": station, "site": site, "application": application}


def station_post(**overrides):
    data = {
        "operator": "",
        "code": "HN-T-1",
        "name": "Trạm thử",
        "address": "Số 1 Phố Thử",
        "commune": "",
        "lon": str(BA_DINH.x),
        "lat": str(BA_DINH.y),
        "structure_type": "monopole",
        "structure_height_m": "30",
        "building_height_m": "",
        "technologies": ["4G", "5G"],
        "land_category": "public_land",
        "status": "planned",
        "permit_reference": "",
        "commissioned_on": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- Permission matrix ------------------------------------------------------------------------------

LIST_PAGES = [
    "/stations/",
    "/stations/map/",
    "/stations/map.geojson",
    "/stations/sites/",
    "/stations/sites/map.geojson",
    "/stations/applications/",
    "/notifications/",
]


@pytest.mark.parametrize("url", LIST_PAGES)
@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_list_pages_need_a_login_and_open_for_every_role(client, login, url, role):
    login(role)
    response = client.get(url)
    if role == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    elif role == "no_role" and url != "/notifications/":
        assert response.status_code == 403  # an account without a role: core.access
    else:
        assert response.status_code == 200


def _detail_urls(objects):
    return {
        "station": f"/stations/{objects['station'].public_id}/",
        "application": f"/stations/applications/{objects['application'].pk}/",
        "site": f"/stations/sites/{objects['site'].public_id}/",
    }


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_detail_pages_are_scoped(client, login, objects, role):
    """Another operator's station or application is a 404; the site catalogue is for every role."""
    login(role)
    urls = _detail_urls(objects)
    own = role in SEES_ALL or role == "operator_viettel"
    for kind, url in urls.items():
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302, url
        elif role == "no_role":
            assert response.status_code == 403, url  # core.access
        elif kind == "site":
            assert response.status_code == 200, url
        else:
            assert response.status_code == (200 if own else 404), url


@pytest.mark.parametrize("role", ROLES)
def test_create_and_import_pages_for_allowed_roles_only(client, login, role):
    login(role)
    for url in ("/stations/new/", "/stations/import/"):
        assert client.get(url).status_code == (200 if role in MAY_CREATE else 403), url
    assert client.get("/stations/sites/new/").status_code == (200 if role in CITY else 403)
    assert client.get("/stations/applications/new/").status_code == (
        200 if role in MAY_APPLY else 403
    )


@pytest.mark.parametrize("role", ROLES)
def test_station_edit_page_for_allowed_roles_only(client, login, make_station, role):
    station = make_station("VIETTEL")
    login(role)
    response = client.get(f"/stations/{station.public_id}/edit/")
    if role in CITY or role == "operator_viettel":
        assert response.status_code == 200
    elif role in SEES_ALL or role == "no_role":
        assert response.status_code == 403  # sees it, may not change it; or has no role at all
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_site_edit_page_for_city_officials_only(client, login, make_site, role):
    site = make_site()
    login(role)
    response = client.get(f"/stations/sites/{site.public_id}/edit/")
    expected = 200 if role in CITY else 403
    assert response.status_code == expected


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_nobody_else_can_post_to_the_create_and_import_pages(client, login, org, role):
    if role in MAY_CREATE:
        return
    login(role)
    response = client.post("/stations/new/", station_post(operator=str(org("VIETTEL").pk)))
    assert response.status_code == (302 if role == "anonymous" else 403)
    response = client.post("/stations/import/", {"file": csv_file([[*GOOD_ROW, "public_land"]])})
    assert response.status_code == (302 if role == "anonymous" else 403)
    assert not Station.objects.exists()


def test_an_operator_cannot_create_a_station_for_another_operator(client, viettel_staff, org):
    client.force_login(viettel_staff)
    response = client.post("/stations/new/", station_post(operator=str(org("MOBIFONE").pk)))
    assert response.status_code == 200
    assert response.context["form"].errors["operator"]
    assert not Station.objects.filter(code="HN-T-1").exists()


def test_another_operator_gets_404_on_every_application_url(client, make_user, objects):
    app = objects["application"]
    client.force_login(make_user("operator_staff", "MOBIFONE"))
    for url in (
        f"/stations/applications/{app.pk}/",
        f"/stations/applications/{app.pk}/edit/",
    ):
        assert client.get(url).status_code == 404, url
    for url, data in (
        (f"/stations/applications/{app.pk}/submit/", {"submit-version": app.version}),
        (f"/stations/applications/{app.pk}/withdraw/", {"withdraw-version": app.version}),
        (f"/stations/applications/{app.pk}/messages/", {"msg-text": "hi"}),
        (f"/stations/applications/{app.pk}/documents/", {"doc-document_type": 1}),
    ):
        assert client.post(url, data).status_code == 404, url
    app.refresh_from_db()
    assert app.status == PermitApplication.Status.DRAFT


@pytest.mark.parametrize("role", ["national_official", "operator_viettel"])
def test_a_role_that_may_not_decide_gets_a_message_and_nothing_changes(
    client, login, make_user, make_application, role
):
    lan = make_user("operator_staff", "VIETTEL")
    app = services.submit(lan, make_application(lan), sharing_justification="x")
    services.accept(make_user("city_official", "SO_KHCN_HN"), app)
    app.refresh_from_db()
    login(role)
    response = client.post(
        f"/stations/applications/{app.pk}/approve/",
        {"approve-version": app.version, "approve-decision_number": "123/QĐ"},
        follow=True,
    )
    assert response.status_code == 200
    assert any(m.level_tag == "error" for m in response.context["messages"])
    app.refresh_from_db()
    assert app.status == PermitApplication.Status.UNDER_REVIEW


# --- Station forms: bad input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"lon": str(OUTSIDE_VIETNAM[0]), "lat": str(OUTSIDE_VIETNAM[1])}, "location"),
        ({"commune": "00166"}, "commune"),  # the point is in Ba Đình, not Cầu Giấy
        ({"structure_height_m": "0"}, "structure_height_m"),
        ({"structure_height_m": "-5"}, "structure_height_m"),
        ({"structure_height_m": "301"}, "structure_height_m"),
        ({"lon": "", "lat": ""}, "location"),
        ({"lon": "105.83", "lat": ""}, "lat"),
        ({"code": ""}, "code"),
        ({"technologies": ["6G"]}, "technologies"),
    ],
)
def test_bad_station_input_is_a_form_error(
    client, official, org, unit, needs_shared_data, overrides, field
):
    client.force_login(official)
    if overrides.get("commune"):
        overrides["commune"] = str(unit(overrides["commune"]).pk)
    data = station_post(operator=str(org("VIETTEL").pk), **overrides)
    response = client.post("/stations/new/", data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors.get(field), form.errors
    assert not Station.objects.exists()


def test_wrong_commune_names_the_right_one(client, official, org, unit, needs_shared_data):
    client.force_login(official)
    data = station_post(operator=str(org("VIETTEL").pk), commune=str(unit("00166").pk))
    html = client.post("/stations/new/", data).content.decode()
    assert "The location is in Phường Ba Đình, not in Phường Cầu Giấy." in html


def test_outside_vietnam_message(client, official, org):
    client.force_login(official)
    data = station_post(
        operator=str(org("VIETTEL").pk), lon=str(OUTSIDE_VIETNAM[0]), lat=str(OUTSIDE_VIETNAM[1])
    )
    html = client.post("/stations/new/", data).content.decode()
    assert "The location is outside Vietnam." in html


def test_create_a_station_the_commune_found_from_the_point(
    client, official, org, needs_shared_data
):
    client.force_login(official)
    response = client.post("/stations/new/", station_post(operator=str(org("VIETTEL").pk)))
    station = Station.objects.get(code="HN-T-1")
    assert response.status_code == 302
    assert response["Location"] == f"/stations/{station.public_id}/"
    assert station.commune.code == "00004"
    assert station.technologies == ["4G", "5G"]


def test_create_with_the_map_widget_only(client, viettel_staff, org, needs_shared_data):
    """Without lon/lat the point drawn on the Leaflet widget (GeoJSON) is used."""
    client.force_login(viettel_staff)
    data = station_post(
        operator=str(org("VIETTEL").pk),
        lon="",
        lat="",
        location='{"type": "Point", "coordinates": [105.8345, 21.036]}',
    )
    assert client.post("/stations/new/", data).status_code == 302
    assert Station.objects.get(code="HN-T-1").operator.code == "VIETTEL"


def test_edit_a_station_and_see_its_history(client, official, make_station, needs_shared_data):
    station = make_station("VIETTEL", name="Trạm cũ")
    client.force_login(official)
    page = client.get(f"/stations/{station.public_id}/edit/")
    assert page.context["form"].initial["lon"] == pytest.approx(BA_DINH.x)
    data = station_post(
        operator=str(station.operator_id),
        code=station.code,
        name="Trạm mới",
        commune=str(station.commune_id),
        structure_height_m="2.5",
        building_height_m="20",
        structure_type="rooftop_mast",
    )
    response = client.post(f"/stations/{station.public_id}/edit/", data)
    assert response.status_code == 302
    station.refresh_from_db()
    assert station.name == "Trạm mới" and station.non_bulky
    detail = client.get(f"/stations/{station.public_id}/")
    history = detail.context["history"]
    assert history[0]["who"] == (official.get_full_name() or official.username)
    changed = {c["field"] for c in history[0]["changes"]}
    assert {"name", "structure height (m)"} <= {str(f) for f in changed}
    html = detail.content.decode()
    assert 'data-testid="non-bulky-badge"' in html and 'data-testid="station-edit"' in html


def test_detail_without_edit_button_for_a_national_official(client, login, make_station):
    station = make_station("VIETTEL")
    login("national_official")
    html = client.get(f"/stations/{station.public_id}/").content.decode()
    assert 'data-testid="station-edit"' not in html
    assert station.code in html


# --- The non-bulky hint ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "state"),
    [
        (
            {
                "structure_type": "rooftop_mast",
                "structure_height_m": "6",
                "building_height_m": "24",
            },
            "no",
        ),
        (
            {
                "structure_type": "rooftop_mast",
                "structure_height_m": "3",
                "building_height_m": "24",
            },
            "yes",
        ),
        (
            {
                "structure_type": "rooftop_mast",
                "structure_height_m": "2,5",
                "building_height_m": "10",
            },
            "no",
        ),
        ({"structure_type": "camouflaged_mast", "structure_height_m": "12"}, "yes"),
        ({"structure_type": "monopole", "structure_height_m": "2"}, "no"),
        ({"structure_type": "rooftop_mast", "structure_height_m": "2"}, "unknown"),
        ({"structure_type": "", "structure_height_m": "abc"}, "unknown"),
    ],
)
def test_non_bulky_hint(client, login, params, state):
    login("operator_viettel")
    response = client.get("/stations/hint/non-bulky/", params)
    assert response.status_code == 200
    assert f'data-non-bulky="{state}"' in response.content.decode()


def test_non_bulky_hint_says_why(client, login):
    login("operator_viettel")
    html = client.get(
        "/stations/hint/non-bulky/",
        {"structure_type": "rooftop_mast", "structure_height_m": "6", "building_height_m": "24"},
    ).content.decode()
    assert "over the 3 m limit" in html


# --- List: filters, sorting, paging, exports, query counts -----------------------------------------------


@pytest.fixture
def mixed_stations(make_station):
    heights = ["12", "45", "3", "30", "6"]
    for i, h in enumerate(heights):
        make_station("VIETTEL", code=f"V-{i}", structure_height_m=Decimal(h))
    for i in range(3):
        make_station("MOBIFONE", code=f"M-{i}", location=NEAR_BA_DINH)
    make_station(
        "VIETTEL",
        code="V-ROOF",
        structure_type="rooftop_mast",
        structure_height_m=Decimal("2.5"),
        building_height_m=Decimal("20"),
        commissioned_on=datetime.date(2025, 3, 9),
    )


def codes(response):
    return [s.code for s in response.context["object_list"]]


def test_list_filters_by_operator_and_shows_non_bulky(client, login, mixed_stations):
    login("city_official")
    response = client.get("/stations/", {"operator": "MOBIFONE"})
    assert sorted(codes(response)) == ["M-0", "M-1", "M-2"]
    response = client.get("/stations/", {"non_bulky": "true"})
    assert codes(response) == ["V-ROOF"]
    assert 'data-testid="non-bulky-badge"' in response.content.decode()


def test_list_is_scoped_for_operators(client, login, mixed_stations):
    login("operator_mobifone")
    assert sorted(codes(client.get("/stations/"))) == ["M-0", "M-1", "M-2"]


def test_list_sorting_by_clickable_headers(client, login, mixed_stations):
    login("city_official")
    response = client.get("/stations/", {"operator": "VIETTEL", "ordering": "-height"})
    assert codes(response) == ["V-1", "V-3", "V-0", "V-4", "V-2", "V-ROOF"]
    response = client.get("/stations/", {"operator": "VIETTEL", "ordering": "height"})
    assert codes(response)[0] == "V-ROOF"
    headers = {h.get("key"): h for h in response.context["headers"]}
    assert headers["height"]["direction"] == "asc"
    assert "ordering=-height" in headers["height"]["url"]
    assert "operator=VIETTEL" in headers["height"]["url"]
    assert codes(client.get("/stations/", {"ordering": "code"}))[:3] == ["M-0", "M-1", "M-2"]


def test_bad_filter_value_is_a_form_error_not_a_500(client, login, mixed_stations):
    login("city_official")
    response = client.get("/stations/", {"status": "nonsense", "ordering": "nonsense"})
    assert response.status_code == 200
    assert client.get("/stations/map.geojson", {"bbox": "a,b"}).json()["features"] == []


def test_the_count_is_capped(client, login, mixed_stations, monkeypatch):
    from stations import views

    monkeypatch.setattr(views.CappedPaginator, "cap", 5)
    login("city_official")
    response = client.get("/stations/")
    paginator = response.context["paginator"]
    assert paginator.capped and paginator.count == 6
    assert "narrow the filters" in response.content.decode()


def test_pagination_50_a_page(client, login, make_station):
    for i in range(53):
        make_station("VIETTEL", code=f"P-{i:03d}")
    login("city_official")
    first = client.get("/stations/")
    assert len(first.context["object_list"]) == 50
    assert 'rel="next"' in first.content.decode()
    assert len(client.get("/stations/", {"page": 2}).context["object_list"]) == 3


def test_csv_export_parses_back_with_the_filtered_rows(client, login, mixed_stations):
    login("city_official")
    response = client.get("/stations/", {"operator": "VIETTEL", "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["code"] for r in rows) == ["V-0", "V-1", "V-2", "V-3", "V-4", "V-ROOF"]
    roof = next(r for r in rows if r["code"] == "V-ROOF")
    assert roof["operator"] == "VIETTEL"
    assert roof["commissioned_on"] == "09/03/2025"
    assert roof["structure_height_m"] == "2.5"
    assert roof["technologies"] == "4G"
    assert float(roof["lon"]) == pytest.approx(BA_DINH.x)
    assert set(services.IMPORT_COLUMNS) <= set(rows[0])


def test_xlsx_export_parses_back_with_the_filtered_rows(client, login, mixed_stations):
    login("city_official")
    response = client.get("/stations/", {"operator": "MOBIFONE", "export": "xlsx"})
    assert response.status_code == 200
    assert "spreadsheetml" in response["Content-Type"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:3] == ["operator", "code", "name"]
    assert sorted(r[header.index("code")] for r in rows[1:]) == ["M-0", "M-1", "M-2"]
    viettel = client.get("/stations/", {"q": "V-ROOF", "export": "xlsx"})
    wb = load_workbook(io.BytesIO(viettel.content))
    ws = wb.active
    col = [c.value for c in ws[1]].index("commissioned_on") + 1
    cell = ws.cell(row=2, column=col)
    assert cell.value.date().isoformat() == "2025-03-09"
    assert cell.number_format == "DD/MM/YYYY"


def test_an_export_is_scoped(client, login, mixed_stations):
    login("operator_mobifone")
    response = client.get("/stations/", {"export": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert sorted(r["code"] for r in csv.DictReader(io.StringIO(text))) == ["M-0", "M-1", "M-2"]


def test_an_exported_csv_imports_back(client, login, mixed_stations):
    login("city_official")
    response = client.get("/stations/", {"operator": "MOBIFONE", "export": "csv"})
    content = b"".join(response.streaming_content)
    upload = SimpleUploadedFile("stations.csv", content, content_type="text/csv")
    response = client.post("/stations/import/", {"file": upload})
    assert response.status_code == 302
    assert Station.objects.filter(operator__code="MOBIFONE").count() == 3


@pytest.mark.parametrize("n", [5, 60])
def test_station_list_query_count_does_not_grow_with_rows(
    client, login, make_station, django_assert_max_num_queries, n
):
    for i in range(n):
        make_station("VIETTEL" if i % 2 else "VNPT", code=f"Q-{i:03d}")
    login("city_official")
    # session, user, roles, capped count, unread notifications, filter choices (2), page: 9 now.
    with django_assert_max_num_queries(11):
        response = client.get("/stations/", {"ordering": "-height"})
    assert len(response.context["object_list"]) == min(n, 50)
    with django_assert_max_num_queries(6):
        client.get("/stations/map.geojson")
    with django_assert_max_num_queries(6):
        client.get("/stations/", {"export": "csv"}).getvalue()


@pytest.mark.parametrize("n", [5, 60])
def test_site_and_application_lists_query_count_does_not_grow(
    client, make_site, make_application, make_user, django_assert_max_num_queries, n
):
    lan = make_user("operator_staff", "VIETTEL")
    for i in range(n):
        site = make_site(name=f"Site {i}")
        app = make_application(lan, station_code=f"A-{i}", public_site=site)
        if i % 2:
            services.submit(lan, app, sharing_justification="x")
    client.force_login(make_user("city_official", "SO_KHCN_HN"))
    with django_assert_max_num_queries(11):
        client.get("/stations/sites/")
    with django_assert_max_num_queries(11):
        response = client.get("/stations/applications/")
    assert len(response.context["object_list"]) == min(n // 2, 50)
    client.force_login(lan)
    with django_assert_max_num_queries(11):
        client.get("/stations/applications/")


def test_geojson_is_scoped_filtered_and_boxed(client, login, mixed_stations, make_station):
    make_station("VIETTEL", code="FAR", location=Point(105.60, 21.20, srid=4326))
    login("operator_mobifone")
    data = client.get("/stations/map.geojson").json()
    assert len(data["features"]) == 3
    login("city_official")
    everything = client.get("/stations/map.geojson").json()["features"]
    assert len(everything) == 10
    boxed = client.get("/stations/map.geojson", {"bbox": "105.80,21.00,105.90,21.10"}).json()
    assert len(boxed["features"]) == 9
    only = client.get("/stations/map.geojson", {"operator": "MOBIFONE", "technology": "4G"})
    feature = only.json()["features"][0]
    assert set(feature["properties"]) >= {"code", "name", "operator", "status"}


def test_map_point_limit(client, login, mixed_stations, monkeypatch):
    from stations import views

    monkeypatch.setattr(views.register, "MAP_POINT_LIMIT", 4)
    login("city_official")
    assert len(client.get("/stations/map.geojson").json()["features"]) == 5  # limit + 1


# --- Import ------------------------------------------------------------------------------------------

GOOD_ROW = ["VIETTEL", "IMP-1", "Trạm nhập", "Hà Nội", "", "105.8345", "21.036", "monopole", "30"]
HEADER = [
    "operator",
    "code",
    "name",
    "address",
    "commune",
    "lon",
    "lat",
    "structure_type",
    "structure_height_m",
    "land_category",
]


def csv_file(rows, name="stations.csv"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(row)
    return SimpleUploadedFile(name, buffer.getvalue().encode(), content_type="text/csv")


def test_import_shows_an_error_table_and_writes_nothing(client, official, needs_shared_data):
    client.force_login(official)
    rows = [
        [*GOOD_ROW, "public_land"],
        ["NOBODY", "IMP-2", "x", "", "", "105.8345", "21.036", "monopole", "30", "public_land"],
        ["VIETTEL", "IMP-3", "x", "", "", "2.35", "48.85", "monopole", "30", "public_land"],
        ["VIETTEL", "IMP-4", "x", "", "", "105.8345", "21.036", "monopole", "301", "public_land"],
        ["VIETTEL", "IMP-5", "x", "", "00166", "105.8345", "21.036", "monopole", "0", "private"],
    ]
    response = client.post("/stations/import/", {"file": csv_file(rows)})
    assert response.status_code == 400
    errors = response.context["import_errors"]
    by_row = {(e["row"], e["column"]) for e in errors}
    assert (3, "operator") in by_row and (4, "lon") in by_row
    assert (5, "structure_height_m") in by_row and (6, "structure_height_m") in by_row
    html = response.content.decode()
    assert 'data-testid="import-errors"' in html and "Unknown operator NOBODY." in html
    assert not Station.objects.exists()


def test_a_file_without_the_columns_goes_to_the_mapping_step(client, official):
    client.force_login(official)
    upload = SimpleUploadedFile("x.csv", b"a,b\n1,2\n", content_type="text/csv")
    response = client.post("/stations/import/", {"file": upload}, follow=True)
    assert response.redirect_chain[-1][0].endswith("/mapping/")
    assert response.context["missing"][:2] == ["operator", "code"]
    assert [c["name"] for c in response.context["columns"]] == ["a", "b"]
    assert not Station.objects.exists()


def test_import_rejects_a_fake_xlsx(client, official):
    client.force_login(official)
    upload = SimpleUploadedFile("x.xlsx", b"not a workbook", content_type="application/zip")
    response = client.post("/stations/import/", {"file": upload})
    assert response.status_code == 400 and not Station.objects.exists()


def test_import_success_with_counts(client, viettel_staff, xlsx_bytes, needs_shared_data):
    client.force_login(viettel_staff)
    content = xlsx_bytes([HEADER, [*GOOD_ROW, "public_land"]])
    upload = SimpleUploadedFile("s.xlsx", content, content_type="application/octet-stream")
    response = client.post("/stations/import/", {"file": upload}, follow=True)
    assert response.redirect_chain[-1][0] == "/stations/"
    assert "1 stations created, 0 updated" in response.content.decode()
    assert Station.objects.get(code="IMP-1").commune.code == "00004"


@pytest.mark.parametrize(
    "label, encode",
    [
        ("Excel's Unicode text: UTF-16 with BOM, tabs", lambda rows: "\r\n".join(
            "\t".join(r) for r in rows).encode("utf-16")),
        ("CR-only, semicolons, NFD names", lambda rows: unicodedata.normalize(
            "NFD", "\r".join(";".join(r) for r in rows)).encode()),
        ("a title row above the header", lambda rows: "\n".join(
            ",".join(r) for r in [["Danh sách trạm BTS"], *rows]).encode()),
    ],
)  # fmt: skip
def test_files_as_excel_writes_them_import_with_their_names_intact(
    client, viettel_staff, needs_shared_data, label, encode
):
    """Each of these gave a 500 or "missing columns" before; the name is stored as typed, NFC."""
    client.force_login(viettel_staff)
    rows = [HEADER, [*GOOD_ROW, "public_land"]]
    upload = SimpleUploadedFile("s.csv", encode(rows), content_type="text/csv")
    response = client.post("/stations/import/", {"file": upload}, follow=True)
    assert response.redirect_chain[-1][0] == "/stations/", label
    assert Station.objects.get(code="IMP-1").name == "Trạm nhập"


def test_an_operator_may_not_import_another_operators_stations(client, make_user):
    client.force_login(make_user("operator_staff", "MOBIFONE"))
    response = client.post("/stations/import/", {"file": csv_file([[*GOOD_ROW, "public_land"]])})
    assert response.status_code == 400
    assert response.context["import_errors"][0]["column"] == "operator"
    assert not Station.objects.exists()


def test_import_template_has_the_columns(client, official):
    client.force_login(official)
    response = client.get("/stations/import/template.csv")
    header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert tuple(header) == services.IMPORT_COLUMNS


# --- Public sites ------------------------------------------------------------------------------------


def test_an_official_creates_a_site(client, official, org, needs_shared_data):
    client.force_login(official)
    data = {
        "name": "Nhà văn hoá",
        "owner": str(org("UBND_HN").pk),
        "address": "Số 2",
        "commune": "",
        "land_category": "public_building",
        "lon": "105.8345",
        "lat": "21.036",
        "building_height_m": "15",
        "capacity": "2",
        "conditions": "",
        "status": "available",
    }
    response = client.post("/stations/sites/new/", data)
    site = PublicSite.objects.get(name="Nhà văn hoá")
    assert response.status_code == 302 and site.commune.code == "00004"
    data.update(lon=str(OUTSIDE_VIETNAM[0]), lat=str(OUTSIDE_VIETNAM[1]))
    response = client.post(f"/stations/sites/{site.public_id}/edit/", data)
    assert response.status_code == 200 and response.context["form"].errors["location"]


def test_site_map_offers_apply_only_to_operators(client, login, make_site):
    site = make_site()
    login("operator_viettel")
    response = client.get("/stations/sites/")
    assert response.context["map_config"]["canApply"] is True
    data = client.get("/stations/sites/map.geojson", {"status": "available"}).json()
    assert [f["properties"]["id"] for f in data["features"]] == [str(site.public_id)]
    login("city_official")
    assert client.get("/stations/sites/").context["map_config"]["canApply"] is False


# --- Permit applications ---------------------------------------------------------------------------------


def application_post(site=None, **overrides):
    data = {
        "application_type": "",
        "public_site": str(site.pk) if site else "",
        "station_code": "HN-NEW-1",
        "station_name": "Trạm mới",
        "address": "",
        "commune": "",
        "lon": "",
        "lat": "",
        "structure_type": "rooftop_mast",
        "structure_height_m": "6",
        "building_height_m": "",
        "technologies": ["4G"],
        "land_category": "",
    }
    data.update(overrides)
    return data


def test_new_application_is_prefilled_from_the_site(client, viettel_staff, make_site, app_type):
    site = make_site()
    client.force_login(viettel_staff)
    response = client.get("/stations/applications/new/", {"site": str(site.public_id)})
    form = response.context["form"]
    assert form.initial["public_site"] == site.pk
    assert form.initial["building_height_m"] == Decimal("24")
    assert form.initial["lon"] == pytest.approx(site.location.x)
    html = response.content.decode()
    assert site.owner.name in html and 'data-testid="site-card"' in html
    assert client.get("/stations/applications/new/", {"site": "nonsense"}).status_code == 404


def test_draft_from_a_site_then_submit_needs_a_justification(
    client, viettel_staff, make_site, make_station, app_type, needs_shared_data
):
    site = make_site()
    make_station("MOBIFONE", code="MOB-1", location=NEAR_BA_DINH)
    client.force_login(viettel_staff)
    response = client.post(
        "/stations/applications/new/",
        application_post(site, application_type=str(app_type().pk)),
    )
    app = PermitApplication.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/stations/applications/{app.pk}/"
    assert app.location == site.location and app.commune == site.commune
    assert app.building_height_m == Decimal("24") and app.address == site.address

    page = client.get(f"/stations/applications/{app.pk}/")
    assert [c["code"] for c in page.context["candidates"]] == ["MOB-1"]
    assert page.context["hint"]["state"] == "no"
    assert [a["action"] for a in page.context["action_forms"]] == ["submit", "withdraw"]

    response = client.post(
        f"/stations/applications/{app.pk}/submit/",
        {"submit-version": app.version, "submit-sharing_justification": ""},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "say why you will not share one" in html
    app.refresh_from_db()
    assert app.status == "draft" and app.number is None

    response = client.post(
        f"/stations/applications/{app.pk}/submit/",
        {"submit-version": app.version, "submit-sharing_justification": "Cột MobiFone đã đầy."},
        follow=True,
    )
    app.refresh_from_db()
    assert app.status == "submitted" and app.number
    html = response.content.decode()
    assert app.number in html and 'data-testid="checklist"' in html
    assert response.context["days_left"] == app.application_type.decision_days


def test_bad_application_input(client, viettel_staff, app_type, needs_shared_data):
    client.force_login(viettel_staff)
    data = application_post(
        application_type=str(app_type().pk),
        lon=str(OUTSIDE_VIETNAM[0]),
        lat=str(OUTSIDE_VIETNAM[1]),
        address="x",
        land_category="public_land",
    )
    response = client.post("/stations/applications/new/", data)
    assert response.status_code == 200 and response.context["form"].errors["location"]
    data.update(lon="105.8345", lat="21.036", structure_height_m="301")
    response = client.post("/stations/applications/new/", data)
    assert response.context["form"].errors["structure_height_m"]
    assert not PermitApplication.objects.exists()


def test_upload_checks_the_content_not_the_name(client, viettel_staff, objects, doc_type):
    app = objects["application"]
    client.force_login(viettel_staff)
    url = f"/stations/applications/{app.pk}/documents/"
    response = client.post(
        url, {"doc-document_type": doc_type("land_use").pk, "doc-file": jpeg_named_pdf()}
    )
    assert response.status_code == 400
    assert "is named land-use.pdf but its content is JPEG" in response.content.decode()
    assert not ApplicationDocument.objects.exists()
    response = client.post(url, {"doc-document_type": doc_type().pk, "doc-file": pdf()})
    assert response.status_code == 302
    document = ApplicationDocument.objects.get()
    page = client.get(f"/stations/applications/{app.pk}/")
    done = {i["type"].code: i["done"] for i in page.context["checklist"]}
    assert done["drawings"] and not done["land_use"]
    download = client.get(f"/stations/applications/{app.pk}/documents/{document.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")


def test_the_queue_is_sorted_by_deadline_and_hides_drafts(
    client, make_user, make_application, official
):
    lan = make_user("operator_staff", "VIETTEL")
    first = services.submit(lan, make_application(lan, station_code="A"), "x")
    later = services.submit(lan, make_application(lan, station_code="B"), "x")
    PermitApplication.objects.filter(pk=first.pk).update(
        decision_due=later.decision_due + datetime.timedelta(days=7)
    )
    returned = services.submit(lan, make_application(lan, station_code="C"), "x")
    services.return_for_supplement(official, returned, "thiếu bản vẽ")
    make_application(lan, station_code="D")  # a draft
    client.force_login(official)
    rows = client.get("/stations/applications/").context["object_list"]
    assert [a.station_code for a in rows] == ["B", "A", "C"]
    client.force_login(lan)
    assert {
        a.station_code for a in client.get("/stations/applications/").context["object_list"]
    } == {
        "A",
        "B",
        "C",
        "D",
    }
    client.force_login(official)
    found = client.get("/stations/applications/", {"number": later.number}).context["object_list"]
    assert [a.pk for a in found] == [later.pk]


def test_a_stale_version_gets_the_conflict_message(client, make_user, make_application, official):
    lan = make_user("operator_staff", "VIETTEL")
    app = services.submit(lan, make_application(lan), "x")
    seen = app.version
    other = make_user("city_official", "SO_KHCN_HN")
    services.accept(other, app, expected_version=seen)
    client.force_login(official)
    response = client.post(
        f"/stations/applications/{app.pk}/return/",
        {"return-version": seen, "return-note": "thiếu"},
        follow=True,
    )
    assert response.status_code == 200
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert errors and "Someone else changed this application first" in errors[0]
    app.refresh_from_db()
    assert app.status == "under_review"


def test_required_action_fields_are_form_errors(client, make_user, make_application, official):
    lan = make_user("operator_staff", "VIETTEL")
    app = services.submit(lan, make_application(lan), "x")
    client.force_login(official)
    response = client.post(
        f"/stations/applications/{app.pk}/return/", {"return-version": app.version}
    )
    assert response.status_code == 400
    assert "Say what is missing." in response.content.decode()
    app = services.accept(official, app)
    response = client.post(
        f"/stations/applications/{app.pk}/approve/", {"approve-version": app.version}
    )
    assert "Enter the decision number." in response.content.decode()
    response = client.post(
        f"/stations/applications/{app.pk}/reject/", {"reject-version": app.version}
    )
    assert "Give the reasons for the rejection." in response.content.decode()
    app.refresh_from_db()
    assert app.status == "under_review"
    assert client.post(f"/stations/applications/{app.pk}/fly/", {}).status_code == 404


def test_the_whole_workflow_through_the_pages(
    client, make_user, make_application, make_site, official, needs_shared_data
):
    lan = make_user("operator_staff", "VIETTEL")
    site = make_site()
    app = services.submit(lan, make_application(lan, public_site=site), "x")

    def act(user, action, **fields):
        client.force_login(user)
        current = PermitApplication.objects.get(pk=app.pk)
        data = {f"{action}-version": current.version}
        data.update({f"{action}-{k}": v for k, v in fields.items()})
        response = client.post(f"/stations/applications/{app.pk}/{action}/", data)
        assert response.status_code == 302, response.content.decode()[:2000]
        return PermitApplication.objects.get(pk=app.pk)

    assert act(official, "return", note="Thiếu báo cáo kết cấu").status == "returned"
    client.force_login(lan)
    response = client.post(
        f"/stations/applications/{app.pk}/messages/", {"msg-text": "Đã bổ sung."}
    )
    assert response.status_code == 302
    assert act(lan, "resubmit").status == "resubmitted"
    assert act(official, "accept").status == "under_review"
    done = act(official, "approve", decision_number="123/QĐ-SKHCN")
    assert done.status == "approved" and done.station.status == Station.Status.PERMITTED
    site.refresh_from_db()
    assert site.status == PublicSite.Status.OCCUPIED
    client.force_login(official)
    listing = client.get("/stations/", {"q": done.station_code})
    assert [s.status for s in listing.context["object_list"]] == ["permitted"]
    page = client.get(f"/stations/applications/{app.pk}/")
    assert page.context["action_forms"] == []
    kinds = [e.kind for e in page.context["timeline"]]
    assert kinds.count("status") == 5 and "message" in kinds


# --- Notifications ---------------------------------------------------------------------------------------


def test_notifications_page_marks_read_and_the_badge_counts(client, make_user, make_application):
    lan = make_user("operator_staff", "VIETTEL")
    official = make_user("city_official", "SO_KHCN_HN")
    app = services.submit(lan, make_application(lan), "x")
    services.return_for_supplement(official, app, "Thiếu bản vẽ")
    client.force_login(lan)
    home = client.get("/stations/").content.decode()
    assert 'data-testid="unread-badge">1<' in home
    page = client.get("/notifications/")
    assert page.context["notifications"][0].was_unread
    assert "Thiếu bản vẽ" in page.content.decode()
    assert not Notification.objects.filter(recipient=lan, read_at__isnull=True).exists()
    assert 'data-testid="unread-badge"' not in client.get("/stations/").content.decode()


def test_mark_all_read(client, make_user):
    user = make_user("operator_staff", "VIETTEL")
    Notification.objects.create(recipient=user, title="a")
    Notification.objects.create(recipient=user, title="b")
    client.force_login(user)
    assert client.post("/notifications/read/").status_code == 302
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_notifications_are_ones_own(client, make_user):
    a, b = make_user("operator_staff", "VIETTEL"), make_user("operator_staff", "VIETTEL")
    Notification.objects.create(recipient=a, title="for a")
    client.force_login(b)
    assert "for a" not in client.get("/notifications/").content.decode()


def test_pages_are_vietnamese_by_default(client, settings, login, make_station):
    station = make_station()
    login("city_official")
    del client.cookies[settings.LANGUAGE_COOKIE_NAME]
    html = client.get(f"/stations/{station.public_id}/").content.decode()
    assert '<html lang="vi">' in html


# --- Sharing from the co-location check ------------------------------------------------------------


def test_one_click_sharing_request_from_the_application_page(client, role_user, make_application):
    from core.models import Organization
    from sharing import services as sharing_services
    from sharing.models import SharingRequest
    from stations.tests.conftest import NEAR_BA_DINH

    lan, huy = role_user("operator_viettel"), role_user("operator_mobifone")
    tower = sharing_services.save_asset(
        huy,
        code="MF-T-9",
        name="Cột MobiFone",
        kind="tower",
        owner=Organization.objects.get(code="MOBIFONE"),
        geometry=NEAR_BA_DINH,
        capacity=3,
    )
    app = make_application(lan)
    client.force_login(lan)
    page = client.get(f"/stations/applications/{app.pk}/").content.decode()
    assert "MF-T-9" in page and 'data-testid="ask-to-share"' in page
    response = client.post(f"/stations/applications/{app.pk}/share/{tower.public_id}/")
    assert response.status_code == 302
    request = SharingRequest.objects.get()
    assert (request.requester.code, request.owner.code, request.asset_id) == (
        "VIETTEL",
        "MOBIFONE",
        tower.pk,
    )
    assert request.number in client.get(f"/stations/applications/{app.pk}/").content.decode()
    client.force_login(huy)  # another operator cannot use Viettel's application
    assert (
        client.post(f"/stations/applications/{app.pk}/share/{tower.public_id}/").status_code == 404
    )
    assert SharingRequest.objects.count() == 1
