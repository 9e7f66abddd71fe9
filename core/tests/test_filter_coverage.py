"""Every field of a list's model can be filtered on, or its app's filters module says why not
(``FILTER_EXEMPT``; core.testing.filters), for the pages' FilterSets and every API list's."""

from core.testing import filters as coverage
from stations import filters as station_filters


def test_every_list_field_is_filtered_or_exempt():
    assert coverage.missing_filters() == []


def test_the_api_lists_are_checked():
    checked = set(coverage.all_filtersets())
    api = {coverage._home(fs) for fs in coverage.api_filtersets()}
    assert api and api <= checked
    assert station_filters.StationFilter in checked


def test_a_field_that_loses_its_filter_is_reported(monkeypatch):
    filters = dict(station_filters.StationFilter.base_filters)
    del filters["land_category"]
    monkeypatch.setattr(station_filters.StationFilter, "base_filters", filters)
    assert coverage.missing_filters() == [
        "stations.filters.StationFilter: land_category has no filter and is not exempt"
    ]


def test_an_exemption_without_a_reason_or_without_a_use_is_reported(monkeypatch):
    exempt = dict(station_filters.FILTER_EXEMPT)
    exempt["StationFilter.code"] = " "
    exempt["StationFilter.status"] = "filtered anyway"
    monkeypatch.setattr(station_filters, "FILTER_EXEMPT", exempt)
    assert coverage.missing_filters() == [
        "stations.filters.StationFilter: code has no filter and is not exempt",
        "stations.filters: FILTER_EXEMPT['StationFilter.code'] exempts nothing",
        "stations.filters: FILTER_EXEMPT['StationFilter.status'] exempts nothing",
    ]
