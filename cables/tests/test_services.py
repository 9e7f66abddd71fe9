"""The rules of cables.services: routes, lengths and commune pieces, progress, permissions, built ducts
in the sharing register, civil-works notices and the import of segments."""

import json
from datetime import date, timedelta

import pytest
from django.contrib.gis.geos import LineString
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cables import selectors, services
from cables.models import (
    CableSegment,
    CivilWorksNotice,
    CivilWorksRegistration,
    ProgressUpdate,
    SegmentCommune,
)
from core.exceptions import ImportRejected, InvalidInput, InvalidTransition, PermissionDenied
from core.models import Organization
from core.selectors import boundaries_loaded

pytestmark = pytest.mark.django_db

KIM_MA = LineString((105.8120, 21.0316), (105.8230, 21.0318), srid=4326)
TODAY = timezone.localdate


def org(code):
    return Organization.objects.get(code=code)


@pytest.fixture
def official(role_user):
    return role_user("city_official")


@pytest.fixture
def project(official):
    return services.save_project(
        official,
        participants=[org("VIETTEL"), org("VNPT")],
        code="T-KM-1",
        name="Hạ ngầm cáp phố Kim Mã (thử)",
        lead_agency=org("SO_KHCN_HN"),
        year=2024,
        status="in_construction",
    )


@pytest.fixture
def segment(official, project):
    return services.save_segment(
        official,
        project,
        name="Kim Mã - đoạn 1",
        route=KIM_MA,
        method="new_duct_bank",
        operator=org("VIETTEL"),
        bores=6,
    )


# --- Routes and lengths --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "route",
    [
        LineString((105.80, 21.03), (105.82, 21.05), (105.82, 21.03), (105.80, 21.05), srid=4326),
        LineString((105.81, 21.03), (105.81, 21.03), srid=4326),
        LineString((100.50, 13.75), (100.51, 13.76), srid=4326),  # Bangkok
        LineString((105.80, 21.03), (125.0, 21.03), srid=4326),  # leaves Vietnam
    ],
    ids=["self-intersecting", "single-point", "outside-vietnam", "leaves-vietnam"],
)
def test_bad_routes_are_refused_and_nothing_stored(official, project, route):
    with pytest.raises(InvalidInput) as exc:
        services.save_segment(official, project, name="x", route=route, method="existing_duct")
    assert "route" in exc.value.errors
    assert not CableSegment.objects.exists()
    assert not SegmentCommune.objects.exists()


def test_length_comes_from_the_geometry_and_is_clipped_to_communes(
    official, project, needs_shared_data
):
    with pytest.raises(InvalidInput) as exc:
        services.save_segment(
            official, project, name="Kim Mã", route=KIM_MA, method="existing_duct", length_m=1
        )  # the length is never typed in
    assert "length_m" in exc.value.errors
    segment = services.save_segment(
        official, project, name="Kim Mã", route=KIM_MA, method="existing_duct"
    )
    assert segment.length_m == pytest.approx(1144, abs=3)
    pieces = dict(segment.pieces.values_list("commune__code", "length_m"))
    assert set(pieces) == {"00008", "00025"}
    assert pieces["00008"] == pytest.approx(1006, abs=3)  # Ngọc Hà
    assert pieces["00025"] == pytest.approx(137, abs=3)  # Giảng Võ
    assert sum(pieces.values()) == pytest.approx(segment.length_m, rel=1e-4)
    # A new route re-clips: the western end lies in Giảng Võ only.
    short = LineString((105.8120, 21.0316), (105.8130, 21.0316), srid=4326)
    segment = services.save_segment(official, project, segment, route=short)
    assert set(segment.pieces.values_list("commune__code", flat=True)) == {"00025"}
    assert segment.length_m == pytest.approx(104, abs=2)


# --- Progress ------------------------------------------------------------------------------------


