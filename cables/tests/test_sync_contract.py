"""The sync contract (core.testing.sync) for the cables app's resource: cable segments, written by
the project's lead agency's API client through the segment API (POST, PATCH with If-Match): sync
registers them read-only (cables/sync.py has no save), so there is no upsert or bulk route."""

from core.models import Organization
from core.testing.sync import SyncContract

ROUTE = [[105.8120, 21.0316], [105.8230, 21.0318]]
READ_ONLY = (
    "cables/sync.py registers cable segments without save/bulk and SegmentViewSet has no "
    "SyncWriteMixin: no by-source upsert nor bulk route (404)."
)


class TestCableSegmentSyncContract(SyncContract):
    resource_name = "cable-segments"
    invalid_field = "method"
    operator = "VNPT"  # the lead agency lays this segment itself
    xfail = {"upsert": READ_ONLY, "bulk_partial": READ_ONLY, "bulk_atomic": READ_ONLY}

    def prepare(self):
        from cables.models import CableProject

        project = CableProject.objects.create(
            code="NH-SC-1",
            name="Ngầm hoá hợp đồng",
            lead_agency=Organization.objects.get(code="VNPT"),
            year=2025,
        )
        project.participants.set(Organization.objects.filter(code__in=["VNPT", "VIETTEL"]))

    def body(self, n):
        return {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": ROUTE},
            "properties": {
                "project": "NH-SC-1",
                "name": f"Phố hợp đồng {n}",
                "method": "new_duct_bank",
                "operator": self.operator,
            },
        }

    def change(self, body):
        return {
            **body,
            "properties": {**body["properties"], "name": body["properties"]["name"] + "!"},
        }

    def invalid(self, body):
        return {**body, "properties": {**body["properties"], "method": "teleport"}}

    def create(self, client, key, body):
        return client.post(self.prefix, body, format="json")

    def update(self, client, key, record_id, body, etag=None):
        headers = {"HTTP_IF_MATCH": etag} if etag else {}
        return client.patch(self.detail_url(record_id), body, format="json", **headers)

    def writer(self):
        return self.fixture("token_client")(org_code="VNPT")

    def other(self):
        return self.fixture("token_client")(org_code="MOBIFONE")


class TestCableSegmentOfAParticipantSyncContract(TestCableSegmentSyncContract):
    """The same, for a segment the lead agency (VNPT) lays for a participating operator (Viettel):
    the feed shows the lead agency's client its events as the API shows it the segment
    (cables.sync's feed_scope), and another operator's client none."""

    operator = "VIETTEL"
    xfail = TestCableSegmentSyncContract.xfail
