"""Values within sense, one place per field (issue 14): every number field of a project model has a
range held as validators and as a matching CHECK constraint (core.fields); totals cannot overflow;
JSON booleans are not numbers. Real PostGIS, no mocks."""

import unicodedata
from decimal import Decimal

import pytest
from django import forms as django_forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import IntegrityError, connection, models, transaction
from django.urls import reverse
from rest_framework import serializers as drf_serializers

from cables import services as cable_services
from cables.models import CableProject, CableSegment, ProgressUpdate
from cables.tests.test_api import (  # noqa: F401  (fixtures)
    KIM_MA,
    PROJECTS,
    SEGMENTS,
    make_project,
    make_segment,
    official,
    report,
    segment,
    segment_body,
)
from core.fields import RangeMixin, range_constraint_name
from core.text import validate_identifier

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"core", "stations", "sharing", "cables", "spam_reports", "agreements", "reports"}
NUMBER_FIELDS = (models.IntegerField, models.DecimalField, models.FloatField)
# Columns no person or client writes: sequence numbers and ids kept by triggers and the feed, and
# rollups that triggers keep by adding signed deltas (a negative delta row is part of the upsert).
# The sync app's columns are written by triggers and tasks from their own state,
# never from what a person or a client sends: feed sequence numbers and cursors, counters of work
# done, the HTTP status of an answer. The outbox's attempts are counted by its drain (core.outbox),
# which must not be refused by a bound while the broker is down.
EXEMPT = {
    ("sync", "change", "seq"),
    ("sync", "change", "txid"),
    ("sync", "change", "object_id"),
    ("sync", "change", "version"),
    ("sync", "change", "org_id"),
    ("sync", "changefeedstate", "pruned_through"),
    ("sync", "idempotencyrecord", "status_code"),
    ("sync", "webhook", "after_seq"),
    ("sync", "webhookdelivery", "first_seq"),
    ("sync", "webhookdelivery", "last_seq"),
    ("sync", "webhookdelivery", "event_count"),
    ("sync", "webhookdelivery", "attempts"),
    ("sync", "webhookdelivery", "response_status"),
    ("sync", "registerdownload", "rows"),
    ("sync", "registerdownload", "size"),
    ("sync", "registerdownload", "cursor_seq"),
    ("sync", "syncsource", "applied"),
    ("sync", "syncsource", "skipped"),
    ("sync", "syncsource", "failed"),
    ("core", "outboxmessage", "attempts"),
    ("spam_reports", "dailystat", "received"),
    ("spam_reports", "dailystat", "verified"),
    ("spam_reports", "dailystat", "invalid"),
    ("spam_reports", "casemonth", "reports"),
}


def project_number_fields():
    for model in apps.get_models():
        meta = model._meta
        if meta.app_label not in PROJECT_APPS or not meta.managed or meta.proxy:
            continue
        if model.__module__.startswith("pghistory") or model.__name__.endswith("Event"):
            continue  # history rows copy what the record held
        for field in meta.concrete_fields:
            if isinstance(field, models.AutoField | models.GeneratedField):
                continue
            if field.is_relation or not isinstance(field, NUMBER_FIELDS):
                continue
            if (meta.app_label, meta.model_name, field.name) in EXEMPT:
                continue
            yield model, field


def db_checks(table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'c'",
            [table],
        )
        return dict(cursor.fetchall())


def range_problems(model, field):
    """What is missing for ``field`` of ``model``: a core.fields range, its two validators, the
    CHECK constraint in the database saying the same two bounds."""
    label = f"{model._meta.label}.{field.name}"
    if not isinstance(field, RangeMixin):
        return [f"{label}: not a core.fields ranged field"]
    problems = []
    kinds = {
        type(v): v.limit_value
        for v in field.validators
        if type(v) in (MinValueValidator, MaxValueValidator)
    }
    if kinds.get(MinValueValidator) != field.min_value:
        problems.append(f"{label}: no MinValueValidator({field.min_value})")
    if kinds.get(MaxValueValidator) != field.max_value:
        problems.append(f"{label}: no MaxValueValidator({field.max_value})")
    definition = db_checks(model._meta.db_table).get(range_constraint_name(model, field))
    if definition is None:
        return [*problems, f"{label}: no CHECK constraint in the database (migration missing?)"]
    for bound in (field.min_value, field.max_value):
        if str(bound) not in definition and f"{float(bound)}" not in definition:
            problems.append(f"{label}: CHECK {definition} does not say {bound}")
    return problems


def test_every_number_field_has_a_range_in_validators_and_in_the_database():
    missing = [p for model, field in project_number_fields() for p in range_problems(model, field)]
    assert not missing, "\n".join(missing)


def test_the_completeness_test_can_fail():
    """A plain field (what a new field would be) is reported, and the scan finds the ranged ones."""
    found = {(m._meta.label, f.name) for m, f in project_number_fields()}
    assert ("cables.ProgressUpdate", "poles_removed") in found
    assert ("spam_reports.DailyStat", "received") not in found  # exempt
    stat = apps.get_model("spam_reports", "DailyStat")
    assert range_problems(stat, stat._meta.get_field("received")) == [
        "spam_reports.DailyStat.received: not a core.fields ranged field"
    ]
    update = apps.get_model("cables", "ProgressUpdate")
    assert range_problems(update, update._meta.get_field("poles_removed")) == []


