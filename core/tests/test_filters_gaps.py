"""Filters that closed issue 15's gaps on core's lists: the API list and the page narrow alike
(one FilterSet serves both), and a bad value is a 400 naming the filter (real PostGIS)."""

import pytest

from core.models import Organization

pytestmark = pytest.mark.django_db
ORGANIZATIONS = "/api/v1/organizations/"


@pytest.fixture
def family(db):
    parent = Organization.objects.create(code="T_PARENT", kind="agency", name="Cơ quan mẹ (thử)")
    children = {
        Organization.objects.create(
            code=code, kind="agency", name=f"Đơn vị thử {code}", parent=parent
        ).code
        for code in ("T_CHILD_A", "T_CHILD_B")
    }
    Organization.objects.create(code="T_ORPHAN", kind="agency", name="Đơn vị độc lập (thử)")
    return children


def test_organization_parent_in_the_api(as_role, family):
    client = as_role("city_official")

    def codes(query):
        response = client.get(f"{ORGANIZATIONS}?{query}&page_size=100")
        assert response.status_code == 200, response.content
        return {o["code"] for o in response.json()["results"]}

    assert codes("parent=T_PARENT") == family
    assert codes("parent=T_CHILD_A") == set()
    assert codes("parent=T_PARENT&kind=operator") == set()
    response = client.get(f"{ORGANIZATIONS}?parent=NOPE")
    assert response.status_code == 400, response.content
    assert response.json()["parent"]


def test_organization_page_narrows_by_parent(client, role_user, family):
    client.force_login(role_user("city_official"))
    response = client.get("/organizations/?parent=T_PARENT")
    assert response.status_code == 200
    assert {o.code for o in response.context["object_list"]} == family
