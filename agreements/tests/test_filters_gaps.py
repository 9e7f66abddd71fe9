"""Filters that closed issue 15's gaps on the agreements lists: the API list and the page narrow
alike (one FilterSet serves both), and a bad value is a 400 naming the filter (real PostGIS)."""

from datetime import date

import pytest

from agreements import services
from agreements.tests import factories
from agreements.tests.test_api import AGREEMENTS, MEETINGS, TASKS, programme  # noqa: F401
from core.models import Organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def official(role_user):
    return role_user("city_official")


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def bad(response, field):
    assert response.status_code == 400, response.content
    assert response.json()[field]


@pytest.fixture
def other(official):
    return factories.agreement(official, ("SO_KHCN_HN", "CUC_VT"), code="CTPH-2024")


def test_agreement_code_in_the_api(as_role, programme, other):  # noqa: F811
    client = as_role("city_official")
    assert ids(client.get(f"{AGREEMENTS}?code=CTPH-2020")) == {
        str(programme["agreement"].public_id)
    }
    assert ids(client.get(f"{AGREEMENTS}?code=ctph-2024")) == {str(other.public_id)}
    assert ids(client.get(f"{AGREEMENTS}?code=CTPH")) == set()  # the whole code, not a part
    bad(client.get(f"{AGREEMENTS}?code=a%00b"), "code")


def test_agreement_page_narrows_by_code(client, official, programme, other):  # noqa: F811
    client.force_login(official)
    response = client.get("/agreements/?code=CTPH-2024")
    assert response.status_code == 200
    assert {a.pk for a in response.context["object_list"]} == {other.pk}


def test_task_title_in_the_api(as_role, programme):  # noqa: F811
    client = as_role("city_official")
    assert ids(client.get(f"{TASKS}?title=cáp")) == {str(programme["viettel_task"].public_id)}
    assert ids(client.get(f"{TASKS}?title=BÁO CÁO")) == {str(programme["late"].public_id)}
    assert ids(client.get(f"{TASKS}?title=nhiệm vụ không có")) == set()
    bad(client.get(f"{TASKS}?title=a%00b"), "title")


def test_meeting_title_in_the_api(as_role, official, programme):  # noqa: F811
    agreement = programme["agreement"]
    present = list(agreement.parties.values_list("organization", flat=True))
    parties = list(Organization.objects.filter(pk__in=present))
    review = services.record_meeting(
        official, agreement, held_on=date(2025, 6, 1), title="Sơ kết 6 tháng", present=parties
    )
    services.record_meeting(
        official, agreement, held_on=date(2025, 12, 1), title="Tổng kết năm", present=parties
    )
    client = as_role("city_official")
    assert ids(client.get(f"{MEETINGS}?title=sơ kết")) == {str(review.public_id)}
    assert len(ids(client.get(f"{MEETINGS}?agreement=CTPH-2020"))) == 2
    assert ids(client.get(f"{MEETINGS}?title=họp bất thường")) == set()
    bad(client.get(f"{MEETINGS}?title=a%00b"), "title")
