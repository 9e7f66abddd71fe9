"""Who may write progress on a segment and who may correct an update (issue 14, cross-operator
writes): the rule lives in cables.services and holds for the service, the HTML form and the API.

- Civil works on a segment (duct built, poles removed): its responsible operator (while it takes
  part), a city official, the lead agency when it is a state agency or on a segment without a
  responsible operator. Since issue 15 another participating operator may post on the segment the
  cable it pulled in and the overhead cable it removed (cables/tests/test_segment_reporting.py);
  its duct or poles are refused with a field error (it was a 403 before).
- A correction supersedes an update (its metres stop counting): only the organisation that reported
  that update, or a city official.
"""

import pytest
from django.contrib.gis.geos import LineString
from django.utils import timezone, translation

from cables import services
from cables.models import ProgressUpdate
from core.exceptions import InvalidInput

pytestmark = pytest.mark.django_db

KIM_MA = LineString((105.8150, 21.0320), (105.8200, 21.0318), (105.8250, 21.0314), srid=4326)
DOI_CAN = LineString((105.8170, 21.0355), (105.8230, 21.0352), srid=4326)
SEGMENTS = "/api/v1/cable-segments/"


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


def make_project(official, org, lead="SO_KHCN_HN", code="OWN-1"):
    return services.save_project(
        official,
        participants=[org("VIETTEL"), org("VNPT")],
        code=code,
        name="Hạ ngầm cáp phố Kim Mã (quyền)",
        lead_agency=org(lead),
        year=2026,
        status="in_construction",
    )


def make_segment(official, project, operator, route=KIM_MA, name="Kim Mã"):
    return services.save_segment(
        official, project, name=name, route=route, method="existing_duct", operator=operator
    )


@pytest.fixture
def project(official, org):
    return make_project(official, org)


@pytest.fixture
def viettel_segment(official, project, org):
    return make_segment(official, project, org("VIETTEL"))


@pytest.fixture
def vnpt_segment(official, project, org):
    return make_segment(official, project, org("VNPT"), route=DOI_CAN, name="Đội Cấn")


def today():
    return timezone.localdate()


def legacy_update(segment, organisation, user, metres=300):
    """An update written by another organisation before the rule (the service refuses it now)."""
    return ProgressUpdate.objects.create(
        segment=segment,
        operator=organisation,
        reported_on=today(),
        duct_built_m=metres,
        created_by=user,
    )


def duct_total(segment):
    return services.segment_totals([segment.pk]).get(segment.pk, {}).get("duct_built_m") or 0


# --- The service ---------------------------------------------------------------------------------


def test_only_the_responsible_operator_reports_on_a_segment(
    official, viettel, vnpt, viettel_segment, vnpt_segment
):
    with pytest.raises(InvalidInput) as exc:
        services.record_progress(vnpt, viettel_segment, reported_on=today(), duct_built_m=10)
    assert set(exc.value.errors) == {"duct_built_m"}
    with pytest.raises(InvalidInput) as exc:
        services.record_progress(viettel, vnpt_segment, reported_on=today(), duct_built_m=10)
    assert set(exc.value.errors) == {"duct_built_m"}
    assert not ProgressUpdate.objects.exists()
    services.record_progress(viettel, viettel_segment, reported_on=today(), duct_built_m=10)
    services.record_progress(vnpt, vnpt_segment, reported_on=today(), duct_built_m=10)
    services.record_progress(official, vnpt_segment, reported_on=today(), duct_built_m=10)
    assert ProgressUpdate.objects.count() == 3
    project = viettel_segment.project
    # Both operators take part: each reports on every segment, the civil works on its own only.
    assert set(services.reportable_segments(vnpt, project)) == {vnpt_segment, viettel_segment}
    assert list(services.civil_works_segments(vnpt, project)) == [vnpt_segment]
    assert list(services.civil_works_segments(viettel, project)) == [viettel_segment]
    assert services.civil_works_segments(official, project).count() == 2


def test_an_operator_leading_a_project_does_not_report_on_a_rivals_segment(
    official, org, viettel, vnpt
):
    led = make_project(official, org, lead="VIETTEL", code="OWN-VT")
    theirs = make_segment(official, led, org("VNPT"))
    unassigned = make_segment(official, led, None, route=DOI_CAN, name="Đội Cấn")
    with pytest.raises(InvalidInput) as exc:
        services.record_progress(viettel, theirs, reported_on=today(), duct_built_m=10)
    assert set(exc.value.errors) == {"duct_built_m"}
    services.record_progress(viettel, unassigned, reported_on=today(), duct_built_m=10)
    services.record_progress(vnpt, theirs, reported_on=today(), duct_built_m=10)
    assert list(services.civil_works_segments(viettel, led)) == [unassigned]
    # VNPT takes part without leading: no civil works on the unassigned segment either.
    with pytest.raises(InvalidInput):
        services.record_progress(vnpt, unassigned, reported_on=today(), poles_removed=1)
    assert ProgressUpdate.objects.count() == 2


