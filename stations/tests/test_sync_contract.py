"""The sync contract (core.testing.sync) for the stations app's resources: the station register,
written by its operator's API client, and the public-site catalogue, written by city officials."""

from core.testing.sync import SyncContract
from stations.tests.conftest import BA_DINH


def _feature(properties):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [BA_DINH.x, BA_DINH.y]},
        "properties": properties,
    }


class TestStationSyncContract(SyncContract):
    resource_name = "stations"
    source = "VIETTEL"
    invalid_field = "structure_type"

    def body(self, n):
        return _feature(
            {
                "operator": "VIETTEL",
                "code": f"VT-SC-{n}",
                "name": f"Trạm hợp đồng {n}",
                "structure_type": "monopole",
                "structure_height_m": 30,
                "land_category": "public_land",
                "technologies": ["4G", "5G"],
            }
        )

    def change(self, body):
        return {
            **body,
            "properties": {**body["properties"], "name": body["properties"]["name"] + "!"},
        }

    def invalid(self, body):
        return {**body, "properties": {**body["properties"], "structure_type": "spaceship"}}

    def writer(self):
        return self.fixture("token_client")(org_code="VIETTEL")

    def other(self):
        return self.fixture("token_client")(org_code="MOBIFONE")


class TestPublicSiteSyncContract(SyncContract):
    resource_name = "public-sites"
    source = "UBND_HN"
    invalid_field = "land_category"
    xfail = {
        "token": "Only city officials write the catalogue (PublicSiteViewSet.may_write, "
        "save_public_site); an API client holds the api_client role, never that one, so the "
        "writer is an official signed in.",
        "other_read": "The catalogue is open to every role (open_to_all; selectors.public_sites): "
        "operators read every site.",
        "other_feed": "open_to_all: every operator's client gets the catalogue's changes.",
    }

    def body(self, n):
        return _feature(
            {
                "name": f"Trụ sở hợp đồng {n}",
                "owner": "UBND_HN",
                "address": "Phường Ba Đình",
                "land_category": "public_building",
                "building_height_m": 24,
                "capacity": 2,
            }
        )

    def change(self, body):
        return {**body, "properties": {**body["properties"], "capacity": 3}}

    def invalid(self, body):
        return {**body, "properties": {**body["properties"], "land_category": "spaceship"}}

    def writer(self):
        return self.fixture("as_role")("city_official")

    def other(self):
        return self.fixture("token_client")(org_code="MOBIFONE")
