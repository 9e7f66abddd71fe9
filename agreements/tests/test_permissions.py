"""Who may do what in the agreements API: every role × every endpoint.

The programme is between the Sở KH&CN (lead), the Cục Viễn thông and Viettel: Viettel's staff are a
party's staff, MobiFone's staff and VNPT's API client are operators that are not parties. Officials
(city, national, administrators) see and manage everything; the Cục's API client (an agency) sees
everything and, as a supporting party's system, may report on the task it supports; a party's
staff see their agreements and report on (and move) their own tasks; anyone else sees nothing.
"""

from datetime import date

import pytest

from agreements import services
from agreements.models import Agreement, ContentArea, Meeting, ProgressUpdate, Task
from agreements.tests import factories
from core.testing.permissions import PermissionMatrix

pytestmark = pytest.mark.django_db

AGREEMENTS = "/api/v1/agreements/"
AREAS = "/api/v1/agreement-areas/"
TASKS = "/api/v1/agreement-tasks/"
UPDATES = "/api/v1/agreement-updates/"
MEETINGS = "/api/v1/agreement-meetings/"
INDICATORS = "/api/v1/indicators/"
PARTIES = ("SO_KHCN_HN", "CUC_VT", "VIETTEL")

# operation: expected for (an official, Viettel's staff (a party), an operator that is not a party
# (MobiFone's staff, VNPT's API client), the Cục's API client (an agency, a supporting party)).
# Lists give how many records the role sees; the rest give the status code.
MATRIX = {
    "agreements": (2, 2, 0, 2),
    "agreement": (200, 200, 404, 200),
    "create_agreement": (201, 403, 403, 403),
    "edit_agreement": (200, 403, 404, 403),
    "in_force": (200, 403, 404, 403),
    "renew": (201, 403, 404, 403),
    "areas": (3, 3, 0, 3),
    "area": (200, 200, 404, 200),
    "create_area": (201, 403, 403, 403),
    "edit_area": (200, 403, 404, 403),
    "tasks": (2, 2, 0, 2),
    "task": (200, 200, 404, 200),
    "create_task": (201, 403, 403, 403),
    "edit_task": (200, 403, 404, 403),
    "move_task": (200, 200, 404, 403),  # Viettel's task
    "post_update": (201, 201, 404, 201),  # on Viettel's task, which the Cục supports
    "updates": (1, 1, 0, 1),
    "update": (200, 200, 404, 200),
    "meetings": (1, 1, 0, 1),
    "create_meeting": (201, 403, 403, 403),
    "indicators": (200, 200, 200, 200),
    "indicator_value": (200, 403, 403, 200),
}


READS = {
    "agreements",
    "agreement",
    "areas",
    "area",
    "tasks",
    "task",
    "updates",
    "update",
    "meetings",
    "indicators",
    "indicator_value",
}
LISTS = {"agreements", "areas", "tasks", "updates", "meetings"}


def counts():
    return tuple(m.objects.count() for m in (Agreement, ContentArea, Task, ProgressUpdate, Meeting))


def make_world(role_user):
    """Viettel's task in a programme in force, a draft programme, areas, an update, a meeting."""
    official = role_user("city_official")
    programme = factories.agreement(official, PARTIES, code="CTPH-2020")
    draft = factories.agreement(official, PARTIES, code="CTPH-DRAFT", in_force=False)
    area = factories.area(official, programme, 1)
    factories.area(official, programme, 2)
    factories.area(official, draft, 1)
    viettel_task = factories.task(
        official, area, "VIETTEL", ("CUC_VT",), due_date=date(2025, 12, 1)
    )
    factories.task(official, area, "SO_KHCN_HN")
    update = services.post_update(
        official, viettel_task, reported_on=date(2025, 1, 10), narrative="Khởi động"
    )
    services.record_meeting(
        official,
        programme,
        held_on=date(2025, 2, 1),
        title="Họp sơ kết",
        present=[factories.org("CUC_VT"), factories.org("VIETTEL")],
    )
    return {
        "programme": programme,
        "draft": draft,
        "area": area,
        "task": viettel_task,
        "update": update,
    }


@pytest.fixture
def world(role_user):
    return make_world(role_user)


