"""Business rules of the stations app, through its services (real PostGIS, no mocks)."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from core.exceptions import (
    Conflict,
    ImportRejected,
    InvalidInput,
    InvalidTransition,
    PermissionDenied,
)
from core.models import Notification, Organization
from stations import services
from stations.models import ApplicationEvent, PermitApplication, PublicSite, Station
from stations.tests.conftest import BA_DINH, NEAR_BA_DINH, jpeg_named_pdf, pdf

pytestmark = pytest.mark.django_db
S = PermitApplication.Status


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def lan(role_user):
    return role_user("operator_viettel")


@pytest.fixture
def minh(role_user):
    return role_user("city_official")


def station_data(**overrides):
    data = {
        "operator": Organization.objects.get(code="VIETTEL"),
        "code": "VT-1",
        "name": "Trạm thử",
        "location": BA_DINH,
        "structure_type": "monopole",
        "structure_height_m": Decimal("30"),
        "land_category": "public_land",
        "technologies": ["4G"],
    }
    data.update(overrides)
    return data


# --- Station register -----------------------------------------------------------------------------


def test_create_station_suggests_the_commune_from_the_point(lan):
    station = services.create_station(lan, **station_data())
    assert station.commune.code == "00004"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"location": Point(2.35, 48.85, srid=4326)}, "location", "outside Vietnam"),
        (
            {"location": Point(106.70, 10.78, srid=4326)},
            "location",
            "outside Hanoi",
        ),  # Hồ Chí Minh City
        ({"commune": "00008"}, "commune", "not in Phường Ngọc Hà"),
        ({"structure_height_m": Decimal("-5")}, "structure_height_m", "more than 0"),
        ({"structure_height_m": Decimal("301")}, "structure_height_m", "300 m"),
        ({"building_height_m": Decimal("500")}, "building_height_m", "300 m"),
        ({"operator": "CUC_VT"}, "operator", "telecom operator"),
        ({"structure_type": "pyramid"}, "structure_type", "not a valid choice"),
        ({"colour": "red"}, "colour", "Unknown field"),
    ],
)
def test_bad_station_input_is_refused_and_nothing_stored(minh, unit, overrides, field, message):
    if overrides.get("commune"):
        overrides["commune"] = unit(overrides["commune"])
    if overrides.get("operator"):
        overrides["operator"] = Organization.objects.get(code=overrides["operator"])
    before = Station.objects.count()
    with pytest.raises(InvalidInput) as exc:
        services.create_station(minh, **station_data(**overrides))
    assert field in exc.value.errors
    assert message in " ".join(str(m) for m in exc.value.errors[field])
    assert Station.objects.count() == before


def test_duplicate_code_for_the_same_operator_is_a_field_error(lan):
    services.create_station(lan, **station_data())
    with pytest.raises(InvalidInput) as exc:
        services.create_station(lan, **station_data(name="Khác"))
    assert "code" in exc.value.errors


@pytest.mark.parametrize(
    ("role", "operator", "allowed"),
    [
        ("city_official", "VIETTEL", True),
        ("administrator", "MOBIFONE", True),
        ("operator_viettel", "VIETTEL", True),
        ("operator_viettel", "MOBIFONE", False),
        ("operator_mobifone", "VIETTEL", False),
        ("national_official", "VIETTEL", False),
        ("agency_api_client", "VIETTEL", False),
        ("operator_api_client", "VNPT", True),
        ("no_role", "VIETTEL", False),
    ],
)
def test_who_may_create_stations(role_user, role, operator, allowed):
    user = role_user(role)
    data = station_data(operator=Organization.objects.get(code=operator))
    if allowed:
        assert services.create_station(user, **data).pk
    else:
        with pytest.raises(PermissionDenied):
            services.create_station(user, **data)
        assert not Station.objects.filter(code="VT-1").exists()


def test_operator_cannot_move_its_station_to_another_operator(lan):
    station = services.create_station(lan, **station_data())
    with pytest.raises(PermissionDenied):
        services.update_station(lan, station, operator=Organization.objects.get(code="MOBIFONE"))
    station.refresh_from_db()
    assert station.operator.code == "VIETTEL"


def test_update_keeps_history_with_the_user(lan):
    from core.history import events_for

    station = services.create_station(lan, **station_data())
    services.update_station(lan, station, structure_height_m=Decimal("36"))
    update = list(events_for(station))[-1]
    assert update.pgh_diff["structure_height_m"] == [30.0, 36.0]
    assert update.pgh_context["user"] == lan.pk


# --- Co-location --------------------------------------------------------------------------------------


def test_nearby_lists_other_operators_within_radius_with_distances(make_station):
    make_station("MOBIFONE", location=NEAR_BA_DINH, code="MF-1")
    make_station("VNPT", location=Point(105.8365, 21.0360, srid=4326), code="VN-1")  # ~208 m
    make_station("VIETTEL", location=NEAR_BA_DINH, code="VT-OWN")  # own: not a candidate
    make_station("MOBIFONE", location=BA_DINH, code="MF-OLD", status="decommissioned")
    found = services.selectors.nearby_stations(
        BA_DINH, 200, exclude_operator=Organization.objects.get(code="VIETTEL").pk
    )
    assert [n.code for n in found] == ["MF-1"]
    assert 100 < found[0].distance_m < 130
    wider = services.selectors.nearby_stations(
        BA_DINH, 250, exclude_operator=Organization.objects.get(code="VIETTEL").pk
    )
    assert [n.code for n in wider] == ["MF-1", "VN-1"]


# --- Permit workflow ----------------------------------------------------------------------------------


def test_draft_from_a_public_site_takes_its_place(lan, make_site, make_application):
    site = make_site()
    app = make_application(lan, public_site=site, location=None, address=None, land_category=None)
    assert app.location == site.location and app.commune.code == "00004"
    assert app.land_category == "public_building" and app.applicant.code == "VIETTEL"
    assert app.status == S.DRAFT and app.number is None


def test_only_operator_staff_can_apply(minh, make_application):
    with pytest.raises(PermissionDenied):
        make_application(minh)


def test_submit_needs_a_reason_when_others_stand_nearby(lan, make_station, make_application):
    make_station("MOBIFONE", location=NEAR_BA_DINH, code="MF-1")
    app = make_application(lan)
    with pytest.raises(InvalidInput) as exc:
        services.submit(lan, app)
    assert "sharing_justification" in exc.value.errors
    app.refresh_from_db()
    assert app.status == S.DRAFT and app.number is None
    app = services.submit(
        lan, app, sharing_justification="Cột MobiFone không đủ tải trọng.", today=date(2026, 11, 27)
    )
    assert app.status == S.SUBMITTED
    assert app.number == f"HN-2026-{app.pk:06d}"
    assert [c["code"] for c in app.colocation_candidates] == ["MF-1"]
    assert app.completeness_due == date(2026, 12, 2)  # 3 working days after Friday 27/11
    assert app.decision_due == date(2026, 12, 11)  # 10 working days


def test_full_flow_with_the_clock_stopping_while_returned(lan, minh, make_site, make_application):
    site = make_site()
    app = make_application(lan, public_site=site)
    app = services.submit(lan, app, today=date(2026, 2, 9))  # Monday before Tết
    assert app.decision_due == date(2026, 3, 2)  # 10 working days: Tết 16-20/02 skipped
    app = services.return_for_supplement(
        minh, app, "Thiếu bản vẽ", expected_version=app.version, today=date(2026, 2, 12)
    )
    assert app.status == S.RETURNED and not app.clock_running
    assert app.days_used_before == 3
    assert (
        services.days_left(app, today=date(2026, 3, 20)) == 7
    )  # the clock does not run while returned
    app = services.resubmit(lan, app, today=date(2026, 3, 23))
    assert app.clock_running and app.decision_due == date(2026, 4, 1)  # 7 working days from 23/03
    assert services.days_used(app, today=date(2026, 3, 25)) == 5
    app = services.accept(minh, app, expected_version=app.version, today=date(2026, 3, 24))
    app = services.approve(
        minh, app, "123/GP-SKHCN", expected_version=app.version, today=date(2026, 3, 25)
    )
    assert app.status == S.APPROVED and app.decided_by == minh
    station = app.station
    assert station.status == Station.Status.PERMITTED and station.permit_reference == "123/GP-SKHCN"
    assert station.operator.code == "VIETTEL" and station.code == "HN-NEW-1"
    site.refresh_from_db()
    assert site.status == PublicSite.Status.OCCUPIED
    kinds = list(app.timeline.values_list("to_status", flat=True))
    assert kinds == ["submitted", "returned", "resubmitted", "under_review", "approved"]


def test_each_step_notifies_the_other_side(lan, minh, make_application, make_user):
    colleague = make_user("operator_staff", "VIETTEL")
    app = services.submit(lan, make_application(lan))
    assert Notification.objects.filter(recipient=minh, title__contains=app.number).exists()
    services.return_for_supplement(minh, app, "Thiếu hồ sơ")
    assert Notification.objects.filter(recipient=colleague, title__contains="Returned").exists()
    assert Notification.objects.filter(recipient=lan, title__contains="Returned").exists()


@pytest.mark.parametrize(
    ("action", "who"),
    [
        ("approve", "lan"),
        ("accept", "lan"),
        ("return_for_supplement", "lan"),
        ("resubmit", "minh"),
        ("withdraw", "minh"),
    ],
)
def test_roles_may_not_take_the_other_sides_steps(lan, minh, make_application, action, who):
    app = services.submit(lan, make_application(lan))
    user = {"lan": lan, "minh": minh}[who]
    args = {"approve": ("1/GP",), "return_for_supplement": ("note",)}.get(action, ())
    with pytest.raises((PermissionDenied, InvalidTransition)):
        getattr(services, action)(user, app, *args)
    app.refresh_from_db()
    assert app.status == S.SUBMITTED


def test_another_operator_cannot_touch_the_application(lan, role_user, make_application):
    mobifone = role_user("operator_mobifone")
    app = services.submit(lan, make_application(lan))
    with pytest.raises(PermissionDenied):
        services.withdraw(mobifone, app)
    with pytest.raises(PermissionDenied):
        services.post_message(mobifone, app, "xin chào")


def test_illegal_transition_is_an_error_not_a_no_op(lan, minh, make_application):
    app = make_application(lan)
    with pytest.raises(InvalidTransition, match="not possible"):
        services.resubmit(lan, app)
    app = services.submit(lan, app)
    with pytest.raises(InvalidTransition):
        services.approve(minh, app, "1/GP")  # not under review yet
    app.refresh_from_db()
    assert app.status == S.SUBMITTED


def test_a_second_decision_on_a_decided_application_is_a_conflict(
    lan, minh, make_user, make_application
):
    other_official = make_user("city_official", "SO_KHCN_HN")
    app = services.accept(minh, services.submit(lan, make_application(lan)))
    seen_version = app.version
    services.approve(minh, app, "10/GP", expected_version=seen_version)
    with pytest.raises(Conflict):
        services.reject(
            other_official, app, "Không phù hợp quy hoạch", expected_version=seen_version
        )
    with pytest.raises(Conflict, match="already been decided"):
        services.reject(other_official, app, "Không phù hợp quy hoạch")
    app.refresh_from_db()
    assert app.status == S.APPROVED and app.decision_number == "10/GP" and app.decision_reason == ""


@pytest.mark.parametrize(
    ("action", "args", "field"),
    [
        ("approve", ("  ",), "decision_number"),
        ("reject", ("",), "reasons"),
    ],
)
def test_decisions_need_their_number_or_reasons(lan, minh, make_application, action, args, field):
    app = services.accept(minh, services.submit(lan, make_application(lan)))
    with pytest.raises(InvalidInput) as exc:
        getattr(services, action)(minh, app, *args)
    assert field in exc.value.errors
    app.refresh_from_db()
    assert app.status == S.UNDER_REVIEW


def test_documents_are_checked_by_content(lan, make_application, doc_type):
    app = make_application(lan)
    document = services.upload_document(lan, app, doc_type("drawings"), pdf())
    assert document.content_type == "application/pdf" and document.size > 0
    with pytest.raises(InvalidInput) as exc:
        services.upload_document(lan, app, doc_type("land_use"), jpeg_named_pdf())
    assert "JPEG" in str(exc.value.errors["file"][0])
    with pytest.raises(InvalidInput):
        services.upload_document(
            lan, app, doc_type("land_use"), SimpleUploadedFile("x.pdf", b"MZ\x90\x00not a pdf")
        )
    assert app.documents.count() == 1


def test_oversized_file_is_refused(lan, make_application, doc_type, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    app = make_application(lan)
    with pytest.raises(InvalidInput):
        services.upload_document(lan, app, doc_type(), pdf(content=b"%PDF-" + b"0" * 2000))
    assert app.documents.count() == 0


def test_checklist_shows_what_is_missing(lan, make_application, doc_type):
    from stations.selectors import application_detail, checklist

    app = make_application(lan)
    services.upload_document(lan, app, doc_type("drawings"), pdf())
    items = checklist(application_detail(lan, app.pk))
    done = {i["type"].code: i["done"] for i in items}
    assert done == {
        "application_form": False,
        "drawings": True,
        "land_use": False,
        "structural": False,
        "emf": False,
    }


# --- Deadlines ----------------------------------------------------------------------------------------


def test_overdue_applications_are_flagged_once(lan, minh, make_application):
    app = services.submit(lan, make_application(lan), today=date(2026, 11, 2))
    assert app.decision_due == date(2026, 11, 16)
    assert services.process_deadlines(today=date(2026, 11, 16)).overdue == 0
    assert services.process_deadlines(today=date(2026, 11, 17)).overdue == 1
    assert services.process_deadlines(today=date(2026, 11, 18)).overdue == 0  # idempotent
    app.refresh_from_db()
    assert app.overdue and app.status == S.SUBMITTED
    assert app.timeline.filter(kind=ApplicationEvent.Kind.OVERDUE).count() == 1
    assert Notification.objects.filter(recipient=minh, title__contains="overdue").count() == 1


def test_tacit_approval_past_the_deadline(lan, make_site, make_application):
    site = make_site()
    app = make_application(
        lan, public_site=site, type_code="non_bulky", structure_type="camouflaged_mast"
    )
    app = services.submit(lan, app, today=date(2026, 11, 2))
    assert app.decision_due == date(2026, 11, 9)  # 5 working days
    run = services.process_deadlines(today=date(2026, 11, 10))
    assert run.deemed_approved == 1
    app.refresh_from_db()
    assert app.status == S.DEEMED_APPROVED and app.station.status == Station.Status.PERMITTED
    site.refresh_from_db()
    assert site.status == PublicSite.Status.OCCUPIED
    assert services.process_deadlines(today=date(2026, 11, 11)).deemed_approved == 0


def test_returned_application_is_never_overdue(lan, minh, make_application):
    app = services.submit(lan, make_application(lan), today=date(2026, 11, 2))
    services.return_for_supplement(minh, app, "Thiếu", today=date(2026, 11, 3))
    assert services.process_deadlines(today=date(2026, 12, 31)).overdue == 0


# --- Import -----------------------------------------------------------------------------------------

HEADER = "operator,code,name,address,commune,lon,lat,structure_type,structure_height_m,building_height_m,technologies,land_category,status,permit_reference,commissioned_on\n"
GOOD = "VIETTEL,VT-IMP-1,Trạm nhập 1,Phố Đội Cấn,00004,105.8345,21.0360,monopole,30,,4G;5G,public_land,operating,,01/02/2024\n"


def csv_file(text, name="stations.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8"))


def test_import_creates_then_updates(minh):
    result = services.import_stations(minh, csv_file(HEADER + GOOD))
    assert (result.created, result.updated) == (1, 0)
    station = Station.objects.get(code="VT-IMP-1")
    assert station.technologies == ["4G", "5G"] and station.commissioned_on == date(2024, 2, 1)
    result = services.import_stations(minh, csv_file(HEADER + GOOD.replace(",30,", ",36,")))
    assert (result.created, result.updated) == (0, 1)
    station.refresh_from_db()
    assert station.structure_height_m == Decimal("36")


def test_import_xlsx(minh, xlsx_bytes):
    rows = HEADER.strip().split(",")
    data = xlsx_bytes([rows, GOOD.strip().split(",")])
    result = services.import_stations(minh, SimpleUploadedFile("s.xlsx", data))
    assert result.created == 1


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("UNKNOWN,X-1,T,,,105.83,21.03,monopole,30,,4G,public_land,,,", "operator"),
        ("VIETTEL,X-1,T,,,2.35,48.85,monopole,30,,4G,public_land,,,", "lon"),
        ("VIETTEL,X-1,T,,00008,105.8345,21.0360,monopole,30,,4G,public_land,,,", "commune"),
        ("VIETTEL,X-1,T,,,105.83,21.03,monopole,-3,,4G,public_land,,,", "structure_height_m"),
        ("VIETTEL,X-1,T,,,105.83,21.03,monopole,301,,4G,public_land,,,", "structure_height_m"),
        ("VIETTEL,X-1,T,,,105.83,21.03,monopole,abc,,4G,public_land,,,", "structure_height_m"),
        ("VIETTEL,X-1,T,,,105.83,21.03,monopole,30,,6G,public_land,,,", "technologies"),
        ("VIETTEL,X-1,T,,,105.83,21.03,pyramid,30,,4G,public_land,,,", "structure_type"),
        (
            "VIETTEL,X-1,T,,,105.83,21.03,monopole,30,,4G,public_land,,,31/02/2024",
            "commissioned_on",
        ),
        (
            "VIETTEL,VT-IMP-1,T,,,105.83,21.03,monopole,30,,4G,public_land,,,",
            "code",
        ),  # duplicate of row 2
    ],
)
def test_import_bad_row_refuses_the_whole_file(minh, row, column):
    before = Station.objects.count()
    with pytest.raises(ImportRejected) as exc:
        services.import_stations(minh, csv_file(HEADER + GOOD + row + "\n"))
    assert {(e["row"], e["column"]) for e in exc.value.errors} == {(3, column)}, exc.value.errors
    assert Station.objects.count() == before


def test_operator_cannot_import_another_operators_stations(lan):
    with pytest.raises(ImportRejected) as exc:
        services.import_stations(lan, csv_file(HEADER + GOOD.replace("VIETTEL,", "MOBIFONE,")))
    assert exc.value.errors[0]["column"] == "operator"


def test_import_refuses_missing_columns_and_non_excel(minh):
    with pytest.raises(ImportRejected, match="Missing columns"):
        services.import_stations(minh, csv_file("operator,code\nVIETTEL,X\n"))
    with pytest.raises(ImportRejected):
        services.import_stations(minh, SimpleUploadedFile("s.xlsx", b"not a workbook"))


# --- Co-location with shareable structures (sharing app) -------------------------------------------


@pytest.fixture
def mobifone_tower(role_user):
    from sharing import services as sharing_services

    return sharing_services.save_asset(
        role_user("operator_mobifone"),
        code="MF-T-1",
        name="Cột MobiFone",
        kind="tower",
        owner=Organization.objects.get(code="MOBIFONE"),
        geometry=NEAR_BA_DINH,
        capacity=3,
    )


def test_a_free_tower_nearby_also_asks_for_a_justification(lan, make_application, mobifone_tower):
    app = make_application(lan)
    assert [a.code for a in services.shareable_structures(app)] == ["MF-T-1"]
    with pytest.raises(InvalidInput) as exc:
        services.submit(lan, app)
    assert "1 structures" in str(exc.value.errors["sharing_justification"][0])


def test_raise_a_sharing_request_in_one_step(lan, role_user, make_application, mobifone_tower):
    from sharing.models import SharingRequest

    app = make_application(lan)
    request = services.raise_sharing_request(lan, app, mobifone_tower)
    assert request.requester.code == "VIETTEL" and request.owner.code == "MOBIFONE"
    assert request.status == SharingRequest.Status.SUBMITTED and "Rooftop mast" in request.needs
    assert list(app.sharing_requests.all()) == [request]
    assert app.timeline.filter(note__contains=request.number).exists()
    with pytest.raises(PermissionDenied):
        services.raise_sharing_request(role_user("operator_mobifone"), app, mobifone_tower)