@pytest.fixture
def an_update(official, segment):  # noqa: F811
    return cable_services.record_progress(
        official, segment, reported_on=segment.created_at.date(), duct_built_m=10
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("poles_removed", 2_147_483_647),
        ("poles_removed", 10_001),
        ("poles_removed", -1),
        ("duct_built_m", 1e308),
        ("duct_built_m", -0.5),
    ],
)
def test_the_database_refuses_a_value_written_past_the_validators(an_update, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgressUpdate.objects.filter(pk=an_update.pk).update(**{field: value})


def test_the_database_refuses_a_unit_area_past_its_range():
    from core.models import AdministrativeUnit

    unit = AdministrativeUnit.objects.first()
    assert unit is not None, "the test database has Hanoi's units"
    with pytest.raises(IntegrityError), transaction.atomic():
        AdministrativeUnit.objects.filter(pk=unit.pk).update(area_km2=Decimal("500000"))


@pytest.mark.parametrize("poles", [10_001, 2_147_483_647, 2_147_483_648, -1])
def test_absurd_poles_are_400_and_the_project_list_still_answers(
    as_role,
    segment,  # noqa: F811
    poles,
):
    client = as_role("operator_viettel")
    before = ProgressUpdate.objects.count()
    response = report(client, segment, poles_removed=poles)
    assert response.status_code == 400, response.content
    assert "poles_removed" in response.json(), response.json()
    assert ProgressUpdate.objects.count() == before
    assert client.get(PROJECTS).status_code == 200


@pytest.mark.parametrize("poles", [10_001, 2_147_483_647, 2_147_483_648])
def test_poles_are_refused_through_the_form(client, role_user, segment, poles):  # noqa: F811
    client.force_login(role_user("operator_viettel"))
    before = ProgressUpdate.objects.count()
    response = client.post(
        reverse("cables:progress-create", args=[segment.project_id]),
        {
            "progress-segment": segment.pk,
            "progress-reported_on": str(segment.created_at.date()),
            "progress-duct_built_m": "0",
            "progress-cable_pulled_m": "0",
            "progress-overhead_removed_m": "0",
            "progress-poles_removed": str(poles),
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert response.context["progress_form"].errors.get("poles_removed")
    assert ProgressUpdate.objects.count() == before


def test_totals_of_big_counts_do_not_overflow(as_role, official, segment, make_segment):  # noqa: F811
    """Valid counts add up past the int range in no time once written past the validators (as a raw
    path or an older row could): the totals are bigint, so the list, page and API still answer. The
    CHECK is dropped (inside the test's transaction) to write such rows at all."""
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE cables_progressupdate "
            "DROP CONSTRAINT cables_progressupdate_poles_removed_range"
        )
    first = cable_services.record_progress(
        official, segment, reported_on=segment.created_at.date(), poles_removed=10_000
    )
    other = make_segment(segment.project, name="Phố Nguyễn Thái Học")
    second = cable_services.record_progress(
        official, other, reported_on=segment.created_at.date(), poles_removed=10_000
    )
    ProgressUpdate.objects.filter(pk__in=[first.pk, second.pk]).update(poles_removed=2_147_483_647)
    client = as_role("city_official")
    response = client.get(PROJECTS)
    assert response.status_code == 200, response.content
    client.force_login(client.user)
    assert client.get(reverse("cables:project-list")).status_code == 200
    page = client.get(reverse("cables:project-detail", args=[segment.project_id]))
    assert page.status_code == 200


@pytest.mark.parametrize("field", ["duct_built_m", "cable_pulled_m", "poles_removed"])
@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_is_not_a_number(as_role, segment, field, value):  # noqa: F811
    before = ProgressUpdate.objects.count()
    response = report(as_role("operator_viettel"), segment, **{field: value})
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert ProgressUpdate.objects.count() == before


# --- Dates within 1900–2100, text in NFC, at every form and serializer (core.boundary) ------------


class PlainSerializer(drf_serializers.Serializer):
    day = drf_serializers.DateField()
    at = drf_serializers.DateTimeField(required=False)
    old = drf_serializers.DateField(required=False)
    name = drf_serializers.CharField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old"].year_range = (1000, 2100)  # a field that says otherwise


class PlainForm(django_forms.Form):
    day = django_forms.DateField()
    at = django_forms.DateTimeField(required=False)
    name = django_forms.CharField(required=False)


@pytest.mark.parametrize("day", ["9999-12-31", "1899-12-31", "2101-01-01"])
def test_a_plain_serializer_refuses_implausible_dates(day):
    serializer = PlainSerializer(data={"day": day})
    assert not serializer.is_valid()
    assert serializer.errors["day"][0].code == "date_range"
    assert "1900" in str(serializer.errors["day"]) and "2100" in str(serializer.errors["day"])
    serializer = PlainSerializer(data={"day": "2026-01-01", "at": f"{day}T10:00:00Z"})
    assert not serializer.is_valid()
    assert "at" in serializer.errors


def test_a_field_may_say_its_own_years():
    serializer = PlainSerializer(data={"day": "2026-01-01", "old": "1426-05-01"})
    assert serializer.is_valid(), serializer.errors
    assert not PlainSerializer(data={"day": "2026-01-01", "old": "0999-01-01"}).is_valid()


@pytest.mark.parametrize("day", ["9999-12-31", "1899-12-31"])
def test_a_plain_form_refuses_implausible_dates(day):
    form = PlainForm(data={"day": day, "at": f"{day} 10:00"})
    assert not form.is_valid()
    assert "1900" in str(form.errors["day"]) and "2100" in str(form.errors["day"])
    assert form.errors.get("at")
    assert PlainForm(data={"day": "2026-12-31"}).is_valid()


def test_text_is_nfc_through_plain_forms_and_serializers():
    nfd = unicodedata.normalize("NFD", "Cầu Giấy")
    nfc = unicodedata.normalize("NFC", "Cầu Giấy")
    assert nfd != nfc
    serializer = PlainSerializer(data={"day": "2026-01-01", "name": nfd})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["name"] == nfc
    form = PlainForm(data={"day": "2026-01-01", "name": nfd})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == nfc


def test_year_9999_on_a_progress_update_is_a_field_error(as_role, segment):  # noqa: F811
    response = report(as_role("operator_viettel"), segment, reported_on="9999-12-31")
    assert response.status_code == 400, response.content
    assert "between 1900 and 2100" in str(response.json()["reported_on"])
    assert not ProgressUpdate.objects.exists()


def test_decomposed_text_is_stored_composed_on_a_cable_project(as_role):
    nfd = unicodedata.normalize("NFD", "Ngầm hoá phố Cầu Giấy")
    body = {
        "code": "NH-CG",
        "name": nfd,
        "lead_agency": "VNPT",
        "participants": ["VIETTEL"],
        "year": 2025,
        "status": "approved",
    }
    response = as_role("city_official").post(PROJECTS, body, format="json")
    assert response.status_code == 201, response.content
    assert CableProject.objects.get(code="NH-CG").name == unicodedata.normalize("NFC", nfd)


# --- Codes and identifiers -------------------------------------------------------------------------

IDENTIFIER_NAMES = {
    "code",
    "station_code",
    "source",
    "external_id",
    "reference",
    "permit_reference",
    "terms_reference",
    "decision_number",
}


def test_every_code_and_identifier_refuses_control_and_bidi_characters():
    missing = []
    for model in apps.get_models():
        meta = model._meta
        if meta.app_label not in PROJECT_APPS or model.__name__.endswith("Event"):
            continue
        for field in meta.concrete_fields:
            if not isinstance(field, models.CharField) or field.name not in IDENTIFIER_NAMES:
                continue
            if field.choices or any(type(v) is RegexValidator for v in field.validators):
                continue  # a choice or a pattern refuses them already
            if validate_identifier not in field.validators:
                missing.append(f"{meta.label}.{field.name}")
    assert not missing, missing


@pytest.mark.parametrize("value", ["KM\u202e01", "KM\u2066x\u2069", "KM\x1b01", "KM\u200f"])
def test_a_hidden_character_in_a_project_code_is_a_field_error(as_role, value):
    body = {"code": value, "name": "Dự án", "lead_agency": "VNPT", "year": 2025}
    response = as_role("city_official").post(PROJECTS, body, format="json")
    assert response.status_code == 400, response.content
    assert "code" in response.json()
    assert not CableProject.objects.exists()


def test_validate_identifier_names_what_it_found():
    with pytest.raises(ValidationError) as caught:
        validate_identifier("SITE\u202e01")
    assert "U+202E" in caught.value.messages[0]
    validate_identifier("Trạm-01_A.b")  # Vietnamese letters and punctuation are fine


# --- Geometry: a third coordinate is refused -----------------------------------------------------


@pytest.mark.parametrize("z", [1e308, 12.5, 0])
def test_a_z_coordinate_on_a_segment_route_is_a_field_error(as_role, make_project, z):  # noqa: F811
    make_project("NH-KM")
    coords = [[*KIM_MA[0], z], [*KIM_MA[1], z]]
    response = as_role("city_official").post(SEGMENTS, segment_body(coords=coords), format="json")
    assert response.status_code == 400, response.content
    assert "route" in response.json()
    assert not CableSegment.objects.exists()


def test_a_z_coordinate_in_only_one_position_is_a_field_error(as_role, make_project):  # noqa: F811
    make_project("NH-KM")
    coords = [KIM_MA[0], [*KIM_MA[1], 1e308]]
    response = as_role("city_official").post(SEGMENTS, segment_body(coords=coords), format="json")
    assert response.status_code == 400, response.content
    assert "route" in response.json()
