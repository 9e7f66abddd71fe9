import pytest

from stations.tests.conftest import make_station  # noqa: F401

pytestmark = pytest.mark.django_db


def test_station_changes_reach_the_feed(feed_now, token_client, make_station):  # noqa: F811
    http = token_client(scopes={"stations": "read"})
    station = make_station()
    station.name = "Đổi tên"
    station.save()
    station.save()  # the Feature is the same but updated_at moved: still a change
    pk = station.public_id
    station.delete()
    page = http.get("/api/v1/changes/?types=stations").json()
    events = [e for e in page["results"] if e["id"] == str(pk)]
    assert [e["action"] for e in events][:2] == ["create", "update"]
    assert events[-1]["action"] == "delete" and events[-1]["data"] is None
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    assert events[1]["data"]["properties"]["name"] == "Đổi tên"
    again = http.get(f"/api/v1/changes/?after={page['next']}").json()
    assert again["results"] == []
    bad = http.get("/api/v1/changes/?after=nonsense")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_cursor"
