"""Names sort in Vietnamese alphabetical order, in the database (pages and API alike)."""

import pytest

from core.models import Organization
from core.selectors import communes
from core.text import vietnamese

pytestmark = pytest.mark.django_db


def _position(names, name):
    return names.index(name)


def test_communes_sort_as_the_vietnamese_alphabet(needs_shared_data):
    names = list(communes().values_list("name", flat=True))
    assert _position(names, "Phường Cầu Giấy") < _position(names, "Phường Chương Mỹ")
    assert _position(names, "Phường Dương Nội") < _position(names, "Phường Đại Mỗ")
    assert _position(names, "Phường Đống Đa") < _position(names, "Phường Giảng Võ")


def test_the_station_filters_commune_choices_are_in_that_order(needs_shared_data, client):
    from stations.filters import StationFilter

    choices = [str(c) for _v, c in StationFilter().form.fields["commune"].choices][1:]
    assert choices.index("Phường Cầu Giấy") < choices.index("Phường Chương Mỹ")


def test_descending_too():
    Organization.objects.create(code="ZZ_A", name="Ánh", short_name="A", kind="agency")
    Organization.objects.create(code="ZZ_B", name="Bình", short_name="B", kind="agency")
    names = list(
        Organization.objects.filter(code__startswith="ZZ_")
        .order_by(vietnamese("name", descending=True))
        .values_list("name", flat=True)
    )
    assert names == ["Bình", "Ánh"]


def test_a_yes_no_filter_offers_all_not_unknown():
    from django.utils import translation

    from stations.filters import StationFilter

    with translation.override("vi"):
        html = str(StationFilter().form["non_bulky"])
        data = StationFilter({"non_bulky": "true"}).form
        assert data.is_valid() and data.cleaned_data["non_bulky"] is True
    assert "Tất cả" in html and "Chưa xác định" not in html
