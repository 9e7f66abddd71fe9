"""The sync contract (core.testing.sync) for the sharing app's resource: the shareable-asset
register, written by the owner's API client (bulk record by record through save_asset)."""

from core.testing.sync import SyncContract

BA_DINH = [105.8345, 21.0360]


class TestAssetSyncContract(SyncContract):
    resource_name = "assets"
    source = "VIETTEL"
    invalid_field = "name"
    xfail = {
        "other_read": "The register is open to every role (open_to_all; sharing.selectors."
        "assets): operators read every asset to ask for sharing.",
        "other_feed": "open_to_all: every operator's client gets the register's changes.",
    }

    def body(self, n):
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": BA_DINH},
            "properties": {
                "owner": "VIETTEL",
                "code": f"VT-SC-{n}",
                "name": f"Cột hợp đồng {n}",
                "kind": "tower",
                "capacity": 2,
            },
        }

    def change(self, body):
        return {**body, "properties": {**body["properties"], "capacity": 3}}

    def invalid(self, body):
        return {**body, "properties": {**body["properties"], "name": ""}}

    def writer(self):
        return self.fixture("token_client")(org_code="VIETTEL")

    def other(self):
        return self.fixture("token_client")(org_code="MOBIFONE")
