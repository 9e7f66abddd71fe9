import json

import pytest
from django.utils import translation

from core import services
from core.exceptions import ImportRejected
from core.models import AdministrativeUnit, LegacyUnit, LegacyUnitMapping, Organization

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_messages():
    """Messages are asserted in English here; test_unknown_code_message_is_vietnamese checks vi."""
    with translation.override("en"):
        yield


SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[105.80, 21.00], [105.81, 21.00], [105.81, 21.01], [105.80, 21.01], [105.80, 21.00]]
    ],
}


def feature(code, geometry=SQUARE, **props):
    return {"type": "Feature", "properties": {"code": code, **props}, "geometry": geometry}


def collection(*features):
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def boundary_snapshot():
    return {
        u.code: (u.boundary.wkb.hex() if u.boundary else None)
        for u in AdministrativeUnit.objects.all()
    }


def test_reference_data_load_is_idempotent():
    before = (Organization.objects.count(), AdministrativeUnit.objects.count())
    result = services.load_reference_data()
    assert result.created == 0 and result.updated == 0
    assert (Organization.objects.count(), AdministrativeUnit.objects.count()) == before


def test_import_boundaries_sets_polygon_as_multipolygon():
    result = services.import_boundaries(collection(feature("00004")))
    unit = AdministrativeUnit.objects.get(code="00004")
    assert result.updated == 1
    assert unit.boundary.geom_type == "MultiPolygon"
    assert unit.boundary.contains(unit.boundary.centroid)
    assert result.warnings  # the other 125 units are not in this file
    again = services.import_boundaries(collection(feature("00004")))
    assert again.updated == 0 and again.unchanged == 1


BOWTIE = {
    "type": "Polygon",
    "coordinates": [
        [[105.80, 21.00], [105.81, 21.01], [105.81, 21.00], [105.80, 21.01], [105.80, 21.00]]
    ],
}
PARIS = {
    "type": "Polygon",
    "coordinates": [[[2.30, 48.80], [2.31, 48.80], [2.31, 48.81], [2.30, 48.81], [2.30, 48.80]]],
}


@pytest.mark.parametrize(
    ("bad_feature", "message"),
    [
        (feature("99999"), "Unknown unit code 99999"),
        (feature("00004", province_code="79"), "province 79"),  # a Ho Chi Minh City unit
        (feature("26734"), "Unknown unit code 26734"),  # another province's real code
        (feature(""), "no unit code"),
        (feature("00008", geometry=BOWTIE), "not a valid polygon"),
        (feature("00008", geometry=PARIS), "outside Vietnam"),
        (
            feature("00008", geometry={"type": "Point", "coordinates": [105.8, 21.0]}),
            "Polygon or MultiPolygon",
        ),
        (
            feature("00008", geometry={"type": "Polygon", "coordinates": [[[1, 2]]]}),
            "cannot be read",
        ),
        (feature("00008", geometry=None), "no geometry"),
    ],
)
def test_bad_feature_refuses_the_whole_file(bad_feature, message):
    before = boundary_snapshot()
    good = feature("00025", geometry=SQUARE)
    with pytest.raises(ImportRejected) as exc:
        services.import_boundaries(collection(good, bad_feature))
    assert any(message in str(e["message"]) for e in exc.value.errors), exc.value.errors
    assert all(e["feature"] == 2 for e in exc.value.errors)
    assert boundary_snapshot() == before  # the good feature was not written either


def test_duplicate_unit_in_file_is_refused():
    with pytest.raises(ImportRejected) as exc:
        services.import_boundaries(collection(feature("00004"), feature("00004")))
    assert "twice" in str(exc.value.errors[0]["message"])


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        json.dumps({"type": "Feature"}),
        json.dumps({"type": "FeatureCollection", "features": []}),
        json.dumps([1, 2]),
    ],
)
def test_not_a_feature_collection_is_refused(text):
    with pytest.raises(ImportRejected):
        services.import_boundaries(text)


def test_real_hanoi_boundaries_cover_all_units(needs_shared_data):
    assert AdministrativeUnit.objects.filter(boundary__isnull=False).count() == 126
    ba_dinh = AdministrativeUnit.objects.get(code="00004")
    assert ba_dinh.boundary.valid