def test_progress_rules(official, role_user, segment):
    lan = role_user("operator_viettel")
    yesterday = TODAY() - timedelta(days=1)
    bad = [
        ({"duct_built_m": -1}, "duct_built_m"),
        ({"poles_removed": -2}, "poles_removed"),
        ({"reported_on": TODAY() + timedelta(days=1)}, "reported_on"),
        ({"cable_pulled_m": segment.length_m + 10}, "cable_pulled_m"),
    ]
    for kwargs, field in bad:
        kwargs = {"reported_on": yesterday, **kwargs}
        with pytest.raises(InvalidInput) as exc:
            services.record_progress(lan, segment, **kwargs)
        assert field in exc.value.errors
    assert not ProgressUpdate.objects.exists()

    day1, day2, day3 = TODAY() - timedelta(days=30), TODAY() - timedelta(days=20), yesterday
    first = services.record_progress(lan, segment, reported_on=day1, duct_built_m=600)
    assert first.operator.code == "VIETTEL"
    services.record_progress(lan, segment, reported_on=day2, duct_built_m=400)
    # 1,000 m done: 200 more would exceed the ~1,144 m segment.
    with pytest.raises(InvalidInput):
        services.record_progress(lan, segment, reported_on=day3, duct_built_m=200)
    # A correction replaces the update it names: 600 -> 700 is allowed (700 + 400 <= 1,144).
    fix = services.record_progress(lan, segment, reported_on=day3, duct_built_m=700, corrects=first)
    assert services.segment_totals([segment.pk])[segment.pk]["duct_built_m"] == 1100
    with pytest.raises(InvalidInput) as exc:
        services.record_progress(lan, segment, reported_on=day3, duct_built_m=500, corrects=first)
    assert "corrects" in exc.value.errors
    # Totals for a date ignore later updates and corrections reported later.
    project = segment.project_id
    assert selectors.project_totals([project], as_of=day1)[project]["km_duct_built"] == 0.6
    assert selectors.project_totals([project], as_of=day2)[project]["km_duct_built"] == 1.0
    assert selectors.project_totals([project])[project]["km_duct_built"] == pytest.approx(1.1)
    # A correction beyond the length is refused too.
    with pytest.raises(InvalidInput):
        services.record_progress(lan, segment, reported_on=day3, duct_built_m=900, corrects=fix)
    assert ProgressUpdate.objects.count() == 3


def test_a_route_shorter_than_the_work_done_is_refused(official, role_user, segment):
    lan = role_user("operator_viettel")
    services.record_progress(lan, segment, reported_on=TODAY(), duct_built_m=800)
    short = LineString((105.8200, 21.0317), (105.8230, 21.0318), srid=4326)
    with pytest.raises(InvalidInput) as exc:
        services.save_segment(official, segment.project, segment, route=short)
    assert "route" in exc.value.errors
    segment.refresh_from_db()
    assert segment.length_m == pytest.approx(1144, abs=3)


# --- Permissions ---------------------------------------------------------------------------------


def test_only_participants_and_managers_report(official, role_user, segment):
    day = TODAY()
    with pytest.raises(PermissionDenied):
        services.record_progress(
            role_user("operator_mobifone"), segment, reported_on=day, duct_built_m=1
        )
    with pytest.raises(PermissionDenied):
        services.record_progress(
            role_user("national_official"), segment, reported_on=day, duct_built_m=1
        )
    assert not ProgressUpdate.objects.exists()
    services.record_progress(
        role_user("operator_viettel"), segment, reported_on=day, cable_pulled_m=5
    )
    update = services.record_progress(official, segment, reported_on=day, cable_pulled_m=5)
    assert update.operator.code == "SO_KHCN_HN"


def test_who_manages_projects_and_segments(official, role_user, project):
    for name in ("national_official", "operator_viettel", "operator_mobifone"):
        user = role_user(name)
        with pytest.raises(PermissionDenied):
            services.save_segment(user, project, name="x", route=KIM_MA, method="existing_duct")
        with pytest.raises(PermissionDenied):
            services.save_project(user, project, name="Đổi tên")
    with pytest.raises(PermissionDenied):
        services.save_project(
            role_user("national_official"),
            code="T-X",
            name="x",
            lead_agency=org("SO_KHCN_HN"),
            year=2025,
        )
    assert not CableSegment.objects.exists()
    # An operator leading its own project manages it.
    viettel_led = services.save_project(
        official, code="T-VT", name="Viettel", lead_agency=org("VIETTEL"), year=2025
    )
    services.save_segment(
        role_user("operator_viettel"),
        viettel_led,
        name="Xuân Thủy",
        route=LineString((105.7900, 21.0360), (105.7950, 21.0362), srid=4326),
        method="micro_trenching",
    )
    with pytest.raises(InvalidInput):  # an operator not taking part cannot be responsible
        services.save_segment(
            official,
            project,
            name="x",
            route=KIM_MA,
            method="existing_duct",
            operator=org("MOBIFONE"),
        )


# --- Built duct banks in the sharing register ----------------------------------------------------


