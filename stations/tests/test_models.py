from decimal import Decimal
from itertools import product

import pytest
from django.db import IntegrityError, transaction

from stations.models import Station, StructureType, is_non_bulky

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("structure_type", "height", "building", "expected"),
    [
        ("rooftop_mast", "3", "15", True),  # 3 m, exactly 20 % of 15 m
        ("rooftop_mast", "3", "14", False),  # over 20 % of the building
        ("rooftop_mast", "3.5", "30", False),  # over 3 m
        ("rooftop_mast", "6", "24", False),  # journey 1: 6 m on 24 m is bulky
        ("rooftop_mast", "2", None, False),  # no building height: cannot tell, so not exempt
        ("camouflaged_mast", "12", None, True),
        ("monopole", "2", "30", False),
    ],
)
def test_non_bulky_rule(make_station, structure_type, height, building, expected):
    assert is_non_bulky(structure_type, Decimal(height), building and Decimal(building)) is expected
    station = make_station(
        structure_type=structure_type,
        structure_height_m=Decimal(height),
        building_height_m=building and Decimal(building),
    )
    station.refresh_from_db()
    assert station.non_bulky is expected


def test_python_and_database_rules_agree_on_a_grid(make_station):
    """The generated column and is_non_bulky come from the same constants; check they never differ."""
    cases = list(
        product(
            [t.value for t in StructureType],
            ["1", "2.9", "3", "3.01", "6"],
            [None, "10", "15", "40"],
        )
    )
    for i, (kind, height, building) in enumerate(cases):
        make_station(
            code=f"G{i}",
            structure_type=kind,
            structure_height_m=Decimal(height),
            building_height_m=building and Decimal(building),
        )
    for station in Station.objects.filter(code__startswith="G"):
        assert station.non_bulky == is_non_bulky(
            station.structure_type, station.structure_height_m, station.building_height_m
        ), station.code


def test_code_is_unique_per_operator_not_globally(make_station):
    make_station(code="HNI-001")
    make_station(operator_code="MOBIFONE", code="HNI-001")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_station(code="HNI-001")


def test_database_refuses_absurd_heights(make_station):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_station(structure_height_m=Decimal("301"))
    with pytest.raises(IntegrityError), transaction.atomic():
        make_station(structure_height_m=Decimal("-1"))


def test_search_text_ignores_accents(make_station):
    station = make_station(name="Trạm Đội Cấn", code="VT-DC-1")
    assert "doi can" in station.search_text
