import pytest
from django.conf import settings
from django.test import override_settings

pytestmark = pytest.mark.django_db

PAGES = ["/", "/units/", "/units/00004/", "/units/map.geojson", "/organizations/"]
ROLES = [
    "city_official",
    "national_official",
    "operator_viettel",
    "agency_api_client",
    "administrator",
]


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_logged_in_users_see_reference_pages(client, role_user, url, role):
    client.force_login(role_user(role))
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", PAGES[1:])
def test_an_account_without_a_role_is_refused_reference_pages(client, role_user, url):
    client.force_login(role_user("no_role"))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize(
    ("role", "status"), [("administrator", 200), ("city_official", 302), ("operator_viettel", 302)]
)
def test_admin_is_for_administrators(client, role_user, role, status):
    client.force_login(role_user(role))
    assert client.get("/admin/core/organization/").status_code == status


def test_login_page_is_vietnamese_by_default(client):
    html = client.get("/login/").content.decode()
    assert '<html lang="vi">' in html
    assert "Đăng nhập" in html


def test_language_switch_to_english(client, role_user):
    client.force_login(role_user("city_official"))
    client.post("/i18n/setlang/", {"language": "en", "next": "/units/"})
    html = client.get("/units/").content.decode()
    assert '<html lang="en">' in html and "Administrative units" in html


def test_login_with_wrong_password_shows_vietnamese_error(client, role_user):
    user = role_user("city_official")
    response = client.post("/login/", {"username": user.username, "password": "sai"})
    assert response.status_code == 200
    assert "Vui lòng nhập đúng tên đăng nhập và mật khẩu" in response.content.decode()


def test_login_then_logout(client, role_user):
    from conftest import TEST_PASSWORD

    user = role_user("operator_viettel")
    response = client.post("/login/", {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert user.username in client.get("/").content.decode()
    client.post("/logout/")
    assert client.get("/").status_code == 302


def test_unit_list_filters_ignore_accents(client, role_user):
    client.force_login(role_user("city_official"))
    response = client.get("/units/", {"q": "yen hoa"})
    html = response.content.decode()
    assert 'name="q"' in html and 'name="kind"' in html  # the filter form renders its fields
    assert [u.code for u in response.context["object_list"]] == ["00175"]
    response = client.get("/units/", {"kind": "xa"})
    assert response.context["paginator"].count == 75


def test_bad_filter_value_is_a_form_error_not_a_500(client, role_user):
    client.force_login(role_user("city_official"))
    response = client.get("/units/", {"kind": "nonsense"})
    assert response.status_code == 200
    assert response.context["filter"].errors["kind"]
    geojson = client.get("/units/map.geojson", {"kind": "nonsense"})
    assert geojson.json()["features"] == []


def test_units_geojson_is_built_by_the_database(
    client, role_user, needs_shared_data, django_assert_max_num_queries
):
    client.force_login(role_user("city_official"))
    with django_assert_max_num_queries(6):
        data = client.get("/units/map.geojson").json()
    assert len(data["features"]) == 126
    assert {f["properties"]["kind"] for f in data["features"]} == {"phuong", "xa"}
    filtered = client.get("/units/map.geojson", {"q": "Ba Đình"}).json()
    assert [f["id"] for f in filtered["features"]] == ["00004"]


def test_unit_detail_lists_the_old_wards_it_was_formed_from(client, role_user, needs_shared_data):
    client.force_login(role_user("city_official"))
    html = client.get("/units/00004/").content.decode()
    assert "Phường Quán Thánh" in html and "Quận Ba Đình" in html
    assert client.get("/units/99999/").status_code == 404


def test_page_query_counts_do_not_grow_with_rows(client, role_user, django_assert_max_num_queries):
    client.force_login(role_user("city_official"))
    with django_assert_max_num_queries(8):
        client.get("/units/?kind=xa")  # 50 rows on the page
    with django_assert_max_num_queries(8):
        client.get("/organizations/")


def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] and body["redis"]["ok"]
    assert body["database"]["info"].startswith("3.")  # PostGIS version


def test_healthz_is_degraded_not_down_when_redis_is_unreachable(client):
    # A real connection to a port nothing listens on: no mock. The database is up, so the portal
    # serves (200) and says what is down.
    down = "redis://127.0.0.1:1/0"
    caches = {"default": {**settings.CACHES["default"], "LOCATION": down}}
    with override_settings(REDIS_URL=down, CACHES=caches, CELERY_BROKER_URL=down):
        response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is True
    assert body["cache"]["ok"] is False and body["broker"]["ok"] is False
    assert body["worker"]["ok"] is False
    assert {"cache", "broker", "worker"} <= set(body["down"])
    assert body["redis"]["ok"] is False


def test_pages_use_no_cdn(client, role_user):
    client.force_login(role_user("city_official"))
    html = client.get("/units/").content.decode()
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html
    assert "/static/leaflet/leaflet.js" in html
    for host in ("cdn.", "unpkg.com", "jsdelivr", "googleapis"):
        assert host not in html


def test_every_admin_page_of_core_renders(client, role_user, needs_shared_data):
    from django.contrib import admin

    client.force_login(role_user("administrator"))
    for model in admin.site._registry:
        if model._meta.app_label not in ("core", "pghistory"):
            continue
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert client.get(base).status_code == 200, base
        obj = model._default_manager.first()
        if model._meta.app_label == "core" and obj is not None:
            url = f"{base}{obj.pk}/change/"
            assert client.get(url).status_code == 200, url