def test_a_built_duct_bank_becomes_a_sharing_asset(official, role_user, segment):
    lan = role_user("operator_viettel")
    services.record_progress(lan, segment, reported_on=TODAY(), duct_built_m=700)
    segment.refresh_from_db()
    assert segment.duct_asset is None
    services.record_progress(
        lan, segment, reported_on=TODAY(), duct_built_m=round(segment.length_m - 700, 2)
    )
    segment.refresh_from_db()
    asset = segment.duct_asset
    assert asset is not None
    assert (asset.kind, asset.capacity, asset.owner.code) == ("duct", 6, "VIETTEL")
    assert asset.free_capacity == 6
    assert asset.length_m == pytest.approx(segment.length_m, abs=1)
    # Later updates do not register it twice.
    services.record_progress(lan, segment, reported_on=TODAY(), cable_pulled_m=100)
    assert CableSegment.objects.get(pk=segment.pk).duct_asset_id == asset.pk
    # An existing duct is never registered.
    other = services.save_segment(
        official,
        segment.project,
        name="ống cũ",
        route=LineString((105.8120, 21.0330), (105.8160, 21.0331), srid=4326),
        method="existing_duct",
    )
    services.record_progress(official, other, reported_on=TODAY(), duct_built_m=other.length_m)
    assert CableSegment.objects.get(pk=other.pk).duct_asset is None


# --- Civil works ---------------------------------------------------------------------------------


def _notice(user, deadline, start, title="Cải tạo hè phố Kim Mã"):
    return services.save_notice(
        user,
        title=title,
        owner=org("UBND_HN"),
        route=KIM_MA,
        effective_from=start,
        effective_to=start + timedelta(days=90),
        registration_deadline=deadline,
    )


def test_notice_deadline_must_come_before_the_works(official, needs_shared_data):
    with pytest.raises(InvalidInput) as exc:
        _notice(official, TODAY() + timedelta(days=20), TODAY() + timedelta(days=10))
    assert "registration_deadline" in exc.value.errors
    assert not CivilWorksNotice.objects.exists()
    with pytest.raises(PermissionDenied):
        _notice(None, TODAY(), TODAY())


def test_registrations_and_closing(official, role_user, needs_shared_data):
    notice = _notice(official, TODAY() + timedelta(days=10), TODAY() + timedelta(days=20))
    lan, huy = role_user("operator_viettel"), role_user("operator_mobifone")
    services.register_joint_use(lan, notice, "duct", bores=2)
    with pytest.raises(InvalidInput):
        services.register_joint_use(lan, notice, "cable")
    with pytest.raises(PermissionDenied):
        services.register_joint_use(official, notice, "duct")
    with pytest.raises(InvalidTransition):
        services.register_joint_use(huy, notice, "duct", today=TODAY() + timedelta(days=11))
    services.register_joint_use(huy, notice, "cable")
    assert CivilWorksRegistration.objects.filter(notice=notice).count() == 2

    past = _notice(official, TODAY() - timedelta(days=1), TODAY() + timedelta(days=5), "Cũ")
    assert services.close_expired_notices().closed == 1
    assert services.close_expired_notices().closed == 0
    assert CivilWorksNotice.objects.get(pk=past.pk).status == "closed"
    assert CivilWorksNotice.objects.get(pk=notice.pk).status == "open"
    with pytest.raises(InvalidTransition):
        services.register_joint_use(huy, past, "duct", today=TODAY() - timedelta(days=3))


# --- Import --------------------------------------------------------------------------------------

A = "LINESTRING(105.8120 21.0316, 105.8180 21.0317)"
B = "LINESTRING(105.8180 21.0317, 105.8230 21.0318)"