class TestAgreementPermissions(PermissionMatrix):
    """Every role × every agreements endpoint, through the shared runner (core.testing)."""

    matrix = MATRIX
    reads = READS
    lists = LISTS

    def world(self):
        return make_world(self.fixture("role_user"))

    def call(self, client, operation, w):
        programme, task, area = w["programme"], w["task"], w["area"]
        agreement_url = f"{AGREEMENTS}{programme.public_id}/"
        task_url = f"{TASKS}{task.public_id}/"
        area_url = f"{AREAS}{area.public_id}/"
        calls = {
            "agreements": lambda: client.get(AGREEMENTS),
            "agreement": lambda: client.get(agreement_url),
            "create_agreement": lambda: client.post(
                AGREEMENTS,
                {
                    "code": "CTPH-NEW",
                    "title": "Mới",
                    "period_start": "2026-01-01",
                    "period_end": "2030-12-31",
                    "parties": [{"organization": "SO_KHCN_HN"}, {"organization": "VIETTEL"}],
                },
                format="json",
            ),
            "edit_agreement": lambda: client.patch(agreement_url, {"title": "Đổi"}, format="json"),
            "in_force": lambda: client.post(
                f"{AGREEMENTS}{w['draft'].public_id}/in-force/",
                {"signed_on": "2020-06-30"},
                format="json",
            ),
            "renew": lambda: client.post(
                f"{agreement_url}renew/",
                {
                    "code": "CTPH-2026",
                    "title": "Giai đoạn mới",
                    "period_start": "2026-01-01",
                    "period_end": "2030-12-31",
                },
                format="json",
            ),
            "areas": lambda: client.get(AREAS),
            "area": lambda: client.get(area_url),
            "create_area": lambda: client.post(
                AREAS, {"agreement": "CTPH-2020", "number": 9, "title": "Mới"}, format="json"
            ),
            "edit_area": lambda: client.patch(area_url, {"title": "Đổi"}, format="json"),
            "tasks": lambda: client.get(f"{TASKS}?agreement=CTPH-2020"),
            "task": lambda: client.get(task_url),
            "create_task": lambda: client.post(
                TASKS,
                {"area": str(area.public_id), "title": "Mới", "responsible": "VIETTEL"},
                format="json",
            ),
            "edit_task": lambda: client.patch(task_url, {"title": "Đổi"}, format="json"),
            "move_task": lambda: client.post(
                f"{task_url}status/", {"status": "done"}, format="json"
            ),
            "post_update": lambda: client.post(
                f"{task_url}updates/",
                {"reported_on": "2025-06-01", "narrative": "Tiến độ tháng 6"},
                format="json",
            ),
            "updates": lambda: client.get(UPDATES),
            "update": lambda: client.get(f"{UPDATES}{w['update'].public_id}/"),
            "meetings": lambda: client.get(MEETINGS),
            "create_meeting": lambda: client.post(
                MEETINGS,
                {
                    "agreement": "CTPH-2020",
                    "held_on": "2025-06-01",
                    "title": "Họp",
                    "present": ["SO_KHCN_HN", "VIETTEL"],
                },
                format="json",
            ),
            "indicators": lambda: client.get(INDICATORS),
            "indicator_value": lambda: client.get(f"{INDICATORS}agreements.tasks_done/"),
        }
        return calls[operation]()

    def state(self, w):
        w["programme"].refresh_from_db()
        w["area"].refresh_from_db()
        w["task"].refresh_from_db()
        return (
            counts(),
            w["programme"].title,
            w["programme"].updated_at,
            w["area"].title,
            w["task"].title,
            w["task"].status,
            w["draft"].__class__.objects.get(pk=w["draft"].pk).status,
        )


@pytest.mark.parametrize("role", ["operator_viettel", "operator_mobifone", "city_official"])
def test_progress_updates_cannot_be_changed_or_deleted_by_anyone(as_role, world, role):
    client = as_role(role)
    url = f"{UPDATES}{world['update'].public_id}/"
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(url, {"narrative": "x"}, format="json")
        assert response.status_code == 405, (method, response.status_code)
    assert ProgressUpdate.objects.get(pk=world["update"].pk).narrative == "Khởi động"


def test_a_party_that_is_not_responsible_nor_supporting_cannot_report(as_role, role_user, world):
    """Viettel is a party, but the Sở's own task is none of its business."""
    official = role_user("city_official")
    own = factories.task(official, world["area"], "SO_KHCN_HN", title="Việc của Sở")
    response = as_role("operator_viettel").post(
        f"{TASKS}{own.public_id}/updates/",
        {"reported_on": "2025-06-01", "narrative": "Không phải việc của mình"},
        format="json",
    )
    assert response.status_code == 403
    assert not own.updates.exists()


def test_party_staff_post_for_their_own_organisation_only(as_role, world):
    response = as_role("operator_viettel").post(
        f"{TASKS}{world['task'].public_id}/updates/",
        {"reported_on": "2025-06-01", "narrative": "Thay Cục", "organization": "CUC_VT"},
        format="json",
    )
    assert response.status_code == 400
    assert "organization" in response.json()


def test_a_successor_organisations_official_reports_for_the_party_it_carries_on(as_role, role_user):
    """The 2020–2025 programme was signed by the Sở TT&TT; since 2025 the Sở KH&CN carries it on."""
    official = role_user("city_official")
    programme = factories.agreement(official, ("SO_TTTT_HN", "CUC_VT"))
    task = factories.task(official, factories.area(official, programme), "SO_TTTT_HN")
    response = as_role("city_official").post(
        f"{TASKS}{task.public_id}/updates/",
        {"reported_on": "2025-06-01", "narrative": "Sở KH&CN báo cáo", "percent": 30},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["organization"] == "SO_TTTT_HN"
