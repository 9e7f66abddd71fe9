"""History is written by database triggers: ORM saves, bulk updates and deletes alike."""

import pytest

from core.history import acting_as, events_for
from core.models import Organization

pytestmark = pytest.mark.django_db


def make_org(code="HIST_ORG"):
    return Organization.objects.create(code=code, kind="other", name="Công ty Thử")


def test_insert_and_update_are_recorded_with_before_and_after():
    org = make_org()
    org.name = "Công ty Thử Hai"
    org.save()
    events = list(events_for(org))
    assert [e.pgh_label for e in events] == ["insert", "update"]
    assert events[1].pgh_diff["name"] == ["Công ty Thử", "Công ty Thử Hai"]


def test_bulk_update_and_delete_are_recorded():
    org = make_org()
    Organization.objects.filter(pk=org.pk).update(short_name="Bulk")
    Organization.objects.filter(pk=org.pk).delete()
    events = list(events_for(org))
    assert [e.pgh_label for e in events] == ["insert", "update", "delete"]
    # The delete leaves a tombstone holding the last state.
    assert events[-1].pgh_data["short_name"] == "Bulk"
    assert events[-1].pgh_data["code"] == "HIST_ORG"


def test_saving_without_change_records_nothing():
    org = make_org()
    Organization.objects.filter(pk=org.pk).update(name="Công ty Thử")
    assert [e.pgh_label for e in events_for(org)] == ["insert"]


def test_acting_user_is_attached(make_user):
    official = make_user("city_official", "SO_KHCN_HN")
    org = make_org()
    with acting_as(official, action="rename"):
        Organization.objects.filter(pk=org.pk).update(name="Tên mới")
    update = list(events_for(org))[-1]
    assert update.pgh_context["user"] == official.pk
    assert update.pgh_context["action"] == "rename"


def test_request_user_and_url_are_attached_to_web_changes(client, role_user):
    admin = role_user("administrator")
    client.force_login(admin)
    org = make_org()
    response = client.post(
        f"/admin/core/organization/{org.pk}/change/",
        {
            "code": org.code,
            "kind": "other",
            "name": "Đổi qua trang quản trị",
            "short_name": "",
            "name_en": "",
            "parent": "",
            "successor": "",
            "effective_from": "",
            "effective_to": "",
        },
    )
    assert response.status_code == 302, response.content[:500]
    update = list(events_for(org))[-1]
    assert update.pgh_label == "update"
    assert update.pgh_context["user"] == admin.pk
    assert update.pgh_context["url"] == f"/admin/core/organization/{org.pk}/change/"


def test_admin_refuses_end_before_start_with_a_message(client, role_user):
    client.force_login(role_user("administrator"))
    org = make_org()
    response = client.post(
        f"/admin/core/organization/{org.pk}/change/",
        {
            "code": org.code,
            "kind": "other",
            "name": org.name,
            "short_name": "",
            "name_en": "",
            "parent": "",
            "successor": "",
            "effective_from": "01/03/2025",
            "effective_to": "01/02/2025",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["effective_to"]
    org.refresh_from_db()
    assert org.effective_to is None
