"""Who reports what on a cable segment (issue 15), one rule in cables.services for every door:

- A segment's responsible operator alone reports its civil works: duct built (m) and poles removed.
  Another operator's update there with duct or poles is refused with a field error (service:
  InvalidInput; page: a form error; API: 400 with the field), and nothing is written.
- Every participating operator reports on any segment of the project the cable it pulled in and
  the overhead cable it removed, so the per-operator totals read each operator's own updates.
- Officials report everything, as before; an operator taking no part sees nothing (404).

There is no progress import (the import reads segments, with their responsible operator): the last
service test checks that the operator an import names is the one whose duct is then accepted.
"""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import LineString
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from cables import selectors, services
from cables.models import CableSegment, ProgressUpdate
from core import indicators
from core.exceptions import InvalidInput, PermissionDenied

pytestmark = pytest.mark.django_db

KIM_MA = LineString((105.8150, 21.0320), (105.8200, 21.0318), (105.8250, 21.0314), srid=4326)
DOI_CAN = LineString((105.8170, 21.0355), (105.8230, 21.0352), srid=4326)
SEGMENTS = "/api/v1/cable-segments/"
PROJECTS = "/api/v1/cable-projects/"
TOTALS = "/api/v1/cable-totals/"


@pytest.fixture(autouse=True)
def english(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def official(role_user):
    return role_user("city_official")


@pytest.fixture
def viettel(make_user):
    return make_user("operator_staff", "VIETTEL")


@pytest.fixture
def vnpt(make_user):
    return make_user("operator_staff", "VNPT")


@pytest.fixture
def project(official, org):
    return services.save_project(
        official,
        participants=[org("VIETTEL"), org("VNPT")],
        code="SEG-REP-1",
        name="Hạ ngầm cáp phố Kim Mã – Đội Cấn",
        lead_agency=org("SO_KHCN_HN"),
        year=2026,
        status="in_construction",
    )


def make_segment(official, project, operator, route, name):
    return services.save_segment(
        official, project, name=name, route=route, method="new_duct_bank", operator=operator
    )


@pytest.fixture
def kim_ma(official, project, org):
    """Viettel's segment (~1,050 m)."""
    return make_segment(official, project, org("VIETTEL"), KIM_MA, "Kim Mã")


@pytest.fixture
def doi_can(official, project, org):
    """VNPT's segment (~620 m)."""
    return make_segment(official, project, org("VNPT"), DOI_CAN, "Đội Cấn")


def today():
    return timezone.localdate()


def days_ago(n):
    return today() - timedelta(days=n)


# --- The service ----------------------------------------------------------------------------------


def test_another_operator_reports_cable_and_overhead_but_not_duct_or_poles(vnpt, org, kim_ma):
    refused = [
        ({"duct_built_m": 10}, {"duct_built_m"}),
        ({"poles_removed": 2}, {"poles_removed"}),
        (
            {"duct_built_m": 10, "poles_removed": 2, "cable_pulled_m": 5},
            {"duct_built_m", "poles_removed"},
        ),  # fmt: skip
    ]
    for values, fields in refused:
        with pytest.raises(InvalidInput) as exc:
            services.record_progress(vnpt, kim_ma, reported_on=today(), **values)
        assert set(exc.value.errors) == fields
        message = exc.value.errors[next(iter(fields))][0]
        assert "responsible operator (Viettel)" in message, message
    assert not ProgressUpdate.objects.exists()
    update = services.record_progress(
        vnpt, kim_ma, reported_on=today(), cable_pulled_m=250, overhead_removed_m=150
    )
    assert update.operator == org("VNPT")
    assert (update.duct_built_m, update.poles_removed) == (0, 0)
    # Zero duct and poles are no civil works: nothing to refuse.
    services.record_progress(vnpt, kim_ma, reported_on=today(), duct_built_m=0, cable_pulled_m=1)
    assert ProgressUpdate.objects.count() == 2


def test_the_message_is_translatable(vnpt, kim_ma):
    with translation.override("vi"), pytest.raises(InvalidInput) as exc:
        services.record_progress(vnpt, kim_ma, reported_on=today(), duct_built_m=10)
    assert isinstance(exc.value.errors["duct_built_m"][0], str)
    assert "Viettel" in exc.value.errors["duct_built_m"][0]


def test_the_responsible_operator_and_officials_report_everything(official, viettel, kim_ma):
    services.record_progress(
        viettel,
        kim_ma,
        reported_on=today(),
        duct_built_m=100,
        cable_pulled_m=50,
        overhead_removed_m=40,
        poles_removed=2,
    )
    services.record_progress(
        official, kim_ma, reported_on=today(), duct_built_m=30, poles_removed=1
    )
    done = services.segment_totals([kim_ma.pk])[kim_ma.pk]
    assert (done["duct_built_m"], done["poles_removed"]) == (130, 3)


def test_a_state_lead_agencys_staff_keeps_reporting_civil_works(make_user, kim_ma):
    agency = make_user("operator_staff", "SO_KHCN_HN")
    services.record_progress(agency, kim_ma, reported_on=today(), duct_built_m=20, poles_removed=1)
    assert ProgressUpdate.objects.get().operator.code == "SO_KHCN_HN"


def test_a_correction_keeps_the_rule(vnpt, viettel, kim_ma):
    own = services.record_progress(vnpt, kim_ma, reported_on=days_ago(2), cable_pulled_m=250)
    with pytest.raises(InvalidInput) as exc:
        services.record_progress(
            vnpt, kim_ma, reported_on=days_ago(1), cable_pulled_m=240, duct_built_m=5, corrects=own
        )
    assert set(exc.value.errors) == {"duct_built_m"}
    # Viettel, the responsible operator, still cannot supersede VNPT's update (issue 14).
    with pytest.raises(InvalidInput) as exc:
        services.record_progress(viettel, kim_ma, reported_on=days_ago(1), corrects=own)
    assert "corrects" in exc.value.errors
    services.record_progress(
        vnpt, kim_ma, reported_on=days_ago(1), cable_pulled_m=240, corrects=own
    )
    assert services.segment_totals([kim_ma.pk])[kim_ma.pk]["cable_pulled_m"] == 240


def test_an_operator_with_no_part_reports_nothing_on_another_operators_segment(
    official, org, make_user, viettel, kim_ma
):
    mobifone = make_user("operator_staff", "MOBIFONE")
    with pytest.raises(PermissionDenied):
        services.record_progress(mobifone, kim_ma, reported_on=today(), cable_pulled_m=10)
    # An operator leading a project it takes no part in: nothing on another operator's segment.
    led = services.save_project(
        official,
        participants=[org("VNPT")],
        code="SEG-REP-VT",
        name="Hạ ngầm cáp phố Đội Cấn (Viettel chủ trì)",
        lead_agency=org("VIETTEL"),
        year=2026,
    )
    theirs = make_segment(official, led, org("VNPT"), DOI_CAN, "Đội Cấn")
    with pytest.raises(PermissionDenied):
        services.record_progress(viettel, theirs, reported_on=today(), cable_pulled_m=10)
    assert list(services.reportable_segments(viettel, led)) == []
    assert not ProgressUpdate.objects.exists()


def test_the_operator_an_import_names_is_the_one_whose_duct_counts(
    official, vnpt, viettel, project
):
    csv = (
        "name,method,operator,wkt\n"
        'Giảng Võ,new_duct_bank,VNPT,"LINESTRING(105.8150 21.0280, 105.8200 21.0278)"\n'
    )
    services.import_segments(
        official, project, SimpleUploadedFile("doan.csv", csv.encode(), "text/csv")
    )
    imported = CableSegment.objects.get(project=project, name="Giảng Võ")
    with pytest.raises(InvalidInput) as exc:
        services.record_progress(viettel, imported, reported_on=today(), duct_built_m=100)
    assert "responsible operator (VNPT)" in exc.value.errors["duct_built_m"][0]
    services.record_progress(viettel, imported, reported_on=today(), cable_pulled_m=100)
    services.record_progress(vnpt, imported, reported_on=today(), duct_built_m=100)
    assert ProgressUpdate.objects.filter(segment=imported).count() == 2


# --- Per-operator totals ----------------------------------------------------------------------------


@pytest.fixture
def two_operators(official, viettel, vnpt, kim_ma, doi_can):
    """Each operator builds the duct of its own segment and pulls its cable through both."""
    report = services.record_progress
    report(viettel, kim_ma, reported_on=days_ago(5), duct_built_m=400, poles_removed=3)
    report(viettel, kim_ma, reported_on=days_ago(4), cable_pulled_m=300, overhead_removed_m=200)
    report(vnpt, doi_can, reported_on=days_ago(5), duct_built_m=500, poles_removed=2)
    report(vnpt, doi_can, reported_on=days_ago(4), cable_pulled_m=100)
    first = report(
        vnpt, kim_ma, reported_on=days_ago(3), cable_pulled_m=250, overhead_removed_m=150
    )
    report(viettel, doi_can, reported_on=days_ago(3), cable_pulled_m=120, overhead_removed_m=60)
    # VNPT re-measured its cable in Kim Mã: 240 m, not 250.
    report(
        vnpt,
        kim_ma,
        reported_on=days_ago(2),
        cable_pulled_m=240,
        overhead_removed_m=150,
        corrects=first,
    )
    return kim_ma.project


EXPECTED_BY_OPERATOR = {
    # operator: (km duct built, km cable pulled in, km overhead removed)
    "VIETTEL": (0.4, 0.42, 0.26),
    "VNPT": (0.5, 0.34, 0.15),
}


def _by_code(rows):
    return {
        r["operator"]: (r["km_duct_built"], r["km_cable_pulled"], r["km_overhead_removed"])
        for r in rows
    }


def _approx(expected):
    return {k: pytest.approx(v, abs=1e-9) for k, v in expected.items()}


def test_per_operator_totals_read_each_operators_own_updates(two_operators, kim_ma, doi_can):
    project = two_operators
    rows = selectors.totals_by_operator(project_ids=[project.pk])
    assert _by_code(rows) == _approx(EXPECTED_BY_OPERATOR)
    totals = selectors.project_totals([project.pk])[project.pk]
    assert float(totals["km_duct_built"]) == pytest.approx(0.9)
    assert float(totals["km_cable_pulled"]) == pytest.approx(0.76)
    assert float(totals["km_overhead_removed"]) == pytest.approx(0.41)
    assert totals["poles_removed"] == 5
    done = services.segment_totals([kim_ma.pk, doi_can.pk])
    assert done[kim_ma.pk] == {
        "duct_built_m": 400,
        "cable_pulled_m": 540,
        "overhead_removed_m": 350,
        "poles_removed": 3,
    }
    assert done[doi_can.pk] == {
        "duct_built_m": 500,
        "cable_pulled_m": 220,
        "overhead_removed_m": 60,
        "poles_removed": 2,
    }
    # Before VNPT's correction (as of four days ago) VNPT had pulled no cable in Kim Mã yet.
    past = _by_code(selectors.totals_by_operator(days_ago(4), [project.pk]))
    assert past == _approx({"VIETTEL": (0.4, 0.3, 0.2), "VNPT": (0.5, 0.1, 0.0)})


def test_per_operator_totals_in_the_api_and_the_page(client, as_role, two_operators, vnpt):
    project = two_operators
    api = as_role("city_official")
    rows = api.get(f"{TOTALS}?by=operator&project={project.code}").json()
    assert _by_code(rows) == _approx(EXPECTED_BY_OPERATOR)
    detail = api.get(f"{PROJECTS}{project.public_id}/").json()
    assert _by_code(detail["by_operator"]) == _approx(EXPECTED_BY_OPERATOR)
    assert detail["totals"]["poles_removed"] == 5
    client.force_login(vnpt)
    page = client.get(f"/cables/projects/{project.pk}/")
    assert page.status_code == 200
    assert _by_code(page.context["by_operator"]) == _approx(EXPECTED_BY_OPERATOR)


def test_per_operator_indicators(two_operators):
    expected = {
        "cables.km_duct_built": {"VIETTEL": 0.4, "VNPT": 0.5},
        "cables.km_cable_pulled": {"VIETTEL": 0.42, "VNPT": 0.34},
        "cables.km_overhead_removed": {"VIETTEL": 0.26, "VNPT": 0.15},
    }
    for key, values in expected.items():
        rows = indicators.get(key).value(by="operator")
        assert {r["key"]: r["value"] for r in rows} == _approx(values), key


# --- The page form -------------------------------------------------------------------------------------


def form_post(segment, **values):
    data = {
        "progress-segment": segment.pk,
        "progress-reported_on": today().isoformat(),
        "progress-duct_built_m": "0",
        "progress-cable_pulled_m": "0",
        "progress-overhead_removed_m": "0",
        "progress-poles_removed": "0",
    }
    data.update({f"progress-{k}": v for k, v in values.items()})
    return data


def test_the_form_offers_every_segment_and_marks_the_cable_only_ones(
    client, official, vnpt, kim_ma, doi_can
):
    client.force_login(vnpt)
    form = client.get(f"/cables/projects/{kim_ma.project_id}/").context["progress_form"]
    field = form.fields["segment"]
    assert list(field.queryset) == [kim_ma, doi_can]
    labels = {pk: label for pk, label in field.choices if pk}
    assert labels[kim_ma.pk] == "Kim Mã (cable and overhead only)"
    assert labels[doi_can.pk] == "Đội Cấn"
    assert "responsible for" in form.fields["duct_built_m"].help_text
    # An official reports everything everywhere: no segment is marked.
    client.force_login(official)
    form = client.get(f"/cables/projects/{kim_ma.project_id}/").context["progress_form"]
    assert [label for pk, label in form.fields["segment"].choices if pk] == ["Kim Mã", "Đội Cấn"]
    assert not form.fields["duct_built_m"].help_text


def test_the_form_refuses_duct_and_poles_on_another_operators_segment(client, vnpt, kim_ma):
    client.force_login(vnpt)
    url = f"/cables/projects/{kim_ma.project_id}/progress/"
    response = client.post(url, form_post(kim_ma, duct_built_m="100", poles_removed="2"))
    assert response.status_code == 400
    errors = response.context["progress_form"].errors
    assert set(errors) == {"duct_built_m", "poles_removed"}
    assert "responsible operator (Viettel)" in response.content.decode()
    assert not ProgressUpdate.objects.exists()
    response = client.post(url, form_post(kim_ma, cable_pulled_m="80", overhead_removed_m="70"))
    assert response.status_code == 302
    update = ProgressUpdate.objects.get()
    assert (update.operator.code, update.cable_pulled_m, update.duct_built_m) == ("VNPT", 80, 0)


def test_another_operators_project_page_stays_a_404(client, make_user, kim_ma):
    client.force_login(make_user("operator_staff", "MOBIFONE"))
    url = f"/cables/projects/{kim_ma.project_id}/"
    assert client.get(url).status_code == 404
    response = client.post(f"{url}progress/", form_post(kim_ma, cable_pulled_m="10"))
    assert response.status_code == 404
    assert not ProgressUpdate.objects.exists()


# --- The API -------------------------------------------------------------------------------------------


def api_report(client, segment, **values):
    body = {"reported_on": str(today()), **values}
    return client.post(f"{SEGMENTS}{segment.public_id}/progress/", body, format="json")


def test_the_api_refuses_duct_and_poles_with_field_messages(as_role, vnpt, kim_ma):
    staff = as_role("anonymous")
    staff.force_authenticate(vnpt)
    for client in (staff, as_role("operator_api_client")):  # VNPT's staff and its API client
        response = api_report(client, kim_ma, duct_built_m=10, poles_removed=1, cable_pulled_m=5)
        assert response.status_code == 400, response.content
        body = response.json()
        assert {"duct_built_m", "poles_removed"} <= set(body), body
        assert "responsible operator (Viettel)" in body["duct_built_m"][0]
    assert not ProgressUpdate.objects.exists()
    response = api_report(staff, kim_ma, cable_pulled_m=5, overhead_removed_m=4)
    assert response.status_code == 201, response.content
    assert response.json()["operator"] == "VNPT"


def test_the_api_gives_an_operator_with_no_part_a_404(as_role, kim_ma):
    response = api_report(as_role("operator_mobifone"), kim_ma, cable_pulled_m=5)
    assert response.status_code == 404, response.content
    assert not ProgressUpdate.objects.exists()


def test_the_responsible_operator_posts_duct_through_the_api(as_role, kim_ma):
    response = api_report(as_role("operator_viettel"), kim_ma, duct_built_m=10, poles_removed=1)
    assert response.status_code == 201, response.content
    update = ProgressUpdate.objects.get()
    assert (update.operator.code, update.duct_built_m, update.poles_removed) == ("VIETTEL", 10, 1)


# --- Rows stored before the rule guarded every door ------------------------------------------------


def test_old_misreported_duct_is_corrected_not_deleted(
    official, viettel, vnpt, org, kim_ma, doi_can
):
    """Before issue 15 a VNPT user could post duct on Viettel's segment. ``correct_civil_works``
    lists such rows and, with --apply, supersedes each by a correction in VNPT's name that keeps
    its cable and overhead figures and drops the duct and poles; the original row stays, rightful
    rows (the responsible operator's, an official's) are left alone, and a second run finds none."""
    from io import StringIO

    from django.core.management import CommandError, call_command

    def stored(user, segment, **values):  # as the doors wrote it before the rule
        return ProgressUpdate.objects.create(
            segment=segment,
            operator=user.organization,
            reported_on=days_ago(30),
            created_by=user,
            **values,
        )

    bad = stored(vnpt, kim_ma, duct_built_m=300, poles_removed=2, cable_pulled_m=100)
    stored(viettel, kim_ma, duct_built_m=200)
    stored(official, doi_can, duct_built_m=50)  # officials report everything
    stored(vnpt, doi_can, duct_built_m=80)  # VNPT's own segment
    assert services.segment_totals([kim_ma.pk])[kim_ma.pk]["duct_built_m"] == 500

    out = StringIO()
    call_command("correct_civil_works", "--as", official.username, stdout=out)
    assert f"update {bad.pk} " in out.getvalue()
    assert "1 update(s) to correct" in out.getvalue()
    assert ProgressUpdate.objects.count() == 4  # a listing writes nothing

    with pytest.raises(CommandError):
        call_command("correct_civil_works", "--as", vnpt.username, "--apply", stdout=StringIO())
    call_command("correct_civil_works", "--as", official.username, "--apply", stdout=out)
    correction = ProgressUpdate.objects.get(corrects=bad)
    assert correction.operator == org("VNPT") and correction.created_by == official
    assert (correction.duct_built_m, correction.poles_removed) == (0, 0)
    assert correction.cable_pulled_m == 100
    assert "responsible operator (Viettel)" in correction.note
    totals = services.segment_totals([kim_ma.pk, doi_can.pk])
    assert totals[kim_ma.pk]["duct_built_m"] == 200
    assert totals[kim_ma.pk]["cable_pulled_m"] == 100
    assert totals[kim_ma.pk]["poles_removed"] == 0
    assert totals[doi_can.pk]["duct_built_m"] == 130
    assert ProgressUpdate.objects.filter(pk=bad.pk, duct_built_m=300).exists()
    assert services.misreported_civil_works() == []