CROSSWALK_HEADER = "new_code,new_name,old_code,old_name,note,old_district,old_province\n"


def test_crosswalk_maps_old_units_including_splits(needs_shared_data):
    assert LegacyUnit.objects.count() == 526
    assert LegacyUnitMapping.objects.count() == 795
    quan_thanh = LegacyUnit.objects.get(name="Phường Quán Thánh", district="Quận Ba Đình")
    assert quan_thanh.district_code == "001"
    assert [u.code for u in quan_thanh.successors.all()] == ["00004"]
    ngoc_ha = LegacyUnit.objects.get(name="Phường Ngọc Hà", district="Quận Ba Đình")
    assert ngoc_ha.successors.count() > 1
    assert not LegacyUnitMapping.objects.filter(legacy_unit=ngoc_ha).first().whole


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("99999,X,90001,Phường A,Nhập toàn bộ,Quận B (001),Thành phố Hà Nội (01)", "new_code"),
        ("00004,X,9001,Phường A,Nhập toàn bộ,Quận B (001),Thành phố Hà Nội (01)", "old_code"),
        ("00004,X,90001,,Nhập toàn bộ,Quận B (001),Thành phố Hà Nội (01)", "old_name"),
        (
            "00004,X,90001,Phường A,Nhập toàn bộ,Quận 1 (760),Thành phố Hồ Chí Minh (79)",
            "old_province",
        ),
    ],
)
def test_bad_crosswalk_row_refuses_the_file(row, column):
    before = (LegacyUnit.objects.count(), LegacyUnitMapping.objects.count())
    good = "00004,Phường Ba Đình,90002,Phường Tốt,Nhập toàn bộ,Quận Ba Đình (001),Thành phố Hà Nội (01)"
    with pytest.raises(ImportRejected) as exc:
        services.import_crosswalk(CROSSWALK_HEADER + good + "\n" + row + "\n")
    assert exc.value.errors == [
        {"row": 3, "column": column, "message": exc.value.errors[0]["message"]}
    ]
    assert (LegacyUnit.objects.count(), LegacyUnitMapping.objects.count()) == before


def test_crosswalk_missing_columns_is_refused():
    with pytest.raises(ImportRejected, match="Missing columns"):
        services.import_crosswalk("a,b\n1,2\n")


@pytest.mark.parametrize(
    ("address", "codes", "via"),
    [
        ("Phường Quán Thánh, Quận Ba Đình", ["00004"], "legacy"),
        ("phuong quan thanh, quan ba dinh", ["00004"], "legacy"),
        ("Phường Yên Hòa, Hà Nội", ["00175"], "current"),  # crosswalk spelling of "Yên Hoà"
        ("Phường Yên Hoà", ["00175"], "current"),
        ("Yên Hòa", ["00175"], "current"),
    ],
)
def test_resolve_address(needs_shared_data, address, codes, via):
    matches = services.resolve_address(address)
    assert [m.unit.code for m in matches] == codes
    assert {m.via for m in matches} == {via}


def test_resolve_split_old_ward_gives_every_new_unit(needs_shared_data):
    matches = services.resolve_address("Phường Ngọc Hà, Quận Ba Đình")
    assert {m.unit.code for m in matches} == {"00004", "00008"}
    assert not any(m.whole for m in matches)


def test_resolve_unknown_address_gives_nothing():
    assert services.resolve_address("Phường Không Có, Quận Không Có") == []
    assert services.resolve_address("") == []


def test_find_units_by_name_ignores_tone_placement():
    assert [u.code for u in services.find_units_by_name("Phường Yên Hòa")] == ["00175"]
    assert [u.code for u in services.find_units_by_name("yen hoa")] == ["00175"]


def test_unknown_code_message_is_vietnamese_by_default():
    with translation.override("vi"), pytest.raises(ImportRejected) as exc:
        services.import_boundaries(collection(feature("99999")))
    assert exc.value.errors[0]["message"].startswith("Mã đơn vị 99999 không tồn tại")