def _geojson(rows):
    features = [
        {
            "type": "Feature",
            "properties": props,
            "geometry": json.loads(LineString(*coords, srid=4326).geojson) if coords else None,
        }
        for props, coords in rows
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _kml(rows):
    marks = "".join(
        f"<Placemark><name>{name}</name><ExtendedData><Data name='method'><value>{method}</value>"
        f"</Data></ExtendedData><LineString><coordinates>{coords}</coordinates></LineString>"
        "</Placemark>"
        for name, method, coords in rows
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
        f"<Document>{marks}</Document></kml>"
    ).encode()


GOOD_FILES = {
    "segments.geojson": _geojson(
        [
            (
                {"name": "Kim Mã 1", "method": "new_duct_bank", "operator": "viettel", "bores": 9},
                ((105.8120, 21.0316), (105.8180, 21.0317)),
            ),
            (
                {"name": "Kim Mã 2", "method": "existing_duct"},
                ((105.8180, 21.0317), (105.8230, 21.0318)),
            ),
        ]
    ),  # fmt: skip
    "segments.kml": _kml(
        [
            ("Kim Mã 1", "micro_trenching", "105.8120,21.0316 105.8180,21.0317"),
            ("Kim Mã 2", "existing_duct", "105.8180,21.0317,0 105.8230,21.0318,0"),
        ]
    ),
    "segments.csv": (
        f'name,method,operator,bores,wkt\nKim Mã 1,new_duct_bank,VNPT,6,"{A}"\n'
        f'Kim Mã 2,existing_duct,,,"{B}"\n'
    ).encode(),
}


@pytest.mark.parametrize("filename", sorted(GOOD_FILES))
def test_import_good_files(official, project, filename):
    result = services.import_segments(
        official, project, SimpleUploadedFile(filename, GOOD_FILES[filename])
    )
    assert result.created == 2
    names = list(CableSegment.objects.order_by("id").values_list("name", flat=True))
    assert names == ["Kim Mã 1", "Kim Mã 2"]
    total = sum(CableSegment.objects.values_list("length_m", flat=True))
    assert total == pytest.approx(1144, abs=5)
    if boundaries_loaded():
        assert SegmentCommune.objects.count() >= 2


BAD_FILES = {
    "bad.csv": (
        f'name,method,operator,bores,wkt\nKim Mã 1,new_duct_bank,,6,"{A}"\n'
        f',digging,MOBIFONE,500,"{B}"\n'
        'Kim Mã 3,existing_duct,,,"LINESTRING(105.81 21.03, 105.81 21.03)"\n'
        "Kim Mã 4,existing_duct,,,not wkt\n"
    ).encode(),
    "bad.geojson": _geojson(
        [
            ({"name": "ok", "method": "existing_duct"}, ((105.8120, 21.0316), (105.8180, 21.0317))),
            ({"name": "x", "method": "existing_duct"}, ((100.50, 13.75), (100.51, 13.76))),
            ({"name": "y", "method": "existing_duct"}, None),
        ]
    ),  # fmt: skip
    "bad.kml": _kml(
        [
            ("ok", "existing_duct", "105.8120,21.0316 105.8180,21.0317"),
            ("loop", "existing_duct", "105.80,21.03 105.82,21.05 105.82,21.03 105.80,21.05"),
        ]
    ),
}
BAD_ROWS = {
    "bad.csv": {(3, "name"), (3, "method"), (3, "operator"), (3, "bores"), (4, "geometry"),
                (5, "geometry")},
    "bad.geojson": {(2, "geometry"), (3, "geometry")},
    "bad.kml": {(2, "geometry")},
}  # fmt: skip


@pytest.mark.parametrize("filename", sorted(BAD_FILES))
def test_import_bad_rows_refuse_the_file(official, project, filename):
    with pytest.raises(ImportRejected) as exc:
        services.import_segments(
            official, project, SimpleUploadedFile(filename, BAD_FILES[filename])
        )
    assert {(e["row"], e["column"]) for e in exc.value.errors} == BAD_ROWS[filename]
    assert all(e["message"] for e in exc.value.errors)
    assert not CableSegment.objects.exists()
    assert not SegmentCommune.objects.exists()


def test_import_needs_a_manager(role_user, project):
    with pytest.raises(PermissionDenied):
        services.import_segments(
            role_user("operator_viettel"),
            project,
            SimpleUploadedFile("s.csv", GOOD_FILES["segments.csv"]),
        )
    assert not CableSegment.objects.exists()


def test_commune_and_operator_totals_for_a_date(official, role_user, segment, needs_shared_data):
    lan = role_user("operator_viettel")
    services.record_progress(lan, segment, reported_on=date(2026, 1, 10), duct_built_m=500)
    services.record_progress(official, segment, reported_on=TODAY(), duct_built_m=500)
    rows = {r["commune"]: r for r in selectors.totals_by_commune(project_ids=[segment.project_id])}
    assert sum(r["km_planned"] for r in rows.values()) == pytest.approx(segment.length_m / 1000)
    assert sum(r["km_duct_built"] for r in rows.values()) == pytest.approx(1.0)
    assert rows["00008"]["km_duct_built"] == pytest.approx(1.0 * 1006 / 1144, abs=0.005)
    early = selectors.totals_by_commune(as_of=date(2026, 1, 31), project_ids=[segment.project_id])
    assert sum(r["km_duct_built"] for r in early) == pytest.approx(0.5)
    ops = {r["operator"]: r["km_duct_built"] for r in selectors.totals_by_operator()}
    assert ops == {"VIETTEL": pytest.approx(0.5), "SO_KHCN_HN": pytest.approx(0.5)}