def test_a_correction_of_another_organisations_update_is_refused(
    official, org, viettel, vnpt, viettel_segment
):
    rival = legacy_update(viettel_segment, org("VNPT"), vnpt, metres=300)
    by_official = services.record_progress(
        official, viettel_segment, reported_on=today(), duct_built_m=200
    )
    for corrected in (rival, by_official):
        with pytest.raises(InvalidInput) as exc:
            services.record_progress(
                viettel, viettel_segment, reported_on=today(), duct_built_m=0, corrects=corrected
            )
        assert "corrects" in exc.value.errors
    assert duct_total(viettel_segment) == 500
    own = services.record_progress(viettel, viettel_segment, reported_on=today(), duct_built_m=50)
    services.record_progress(
        viettel, viettel_segment, reported_on=today(), duct_built_m=40, corrects=own
    )
    # An official may correct anyone's update.
    services.record_progress(
        official, viettel_segment, reported_on=today(), duct_built_m=250, corrects=rival
    )
    assert duct_total(viettel_segment) == 200 + 40 + 250
    offered = set(services.correctable_updates(viettel, viettel_segment.project))
    assert offered == set(ProgressUpdate.objects.filter(operator=org("VIETTEL"), corrected_by=None))


# --- The HTML form ---------------------------------------------------------------------------------


def form_post(segment, **extra):
    data = {
        "progress-segment": segment.pk,
        "progress-reported_on": today().isoformat(),
        "progress-duct_built_m": "100",
        "progress-cable_pulled_m": "0",
        "progress-overhead_removed_m": "0",
        "progress-poles_removed": "0",
    }
    data.update({f"progress-{k}": v for k, v in extra.items()})
    return data


def test_the_form_offers_only_own_segments_and_own_updates(
    client, official, org, vnpt, viettel_segment, vnpt_segment
):
    legacy_update(viettel_segment, org("VIETTEL"), official, metres=100)
    own = services.record_progress(vnpt, vnpt_segment, reported_on=today(), duct_built_m=10)
    client.force_login(vnpt)
    response = client.get(f"/cables/projects/{viettel_segment.project_id}/")
    form = response.context["progress_form"]
    # VNPT takes part: it reports cable and overhead on Viettel's segment too (issue 15).
    assert set(form.fields["segment"].queryset) == {vnpt_segment, viettel_segment}
    assert list(form.fields["corrects"].queryset) == [own]


def test_the_form_refuses_a_rivals_segment(client, vnpt, viettel_segment, vnpt_segment):
    client.force_login(vnpt)
    response = client.post(
        f"/cables/projects/{viettel_segment.project_id}/progress/", form_post(viettel_segment)
    )
    assert response.status_code == 400
    assert response.context["progress_form"].errors.get("duct_built_m")
    assert not ProgressUpdate.objects.exists()


def test_the_form_refuses_correcting_a_rivals_update(client, org, viettel, vnpt, viettel_segment):
    rival = legacy_update(viettel_segment, org("VNPT"), vnpt, metres=300)
    client.force_login(viettel)
    response = client.post(
        f"/cables/projects/{viettel_segment.project_id}/progress/",
        form_post(viettel_segment, duct_built_m="0", corrects=rival.pk),
    )
    assert response.status_code == 400
    assert response.context["progress_form"].errors.get("corrects")
    assert ProgressUpdate.objects.count() == 1 and duct_total(viettel_segment) == 300


# --- The API ---------------------------------------------------------------------------------------


def report(client, segment, **data):
    body = {"reported_on": str(today()), **data}
    return client.post(f"{SEGMENTS}{segment.public_id}/progress/", body, format="json")


def test_the_api_refuses_progress_on_a_rivals_segment(as_role, vnpt, viettel_segment):
    staff = as_role("anonymous")
    staff.force_authenticate(vnpt)
    for client in (as_role("operator_api_client"), staff):  # VNPT's API client and VNPT's staff
        response = report(client, viettel_segment, duct_built_m=10)
        assert response.status_code == 400, response.content
        assert "responsible operator" in response.json()["duct_built_m"][0]
    assert not ProgressUpdate.objects.exists()


def test_the_api_refuses_correcting_a_rivals_update(as_role, official, org, vnpt, viettel_segment):
    rival = legacy_update(viettel_segment, org("VNPT"), vnpt, metres=300)
    by_official = services.record_progress(
        official, viettel_segment, reported_on=today(), duct_built_m=200
    )
    client = as_role("operator_viettel")
    for corrected in (rival, by_official):
        response = report(client, viettel_segment, duct_built_m=0, corrects=corrected.pk)
        assert response.status_code == 400, response.content
        assert "corrects" in response.json(), response.json()
    assert ProgressUpdate.objects.count() == 2 and duct_total(viettel_segment) == 500
    response = as_role("city_official").post(
        f"{SEGMENTS}{viettel_segment.public_id}/progress/",
        {"reported_on": str(today()), "duct_built_m": 100, "corrects": rival.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert duct_total(viettel_segment) == 300
