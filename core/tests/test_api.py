import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "/api/v1/organizations/",
    "/api/v1/organizations/VIETTEL/",
    "/api/v1/units/?boundary=false",
    "/api/v1/units/00004/",
    "/api/v1/units/resolve/?address=Ph%C6%B0%E1%BB%9Dng%20Ba%20%C4%90%C3%ACnh",
    "/api/schema/",
    "/api/docs/",
]
ROLES_ALLOWED = [
    "city_official",
    "national_official",
    "operator_viettel",
    "agency_api_client",
    "operator_api_client",
    "administrator",
]


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("role", [*ROLES_ALLOWED, "no_role", "anonymous"])
def test_api_permission_matrix(url, role, role_user, api_client):
    user = role_user(role)
    if user:
        api_client.force_authenticate(user)
    response = api_client.get(url)
    if role in ROLES_ALLOWED:
        assert response.status_code == 200, response.content[:300]
    elif role == "anonymous":
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == 403


def test_api_is_read_only(role_user, api_client):
    api_client.force_authenticate(role_user("administrator"))
    response = api_client.post(
        "/api/v1/organizations/", {"code": "X", "kind": "other", "name": "x"}
    )
    assert response.status_code == 405


def test_organizations_list_uses_cursor_and_filters(role_user, api_client):
    api_client.force_authenticate(role_user("city_official"))
    data = api_client.get("/api/v1/organizations/?kind=operator&page_size=3").json()
    assert [o["code"] for o in data["results"]] == ["CMC", "FPT", "GTEL"]
    assert data["next"] and "cursor=" in data["next"]
    rest = api_client.get(data["next"]).json()
    assert [o["code"] for o in rest["results"]] == ["MOBIFONE", "VIETNAMOBILE", "VIETTEL"]
    old = api_client.get("/api/v1/organizations/SO_TTTT_HN/").json()
    assert old["current"] == "SO_KHCN_HN" and old["effective_to"] == "2025-02-28"
    active = api_client.get("/api/v1/organizations/?active_on=2025-06-01&kind=agency").json()
    codes = {o["code"] for o in active["results"]}
    assert "SO_KHCN_HN" in codes and "SO_TTTT_HN" not in codes


@pytest.mark.parametrize(
    ("query", "error_field"), [("kind=nonsense", "kind"), ("active_on=31/31/2025", "active_on")]
)
def test_bad_filters_give_400_with_field_messages(role_user, api_client, query, error_field):
    api_client.force_authenticate(role_user("city_official"))
    response = api_client.get(f"/api/v1/organizations/?{query}")
    assert response.status_code == 400
    assert error_field in response.json()


def test_units_as_geojson_with_boundary(role_user, api_client, needs_shared_data):
    api_client.force_authenticate(role_user("operator_viettel"))
    data = api_client.get("/api/v1/units/").json()
    assert data["type"] == "FeatureCollection"
    assert len(data["features"]) == 126
    first = data["features"][0]
    assert first["id"] == "00004" and first["geometry"]["type"] == "MultiPolygon"
    light = api_client.get("/api/v1/units/?boundary=false&kind=xa").json()
    assert len(light["features"]) == 75
    assert all(f["geometry"] is None for f in light["features"])


def test_unit_search_ignores_accents_and_tone_placement(role_user, api_client):
    api_client.force_authenticate(role_user("city_official"))
    for q in ("Yên Hòa", "yen hoa", "YÊN HOÀ"):
        data = api_client.get("/api/v1/units/", {"q": q, "boundary": "false"}).json()
        assert [f["id"] for f in data["features"]] == ["00175"], q


def test_unit_filter_by_exact_name(role_user, api_client):
    api_client.force_authenticate(role_user("city_official"))
    for name in ("Phường Yên Hòa", "yên hoà", "Yen Hoa"):
        data = api_client.get("/api/v1/units/", {"name": name, "boundary": "false"}).json()
        assert [f["id"] for f in data["features"]] == ["00175"], name
    assert api_client.get("/api/v1/units/", {"name": "Yên"}).json()["features"] == []


def test_unknown_unit_code_is_404(role_user, api_client):
    api_client.force_authenticate(role_user("city_official"))
    assert api_client.get("/api/v1/units/99999/").status_code == 404


def test_resolve_old_address(role_user, api_client, needs_shared_data):
    api_client.force_authenticate(role_user("city_official"))
    data = api_client.get(
        "/api/v1/units/resolve/", {"address": "Phường Quán Thánh, Quận Ba Đình"}
    ).json()
    assert data["matches"] == [
        {
            "unit": {"code": "00004", "name": "Phường Ba Đình", "kind": "phuong"},
            "via": "legacy",
            "legacy_unit": {
                "code": "00013",
                "name": "Phường Quán Thánh",
                "district": "Quận Ba Đình",
            },
            "whole": True,
        }
    ]


def test_resolve_without_address_is_400(role_user, api_client):
    api_client.force_authenticate(role_user("city_official"))
    response = api_client.get("/api/v1/units/resolve/")
    assert response.status_code == 400
    assert "address" in response.json()


def test_api_lists_query_count_is_constant(role_user, api_client, django_assert_max_num_queries):
    api_client.force_authenticate(role_user("city_official"))
    with django_assert_max_num_queries(4):
        assert len(api_client.get("/api/v1/organizations/?page_size=100").json()["results"]) > 10
    with django_assert_max_num_queries(4):
        assert len(api_client.get("/api/v1/units/?boundary=false").json()["features"]) == 126


def test_openapi_schema_lists_the_endpoints(role_user, api_client):
    api_client.force_authenticate(role_user("city_official"))
    schema = api_client.get(reverse("schema"), HTTP_ACCEPT="application/json").json()
    assert "/api/v1/units/" in schema["paths"]
    assert "/api/v1/units/resolve/" in schema["paths"]
    assert "/api/v1/organizations/{code}/" in schema["paths"]


def test_every_case_step_is_documented_alike(role_user, api_client):
    """Every workflow step a CaseViewSet declares (core.api.mixins.Step) is a POST route with the
    case's detail as its answer, If-Match, 412, and the app's error answers, and its route keeps
    the name DRF gives a method of the action's name (``return`` -> ``permit-application-return-``)."""
    from sharing.api.views import SharingRequestViewSet
    from stations.api.views import PermitApplicationViewSet

    api_client.force_authenticate(role_user("city_official"))
    schema = api_client.get(reverse("schema"), HTTP_ACCEPT="application/json").json()
    for viewset, base in (
        (PermitApplicationViewSet, "/api/v1/permit-applications/{id}/"),
        (SharingRequestViewSet, "/api/v1/sharing-requests/{id}/"),
    ):
        assert set(viewset.steps) == {
            t.action for t in viewset.workflow.transitions if not t.by_system
        }
        for name in viewset.steps:
            operation = schema["paths"][f"{base}{name.replace('_', '-')}/"]["post"]
            assert {"200", "400", "403", "404", "409", "412"} <= set(operation["responses"])
            assert "If-Match" in [p["name"] for p in operation.get("parameters", [])]
    assert (
        reverse("permit-application-return-", args=[1]) == "/api/v1/permit-applications/1/return/"
    )
    assert (
        reverse("sharing-request-accept-counter", args=[1])
        == "/api/v1/sharing-requests/1/accept-counter/"
    )


def test_api_docs_are_served_offline(role_user, client):
    client.force_login(role_user("city_official"))
    html = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()
