"""The rules of agreements.services: agreements and parties, tasks and their targets, append-only
progress updates, statuses and recurrences, renewal, meetings, progress computed from indicators,
reminders and who may do what (real PostGIS, no mocks)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.gis.geos import LineString
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from agreements import services
from agreements.models import (
    Agreement,
    AgreementParty,
    ContentArea,
    Decision,
    Meeting,
    ProgressUpdate,
    Task,
)
from agreements.tests import factories as f
from core import indicators, roles
from core.exceptions import InvalidInput, InvalidTransition, PermissionDenied
from core.models import Notification

pytestmark = pytest.mark.django_db

START, END = f.PERIOD
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 64
T = Task.Status


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def official(role_user):
    """A city official of the Sở KH&CN, which carries on the Sở TT&TT that signed."""
    return role_user("city_official")


@pytest.fixture
def national(role_user):
    return role_user("national_official")


@pytest.fixture
def agreement(official):
    return f.agreement(official)


@pytest.fixture
def area(official, agreement):
    return f.area(official, agreement, 1, "Triển khai chính sách, pháp luật trên địa bàn")


@pytest.fixture
def task(official, area):
    return f.task(official, area, supporting=["CUC_VT"], due_date=date(2023, 6, 30))


@pytest.fixture
def fake_indicator(monkeypatch):
    """A registered indicator whose value the test sets: ``fake_indicator["value"] = 12``."""
    state = {"value": 0, "calls": 0}

    def compute(window):
        state["calls"] += 1
        if isinstance(state["value"], Exception):
            raise state["value"]
        return state["value"]

    monkeypatch.setitem(
        indicators.REGISTRY,
        "test.km",
        indicators.Indicator(key="test.km", label="km", unit="km", description="", compute=compute),
    )
    return state


def yesterday():
    return timezone.localdate() - timedelta(days=1)


# --- Agreements ----------------------------------------------------------------------------------


def _parties(*codes):
    return [{"organization": f.org(c)} for c in codes]


@pytest.mark.parametrize(
    ("parties", "fields", "field"),
    [
        (("SO_TTTT_HN",), {}, "parties"),
        (("SO_TTTT_HN", "SO_TTTT_HN"), {}, "parties"),
        (("SO_TTTT_HN", "CUC_VT", "CUC_VT"), {}, "parties"),
        (None, {}, "parties"),
        (("SO_TTTT_HN", "CUC_VT"), {"period_end": date(2020, 6, 30)}, "period_end"),
        (("SO_TTTT_HN", "CUC_VT"), {"signed_on": date(2026, 1, 5)}, "signed_on"),
        (("SO_TTTT_HN", "CUC_VT"), {"code": ""}, "code"),
        (("SO_TTTT_HN", "CUC_VT"), {"title": ""}, "title"),
        (("SO_TTTT_HN", "CUC_VT"), {"budget": 5}, "budget"),
    ],
    ids=[
        "one-party",
        "same-party-twice",
        "a-party-twice",
        "no-parties",
        "ends-before-it-starts",
        "signed-after-the-end",
        "no-code",
        "no-title",
        "unknown-field",
    ],
)
def test_bad_agreements_are_refused_and_nothing_stored(official, parties, fields, field):
    data = {
        "code": "CTPH-X",
        "title": "Chương trình phối hợp",
        "period_start": START,
        "period_end": END,
        **fields,
    }
    with pytest.raises(InvalidInput) as exc:
        services.save_agreement(official, parties=_parties(*parties) if parties else None, **data)
    assert field in exc.value.errors
    assert not Agreement.objects.exists()
    assert not AgreementParty.objects.exists()


def test_agreement_code_is_unique_and_parties_keep_the_organisation_as_it_was(official, agreement):
    with pytest.raises(InvalidInput) as exc:
        f.agreement(official, code=agreement.code)
    assert "code" in exc.value.errors
    party = agreement.parties.get(role="lead")
    assert party.organization.code == "SO_TTTT_HN"
    assert party.organization.successor.code == "SO_KHCN_HN"


def test_the_document_must_be_a_pdf(official):
    fake = SimpleUploadedFile("ky-ket.pdf", JPEG_BYTES, content_type="application/pdf")
    with pytest.raises(InvalidInput) as exc:
        f.agreement(official, in_force=False, document=fake)
    assert "document" in exc.value.errors
    assert not Agreement.objects.exists()
    real = SimpleUploadedFile("ky-ket.pdf", PDF_BYTES, content_type="application/pdf")
    agreement = f.agreement(official, in_force=False, document=real)
    assert agreement.document.name.endswith(".pdf")


def test_a_new_period_may_not_leave_tasks_outside(official, agreement, task):
    with pytest.raises(InvalidInput) as exc:
        services.save_agreement(official, agreement, period_end=date(2022, 12, 31))
    assert "period_end" in exc.value.errors
    agreement.refresh_from_db()
    assert agreement.period_end == END
    services.save_agreement(official, agreement, period_end=date(2024, 12, 31))


def test_a_party_responsible_for_tasks_cannot_be_removed(official, agreement, task):
    with pytest.raises(InvalidInput) as exc:
        services.save_agreement(
            official, agreement, parties=_parties("CUC_VT", "CUC_BDTW")
        )  # SO_TTTT_HN leads a task
    assert "parties" in exc.value.errors
    assert set(agreement.parties.values_list("organization__code", flat=True)) == {
        "SO_TTTT_HN",
        "CUC_VT",
    }
    services.save_agreement(
        official, agreement, parties=_parties("SO_TTTT_HN", "CUC_VT", "CUC_BDTW")
    )
    assert agreement.parties.count() == 3


@pytest.mark.parametrize("who", ["operator_viettel", "agency_api_client", "no_role", "anonymous"])
def test_only_officials_manage_agreements(role_user, who, agreement, area):
    user = role_user(who)
    with pytest.raises(PermissionDenied):
        f.agreement(user)
    with pytest.raises(PermissionDenied):
        services.save_area(user, agreement, number=9, title="x")
    with pytest.raises(PermissionDenied):
        f.task(user, area)
    with pytest.raises(PermissionDenied):
        services.bring_into_force(user, agreement)
    assert Agreement.objects.count() == 1


def test_national_officials_manage_agreements_too(national):
    agreement = f.agreement(national, ("CUC_VT", "SO_TTTT_HN"))
    assert agreement.status == Agreement.Status.IN_FORCE


def test_bring_into_force(official):
    draft = f.agreement(official, in_force=False, signed_on=None)
    assert draft.status == Agreement.Status.DRAFT
    with pytest.raises(InvalidInput) as exc:
        services.bring_into_force(official, draft, signed_on=date(2026, 1, 2))
    assert "signed_on" in exc.value.errors
    draft = services.bring_into_force(official, draft, signed_on=date(2020, 6, 26))
    assert (draft.status, draft.signed_on) == ("in_force", date(2020, 6, 26))
    with pytest.raises(InvalidTransition):
        services.bring_into_force(official, draft)


def test_content_areas_are_numbered_once(official, agreement, area):
    with pytest.raises(InvalidInput) as exc:
        services.save_area(official, agreement, number=1, title="Khác")
    assert "number" in exc.value.errors
    for number, title in ((0, "x"), (2, "  ")):
        with pytest.raises(InvalidInput):
            services.save_area(official, agreement, number=number, title=title)
    other = f.agreement(official)
    with pytest.raises(InvalidInput) as exc:
        services.save_area(official, other, area, number=3, title="Chuyển")
    assert "agreement" in exc.value.errors
    assert ContentArea.objects.count() == 1


# --- Tasks -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"due_date": date(2020, 6, 30)}, "due_date"),
        ({"due_date": date(2026, 1, 1)}, "due_date"),
        ({"indicator": "cables.km_overhead_removed", "target_value": 300,
          "target_date": date(2026, 6, 30)}, "target_date"),
        ({"responsible": "VIETTEL"}, "responsible"),
        ({"supporting": ["CUC_VT", "MOBIFONE"]}, "supporting"),
        ({"indicator": "cables.km_of_happiness", "target_value": 10}, "indicator"),
        ({"target_value": 300}, "indicator"),
        ({"indicator": "cables.km_overhead_removed"}, "target_value"),
        ({"indicator": "cables.km_overhead_removed", "target_value": "nhiều"}, "target_value"),
        ({"recurrence": "quarterly"}, "due_date"),
        ({"recurrence": "weekly", "due_date": date(2021, 3, 31)}, "recurrence"),
        ({"title": "  "}, "title"),
        ({"percent": 50}, "percent"),
    ],
    ids=[
        "due-before-the-period",
        "due-after-the-period",
        "target-after-the-period",
        "responsible-not-a-party",
        "supporting-not-a-party",
        "unknown-indicator",
        "target-without-indicator",
        "indicator-without-target",
        "target-not-a-number",
        "recurring-without-date",
        "unknown-recurrence",
        "no-title",
        "percent-is-not-typed-in",
    ],
)  # fmt: skip
def test_bad_tasks_are_refused_and_nothing_stored(official, area, fields, field):
    fields = dict(fields)
    responsible = fields.pop("responsible", "SO_TTTT_HN")
    supporting = fields.pop("supporting", ())
    with pytest.raises(InvalidInput) as exc:
        f.task(official, area, responsible, supporting, **fields)
    assert field in exc.value.errors
    assert not Task.objects.exists()


def test_a_task_on_an_indicator(official, area):
    task = f.task(
        official,
        area,
        indicator="cables.km_overhead_removed",
        baseline_value="12.5",
        target_value=300,
        target_date=END,
    )
    task.refresh_from_db()
    assert (task.baseline_value, task.target_value) == (Decimal("12.5"), Decimal("300"))
    # The indicator can be taken away only with its target.
    with pytest.raises(InvalidInput) as exc:
        services.save_task(official, task, indicator=None)
    assert "indicator" in exc.value.errors
    task = services.save_task(official, task, indicator=None, target_value=None)
    assert task.indicator == ""


# --- Progress updates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"percent": -1}, "percent"),
        ({"percent": 101}, "percent"),
        ({"reported_on": "tomorrow"}, "reported_on"),
        ({"reported_on": date(2020, 6, 30)}, "reported_on"),
        ({"reported_on": None}, "reported_on"),
        ({"narrative": "   "}, "narrative"),
        ({"organization": "VIETTEL"}, "organization"),
    ],
    ids=[
        "percent-below-0",
        "percent-above-100",
        "future-date",
        "before-the-period",
        "no-date",
        "no-narrative",
        "non-party",
    ],
)
def test_bad_updates_are_refused(official, task, fields, field):
    data = {"reported_on": yesterday(), "narrative": "Đã họp thống nhất phương án.", **fields}
    if data["reported_on"] == "tomorrow":
        data["reported_on"] = timezone.localdate() + timedelta(days=1)
    if "organization" in data:
        data["organization"] = f.org(data["organization"])
    with pytest.raises(InvalidInput) as exc:
        services.post_update(official, task, **data)
    assert field in exc.value.errors
    assert not ProgressUpdate.objects.exists()


def test_an_indicator_task_takes_no_typed_percent(official, area):
    task = f.task(official, area, indicator="cables.km_overhead_removed", target_value=300)
    with pytest.raises(InvalidInput) as exc:
        services.post_update(official, task, reported_on=yesterday(), narrative="x", percent=40)
    assert "percent" in exc.value.errors
    services.post_update(official, task, reported_on=yesterday(), narrative="Đã rà soát tuyến.")


def test_an_official_of_the_successor_posts_for_the_party_as_it_signed(official, national, task):
    update = services.post_update(
        official, task, reported_on=date(2021, 3, 1), narrative="Đã gửi dự thảo.", percent=20
    )
    assert update.organization.code == "SO_TTTT_HN"  # the Sở KH&CN carries on the Sở TT&TT
    assert update.author == official
    update = services.post_update(national, task, reported_on=date(2021, 4, 1), narrative="Góp ý.")
    assert update.organization.code == "CUC_VT"


def test_percent_comes_from_the_latest_update_in_force_and_corrections_append(official, task):
    assert (task.status, task.percent) == (T.NOT_STARTED, 0)

    def post(day, percent, corrects=None):
        return services.post_update(
            official,
            task,
            reported_on=day,
            narrative=f"Tiến độ {percent}",
            percent=percent,
            corrects=corrects,
        )

    first = post(date(2021, 3, 1), 30)
    task.refresh_from_db()
    assert (task.status, task.percent) == (T.IN_PROGRESS, 30)
    second = post(date(2021, 6, 1), 60)
    services.post_update(official, task, reported_on=date(2021, 7, 1), narrative="Họp")
    task.refresh_from_db()
    assert task.percent == 60  # an update without a percent leaves it
    fix = post(date(2021, 7, 5), 50, corrects=second)
    task.refresh_from_db()
    assert task.percent == 50
    second.refresh_from_db()
    assert second.percent == 60  # the corrected update is kept as it was
    with pytest.raises(InvalidInput) as exc:
        post(date(2021, 7, 6), 55, corrects=second)
    assert "corrects" in exc.value.errors
    # A correction without a percent withdraws the figure: the earlier one counts again.
    services.post_update(
        official, task, reported_on=date(2021, 7, 8), narrative="Nhầm số liệu", corrects=fix
    )
    task.refresh_from_db()
    assert task.percent == 30
    assert ProgressUpdate.objects.filter(task=task).count() == 5
    first.refresh_from_db()
    assert first.percent == 30 and not hasattr(first, "correction")


def test_a_correction_names_an_update_of_the_same_task(official, area, task):
    other = f.task(official, area)
    update = services.post_update(official, other, reported_on=yesterday(), narrative="x")
    with pytest.raises(InvalidInput) as exc:
        services.post_update(
            official, task, reported_on=yesterday(), narrative="y", corrects=update
        )
    assert "corrects" in exc.value.errors


def test_evidence_is_checked_by_content(official, task):
    bad = SimpleUploadedFile("bien-ban.pdf", JPEG_BYTES, content_type="application/pdf")
    with pytest.raises(InvalidInput) as exc:
        services.post_update(official, task, reported_on=yesterday(), narrative="x", evidence=[bad])
    assert "evidence" in exc.value.errors
    good = SimpleUploadedFile("bien-ban.pdf", PDF_BYTES, content_type="application/pdf")
    photo = SimpleUploadedFile("anh.jpg", JPEG_BYTES, content_type="image/jpeg")
    update = services.post_update(
        official, task, reported_on=yesterday(), narrative="x", evidence=[good, photo]
    )
    assert sorted(update.evidence.values_list("content_type", flat=True)) == [
        "application/pdf",
        "image/jpeg",
    ]


# --- Who may update and move tasks ------------------------------------------------------------------


@pytest.fixture
def with_operators(official):
    """A programme the operators signed too: Viettel leads a task MobiFone supports, VNPT is on none."""
    agreement = f.agreement(official, ("SO_TTTT_HN", "CUC_VT", "VIETTEL", "MOBIFONE", "VNPT"))
    area = f.area(official, agreement)
    return {
        "viettel": f.task(official, area, "VIETTEL", ["MOBIFONE"], due_date=date(2024, 6, 30)),
        "city": f.task(official, area, "SO_TTTT_HN", due_date=date(2024, 6, 30)),
    }


def test_party_staff_update_and_move_their_own_tasks(role_user, make_user, with_operators):
    task = with_operators["viettel"]
    viettel, mobifone = role_user("operator_viettel"), role_user("operator_mobifone")
    update = services.post_update(viettel, task, reported_on=yesterday(), narrative="Đã lắp.")
    assert update.organization.code == "VIETTEL"
    task = services.set_task_status(viettel, task, "done")
    assert task.status == T.DONE
    # A supporting party reports on the task but does not move it.
    update = services.post_update(mobifone, task, reported_on=yesterday(), narrative="Hỗ trợ.")
    assert update.organization.code == "MOBIFONE"
    with pytest.raises(PermissionDenied):
        services.set_task_status(mobifone, task, "in_progress")
    # Staff post for their own organisation only.
    with pytest.raises(InvalidInput) as exc:
        services.post_update(
            viettel, task, reported_on=yesterday(), narrative="x", organization=f.org("MOBIFONE")
        )
    assert "organization" in exc.value.errors
    # A party's staff on a task they are not on, and staff of a non-party, may do nothing.
    vnpt = make_user(roles.OPERATOR_STAFF, "VNPT")
    fpt = make_user(roles.OPERATOR_STAFF, "FPT")
    for user in (vnpt, fpt, mobifone):
        with pytest.raises(PermissionDenied):
            services.post_update(
                user, with_operators["city"], reported_on=yesterday(), narrative="x"
            )
        with pytest.raises(PermissionDenied):
            services.set_task_status(user, with_operators["city"], "in_progress")
    for user in (vnpt, fpt):
        with pytest.raises(PermissionDenied):
            services.post_update(user, task, reported_on=yesterday(), narrative="x")
    assert ProgressUpdate.objects.count() == 2


def test_operator_staff_of_a_non_party_may_do_nothing(role_user, agreement, task):
    viettel = role_user("operator_viettel")
    with pytest.raises(PermissionDenied):
        services.post_update(viettel, task, reported_on=yesterday(), narrative="x")
    with pytest.raises(PermissionDenied):
        services.set_task_status(viettel, task, "in_progress")
    with pytest.raises(PermissionDenied):
        services.record_meeting(
            viettel, agreement, held_on=yesterday(), title="Họp", present=[f.org("CUC_VT")]
        )
    with pytest.raises(PermissionDenied):
        services.renew(
            viettel,
            agreement,
            code="X",
            title="X",
            period_start=date(2026, 1, 1),
            period_end=date(2030, 12, 31),
        )
    assert not ProgressUpdate.objects.exists() and not Meeting.objects.exists()


# --- Statuses and recurrences ----------------------------------------------------------------------

EARLY = date(2021, 1, 4)  # before the tasks' due dates


# The statuses a task may move to from each status (agreements.workflows.AGREEMENT_TASK).
TASK_MOVES = {
    "not_started": {"in_progress", "done", "dropped"},
    "in_progress": {"done", "dropped", "not_started"},
    "overdue": {"in_progress", "done", "dropped"},
    "done": {"in_progress"},
    "dropped": {"not_started"},
}


@pytest.mark.parametrize("start", T.values)
@pytest.mark.parametrize("to", T.values)
def test_status_moves_follow_the_table(official, task, start, to):
    Task.objects.filter(pk=task.pk).update(status=start)
    allowed = to in TASK_MOVES[start]
    if not allowed:
        with pytest.raises(InvalidTransition):
            services.set_task_status(official, task, to, today=EARLY)
        assert Task.objects.get(pk=task.pk).status == start
        return
    moved = services.set_task_status(official, task, to, today=EARLY)
    assert moved.status == to
    assert T.OVERDUE not in TASK_MOVES[start]  # only the reminders make a task overdue


def test_a_task_past_its_due_date_is_overdue_when_it_resumes(official, task):
    moved = services.set_task_status(official, task, "in_progress", today=date(2023, 7, 1))
    assert moved.status == T.OVERDUE
    moved = services.set_task_status(official, moved, "done", today=date(2023, 7, 1))
    assert moved.status == T.DONE


@pytest.mark.parametrize(
    ("day", "recurrence", "following"),
    [
        (date(2021, 3, 31), "quarterly", date(2021, 6, 30)),
        (date(2021, 6, 30), "quarterly", date(2021, 9, 30)),
        (date(2021, 9, 30), "quarterly", date(2021, 12, 31)),  # month-end stays month-end
        (date(2021, 11, 15), "quarterly", date(2022, 2, 15)),
        (date(2021, 1, 31), "monthly", date(2021, 2, 28)),
        (date(2024, 1, 31), "monthly", date(2024, 2, 29)),
        (date(2021, 2, 28), "monthly", date(2021, 3, 31)),
        (date(2021, 1, 30), "monthly", date(2021, 2, 28)),
        (date(2021, 12, 10), "monthly", date(2022, 1, 10)),
        (date(2021, 8, 31), "half_yearly", date(2022, 2, 28)),
        (date(2024, 2, 29), "yearly", date(2025, 2, 28)),
        (date(2023, 2, 28), "yearly", date(2024, 2, 29)),
    ],
)
def test_next_occurrence(day, recurrence, following):
    assert services.next_occurrence(day, recurrence) == following


def test_a_recurring_task_moves_to_its_next_occurrence_until_the_period_ends(official, area):
    meeting = f.task(
        official,
        area,
        supporting=["CUC_VT"],
        title="Họp giao ban định kỳ hàng quý",
        recurrence="quarterly",
        due_date=date(2025, 3, 31),
    )
    Task.objects.filter(pk=meeting.pk).update(reminded_on=date(2025, 3, 25))
    dues = []
    for _ in range(3):
        meeting = services.set_task_status(official, meeting, "done", today=date(2025, 1, 1))
        assert meeting.status == T.IN_PROGRESS and meeting.reminded_on is None
        dues.append(meeting.due_date)
    assert dues == [date(2025, 6, 30), date(2025, 9, 30), date(2025, 12, 31)]
    # The occurrence after 31/12/2025 falls outside the period: the task is done.
    meeting = services.set_task_status(official, meeting, "done", today=date(2025, 1, 1))
    assert (meeting.status, meeting.due_date) == (T.DONE, date(2025, 12, 31))


def test_an_overdue_recurring_task_done_moves_on(official, area):
    meeting = f.task(official, area, recurrence="yearly", due_date=date(2021, 12, 15))
    Task.objects.filter(pk=meeting.pk).update(status=T.OVERDUE)
    meeting = services.set_task_status(official, meeting, "done", today=date(2022, 1, 10))
    assert (meeting.status, meeting.due_date) == (T.IN_PROGRESS, date(2022, 12, 15))


# --- Renewal ------------------------------------------------------------------------------------------


def test_renewal_carries_areas_and_open_tasks_to_the_successors(official, agreement):
    policy = f.area(official, agreement, 1, "Xây dựng chính sách")
    training = f.area(official, agreement, 5, "Chia sẻ thông tin, đào tạo")
    done = f.task(official, policy, supporting=["CUC_VT"], title="Góp ý quy hoạch")
    services.set_task_status(official, done, "done")
    dropped = f.task(official, policy, title="Thí điểm cột dùng chung")
    services.set_task_status(official, dropped, "dropped")
    open_ = f.task(
        official, policy, supporting=["CUC_VT"], title="Quy định BTS", due_date=date(2025, 9, 30)
    )
    services.post_update(
        official, open_, reported_on=date(2025, 8, 1), narrative="Dự thảo", percent=70
    )
    Task.objects.filter(pk=open_.pk).update(status=T.OVERDUE)
    measured = f.task(
        official,
        training,
        "CUC_VT",
        indicator="cables.km_overhead_removed",
        target_value=300,
        target_date=END,
    )
    meeting = f.task(
        official,
        training,
        supporting=["CUC_VT"],
        title="Họp giao ban quý",
        recurrence="quarterly",
        due_date=date(2025, 12, 31),
    )

    draft = services.renew(
        official,
        agreement,
        code="CTPH-2026",
        title="Chương trình phối hợp 2026–2030",
        period_start=date(2026, 1, 1),
        period_end=date(2030, 12, 31),
    )
    assert (draft.status, draft.predecessor) == (Agreement.Status.DRAFT, agreement)
    assert set(draft.parties.values_list("organization__code", "role")) == {
        ("SO_KHCN_HN", "lead"),
        ("CUC_VT", "party"),
    }
    assert list(draft.areas.values_list("number", "title")) == [
        (1, "Xây dựng chính sách"),
        (5, "Chia sẻ thông tin, đào tạo"),
    ]
    carried = {t.carried_from_id: t for t in Task.objects.filter(area__agreement=draft)}
    assert set(carried) == {open_.pk, measured.pk, meeting.pk}
    copy = carried[open_.pk]
    assert (copy.status, copy.percent, copy.due_date) == (T.IN_PROGRESS, 70, None)
    assert copy.responsible.code == "SO_KHCN_HN"
    assert [o.code for o in copy.supporting.all()] == ["CUC_VT"]
    copy = carried[measured.pk]
    assert (copy.indicator, copy.target_value, copy.target_date) == (
        "cables.km_overhead_removed",
        Decimal("300"),
        None,
    )
    assert carried[meeting.pk].due_date == date(2026, 3, 31)  # its first occurrence in 2026
    # The old programme is untouched until its successor comes into force.
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.IN_FORCE
    assert Task.objects.filter(area__agreement=agreement).count() == 5
    with pytest.raises(InvalidTransition):
        services.renew(
            official,
            agreement,
            code="CTPH-2026-B",
            title="Lần hai",
            period_start=date(2026, 1, 1),
            period_end=date(2030, 12, 31),
        )
    services.bring_into_force(official, draft, signed_on=date(2026, 3, 2))
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.RENEWED


def test_a_successor_must_start_after_its_predecessor(official, agreement):
    with pytest.raises(InvalidInput) as exc:
        services.renew(
            official,
            agreement,
            code="CTPH-2019",
            title="x",
            period_start=date(2019, 1, 1),
            period_end=date(2023, 12, 31),
        )
    assert "period_start" in exc.value.errors
    assert Agreement.objects.count() == 1


# --- Meetings ---------------------------------------------------------------------------------------


def test_meeting_decisions_create_and_change_tasks(official, agreement, area, task):
    present = [f.org("SO_TTTT_HN"), f.org("CUC_VT")]
    changes = {"due_date": date(2023, 12, 31), "status": "in_progress"}
    meeting = services.record_meeting(
        official,
        agreement,
        held_on=date(2023, 7, 10),
        title="Hội nghị sơ kết",
        present=present,
        minutes="Hai bên thống nhất các nội dung sau.",
        decisions=[
            {"text": "Lùi thời hạn hoàn thành đến 31/12/2023.", "task": task, "changes": changes},
            {
                "text": "Giao Cục Viễn thông hướng dẫn triển khai Luật Viễn thông.",
                "new_task": {
                    "area": area,
                    "title": "Hướng dẫn triển khai Luật Viễn thông 2023",
                    "responsible": f.org("CUC_VT"),
                    "supporting": [f.org("SO_TTTT_HN")],
                    "due_date": date(2024, 6, 30),
                },
            },
        ],
    )
    assert changes == {"due_date": date(2023, 12, 31), "status": "in_progress"}  # left as given
    assert set(meeting.present.values_list("code", flat=True)) == {"SO_TTTT_HN", "CUC_VT"}
    changed, created = Decision.objects.filter(meeting=meeting).order_by("id")
    assert (changed.task_id, changed.created_task) == (task.pk, False)
    task.refresh_from_db()
    assert task.due_date == date(2023, 12, 31)
    assert task.status in (T.IN_PROGRESS, T.OVERDUE)  # overdue once 31/12/2023 has passed
    assert created.created_task
    assert created.task.title == "Hướng dẫn triển khai Luật Viễn thông 2023"
    assert [o.code for o in created.task.supporting.all()] == ["SO_TTTT_HN"]


@pytest.mark.parametrize(
    "case",
    ["future", "non-party-present", "nobody-present", "no-title", "empty-decision",
     "task-of-another-agreement", "new-task-in-another-agreement", "bad-new-task"],
)  # fmt: skip
def test_bad_meetings_store_nothing(official, agreement, area, task, case):
    other = f.agreement(official, ("SO_TTTT_HN", "CUC_BDTW"))
    other_area = f.area(official, other)
    data = {
        "held_on": date(2023, 7, 10),
        "title": "Họp giao ban",
        "present": [f.org("SO_TTTT_HN"), f.org("CUC_VT")],
        "decisions": [{"text": "Đẩy nhanh tiến độ", "task": task, "changes": {}}],
    }
    new = {"title": "Việc mới", "responsible": f.org("SO_TTTT_HN")}
    field = {
        "future": ("held_on", {"held_on": timezone.localdate() + timedelta(days=1)}),
        "non-party-present": ("present", {"present": [f.org("CUC_VT"), f.org("VIETTEL")]}),
        "nobody-present": ("present", {"present": []}),
        "no-title": ("title", {"title": " "}),
        "empty-decision": ("decisions.1", {"decisions": [{"text": " ", "task": task}]}),
        "task-of-another-agreement": (
            "decisions.1",
            {"decisions": [{"text": "x", "task": f.task(official, other_area)}]},
        ),
        "new-task-in-another-agreement": (
            "decisions.1",
            {"decisions": [{"text": "x", "new_task": {**new, "area": other_area}}]},
        ),
        "bad-new-task": (
            "due_date",
            {"decisions": [{"text": "x", "new_task": {**new, "area": area,
                                                      "due_date": date(2027, 1, 1)}}]},
        ),
    }[case]  # fmt: skip
    before = Task.objects.count()
    with pytest.raises(InvalidInput) as exc:
        services.record_meeting(official, agreement, **{**data, **field[1]})
    assert field[0] in exc.value.errors
    assert not Meeting.objects.exists() and not Decision.objects.exists()
    assert Task.objects.count() == before


# --- Progress of a task ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "percent"),
    [(10, 0), (0, 0), (55, 50), (100, 100), (130, 100), (37.5, 31), (None, 0)],
)
def test_progress_from_an_indicator_between_baseline_and_target(
    official, area, fake_indicator, value, percent
):
    task = f.task(official, area, indicator="test.km", baseline_value=10, target_value=100)
    fake_indicator["value"] = value
    progress = services.task_progress(task)
    assert progress["percent"] == percent
    assert progress["source"] == "indicator"
    assert progress["target"] == Decimal("100")


def test_progress_of_a_target_already_at_its_baseline(official, area, fake_indicator):
    task = f.task(official, area, indicator="test.km", baseline_value=50, target_value=50)
    fake_indicator["value"] = 49
    assert services.task_progress(task)["percent"] == 0
    fake_indicator["value"] = 50
    assert services.task_progress(task)["percent"] == 100


def test_a_failing_indicator_gives_no_percent_not_an_error(official, area, fake_indicator):
    task = f.task(official, area, indicator="test.km", target_value=100)
    fake_indicator["value"] = RuntimeError("relation does not exist")
    progress = services.task_progress(task)
    assert progress["percent"] is None and progress["source"] == "error"
    assert "relation does not exist" in progress["error"]
    # An indicator no app declares any more fails the same way.
    Task.objects.filter(pk=task.pk).update(indicator="gone.km")
    task.refresh_from_db()
    assert services.task_progress(task)["percent"] is None


def test_an_indicator_is_computed_once_per_page(official, area, fake_indicator):
    tasks = [f.task(official, area, indicator="test.km", target_value=t) for t in (10, 20, 40)]
    fake_indicator["value"] = 10
    cache = {}
    assert [services.task_progress(t, cache=cache)["percent"] for t in tasks] == [100, 50, 25]
    assert fake_indicator["calls"] == 1


def test_a_task_without_indicator_shows_its_updates_percent(official, task):
    services.post_update(official, task, reported_on=yesterday(), narrative="x", percent=45)
    task.refresh_from_db()
    assert services.task_progress(task) == {
        "percent": 45,
        "value": None,
        "target": None,
        "source": "updates",
    }


def test_progress_computed_from_the_cables_data(official, role_user, area, needs_shared_data):
    """Journey 6: "undergrounding the streets" progresses with the overhead cable taken down."""
    from cables import services as cables

    task = f.task(
        official,
        area,
        title="Hạ ngầm, chỉnh trang cáp viễn thông trên các tuyến phố",
        indicator="cables.km_overhead_removed",
        baseline_value=0,
        target_value=2,
        target_date=END,
    )
    assert services.task_progress(task)["percent"] == 0
    project = cables.save_project(
        official,
        participants=[f.org("VIETTEL"), f.org("VNPT")],
        code="T-KM-AGR",
        name="Hạ ngầm cáp phố Kim Mã (thử)",
        lead_agency=f.org("SO_KHCN_HN"),
        year=2024,
        status="in_construction",
    )
    segment = cables.save_segment(
        official,
        project,
        name="Kim Mã - đoạn 1",
        route=LineString((105.8120, 21.0316), (105.8230, 21.0318), srid=4326),
        method="existing_duct",
        operator=f.org("VIETTEL"),
    )
    day = date(2024, 5, 10)
    cables.record_progress(
        role_user("operator_viettel"),
        segment,
        reported_on=day,
        cable_pulled_m=500,
        overhead_removed_m=500,
    )
    assert services.task_progress(task)["percent"] == 25
    assert services.task_progress(task, as_of=day - timedelta(days=1))["percent"] == 0
    assert services.task_progress(task)["value"] == pytest.approx(0.5, abs=0.01)


# --- Reminders ---------------------------------------------------------------------------------------


def _notes(user):
    return list(Notification.objects.filter(recipient=user).values_list("title", flat=True))


def test_reminders_overdue_expiry_and_renewal_prompts_once(official, national, area):
    agreement = area.agreement
    soon = f.task(official, area, supporting=["CUC_VT"], title="Báo cáo quý",
                  due_date=date(2021, 3, 10))  # fmt: skip
    late = f.task(official, area, "CUC_VT", title="Kiểm tra liên ngành", due_date=date(2021, 3, 1))
    services.set_task_status(national, late, "in_progress", today=date(2021, 2, 1))
    far = f.task(official, area, title="Tổng kết", due_date=date(2021, 6, 30))
    finished = f.task(official, area, title="Góp ý", due_date=date(2021, 3, 2))
    services.set_task_status(official, finished, "done")
    ending = f.agreement(official, period=(date(2020, 7, 1), date(2021, 5, 31)))
    renewed = f.agreement(official, period=(date(2020, 7, 1), date(2021, 5, 31)))
    services.renew(
        official,
        renewed,
        code="CTPH-NEXT",
        title="Kế tiếp",
        period_start=date(2021, 6, 1),
        period_end=date(2023, 12, 31),
    )
    draft = f.agreement(official, in_force=False, period=(date(2021, 1, 1), date(2021, 12, 31)))
    unsigned = f.task(official, f.area(official, draft), due_date=date(2021, 3, 1))

    day = date(2021, 3, 5)
    run = services.send_reminders(today=day)
    assert (run.reminded, run.overdue, run.expired, run.renewal_prompts) == (1, 1, 0, 1)
    for t, status in ((soon, T.NOT_STARTED), (late, T.OVERDUE), (far, T.NOT_STARTED),
                      (finished, T.DONE), (unsigned, T.NOT_STARTED)):  # fmt: skip
        t.refresh_from_db()
        assert t.status == status, t
    soon.refresh_from_db()
    assert soon.reminded_on == day
    # The Sở TT&TT's task reaches the Sở KH&CN that carries it on; the overdue one, its party
    # (the Cục Viễn thông) and the city's officials.
    mine = _notes(official)
    assert sum("Báo cáo quý" in n and "10/03/2021" in n for n in mine) == 1
    assert sum("Kiểm tra liên ngành" in n and "overdue" in n for n in mine) == 1
    assert sum("prepare its successor" in n for n in mine) == 1
    assert [n for n in _notes(national) if "Kiểm tra liên ngành" in n]
    assert not [n for n in _notes(national) if "Báo cáo quý" in n]
    ending.refresh_from_db()
    assert ending.renewal_notified_on == day
    total = Notification.objects.count()

    again = services.send_reminders(today=day)
    assert (again.reminded, again.overdue, again.expired, again.renewal_prompts) == (0, 0, 0, 0)
    assert Notification.objects.count() == total

    run = services.send_reminders(today=date(2021, 3, 11))
    assert (run.reminded, run.overdue, run.renewal_prompts) == (0, 1, 0)  # "soon" is now late
    run = services.send_reminders(today=date(2021, 6, 1))
    assert run.expired == 2  # the one ending and the one whose successor is still a draft
    ending.refresh_from_db()
    agreement.refresh_from_db()
    assert ending.status == Agreement.Status.EXPIRED
    assert agreement.status == Agreement.Status.IN_FORCE
    assert services.send_reminders(today=date(2021, 6, 1)).expired == 0


def test_a_recurring_task_done_is_reminded_again_for_its_next_occurrence(official, area):
    meeting = f.task(official, area, recurrence="quarterly", due_date=date(2021, 3, 31))
    assert services.send_reminders(today=date(2021, 3, 26)).reminded == 1
    assert services.send_reminders(today=date(2021, 3, 27)).reminded == 0
    services.set_task_status(official, meeting, "done", today=date(2021, 3, 30))
    assert services.send_reminders(today=date(2021, 6, 25)).reminded == 1
