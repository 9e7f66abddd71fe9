"""Every registered sync resource has a sync contract adapter (core.testing.sync), so a new synced
register without contract data fails the suite."""

import sync
from core.testing.sync import CHECKS, missing_sync_contracts, project_sync_contracts
from stations.models import Station


def test_every_sync_resource_has_a_contract_adapter():
    assert missing_sync_contracts() == []


def test_the_known_resources_have_adapters():
    adapters, _exempt = project_sync_contracts()
    assert {"stations", "public-sites", "assets", "cable-segments"} <= set(sync.resources())
    assert set(sync.resources()) <= set(adapters)
    for name, found in adapters.items():
        for adapter, app in found:
            assert app == sync.get(name).model._meta.app_label, (name, adapter)
            assert set(adapter.xfail) <= set(CHECKS), (name, adapter)


def test_a_new_resource_without_an_adapter_is_reported(monkeypatch):
    probe = sync.Resource(
        name="probe",
        model=Station,
        label="probe",
        properties={},
        state_queryset=Station._base_manager.all,
        selector=lambda user: Station.objects.none(),
    )
    monkeypatch.setitem(sync._REGISTRY, "probe", probe)
    assert missing_sync_contracts() == ["probe: no adapter in stations/tests/test_sync_contract.py"]


def test_an_xfail_naming_no_check_is_reported(monkeypatch):
    from sharing.tests.test_sync_contract import TestAssetSyncContract

    monkeypatch.setattr(TestAssetSyncContract, "xfail", {"other_reed": "a typo"})
    assert missing_sync_contracts() == ["TestAssetSyncContract: xfail names no check: 'other_reed'"]
