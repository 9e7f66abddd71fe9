"""The agreements demo (agreements/demo.py): the two 2020–2025 programmes and the 2026–2030 draft,
believable, consistent and loaded once.

Loaded once for the module (twice, to prove the second load adds nothing) inside a transaction that
is rolled back at the end, so the test database is left as it was.
"""

from datetime import date

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from agreements import demo, selectors, services
from agreements.models import (
    Agreement,
    AgreementParty,
    ContentArea,
    Decision,
    Meeting,
    ProgressUpdate,
    Task,
)
from core import demo as core_demo
from core.models import Notification

pytestmark = pytest.mark.django_db

MODELS = (Agreement, AgreementParty, ContentArea, Task, ProgressUpdate, Meeting, Decision)
T = Task.Status


def _counts():
    return {model.__name__: model.objects.count() for model in (*MODELS, Notification)}


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("demo-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=str(media)):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            core_demo.load()
            first = demo.load()
            after_first = _counts()
            second = demo.load()
            yield {"first": first, "second": second, "after_first": after_first}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def test_a_second_load_adds_nothing(loaded):
    first = loaded["first"]
    assert (first["agreements"], first["drafts"]) == (2, 1)
    assert first["areas"] == 5 + 3
    assert first["tasks"] >= 25 and first["updates"] >= 30 and first["meetings"] == 3
    assert set(loaded["second"].values()) == {0}
    assert _counts() == loaded["after_first"]


def test_both_programmes_with_their_parties_as_they_signed(loaded):
    cvt = Agreement.objects.get(code=demo.CVT)
    bdtw = Agreement.objects.get(code=demo.BDTW)
    for agreement, other in ((cvt, "CUC_VT"), (bdtw, "CUC_BDTW")):
        assert (agreement.period_start.year, agreement.period_end) == (2020, date(2025, 12, 31))
        assert agreement.signed_on <= agreement.period_start
        assert set(agreement.parties.values_list("organization__code", flat=True)) == {
            "SO_TTTT_HN",
            other,
        }
        past = agreement.period_end < timezone.localdate()
        assert agreement.status == ("expired" if past else "in_force")
    assert [a.title.split(",")[0] for a in cvt.areas.all()] == [
        "Xây dựng chính sách của Thành phố",
        "Triển khai chính sách",
        "Phối hợp thanh tra",
        "Giải quyết khó khăn",
        "Chia sẻ thông tin",
    ]
    assert [a.number for a in bdtw.areas.all()] == [1, 2, 3]
    assert "Bưu chính" in bdtw.areas.get(number=1).title
    assert "truyền số liệu chuyên dùng" in bdtw.areas.get(number=2).title


def test_tasks_in_every_state_with_dated_updates(loaded):
    cvt = Agreement.objects.get(code=demo.CVT)
    tasks = Task.objects.filter(area__agreement=cvt)
    statuses = set(tasks.values_list("status", flat=True))
    assert {T.DONE, T.DROPPED, T.OVERDUE} <= statuses
    for task in Task.objects.filter(area__agreement__code__in=[demo.CVT, demo.BDTW]):
        assert cvt.period_start <= task.due_date <= cvt.period_end, task
        assert task.responsible.code in {"SO_TTTT_HN", "CUC_VT", "CUC_BDTW"}
    meeting = tasks.get(recurrence="quarterly")
    assert meeting.title.startswith("Họp giao ban")
    assert meeting.due_date == date(2025, 12, 31)  # 31/03, 30/06, 30/09, 31/12: month-ends kept
    updates = ProgressUpdate.objects.all()
    assert not updates.filter(reported_on__gt=timezone.localdate()).exists()
    assert set(updates.values_list("author__username", flat=True)) <= {"minh", "ha"}
    assert set(updates.values_list("organization__code", flat=True)) == {
        "SO_TTTT_HN",
        "CUC_VT",
        "CUC_BDTW",
    }
    for task in tasks.filter(indicator=""):
        latest = task.updates.exclude(percent=None).order_by("-reported_on").first()
        assert task.percent == (latest.percent if latest else 0), task


def test_meetings_decided_tasks(loaded):
    decisions = Decision.objects.select_related("meeting", "task")
    assert decisions.filter(created_task=True).count() == 3
    assert decisions.filter(created_task=False, task__isnull=False).count() == 1
    for decision in decisions:
        assert decision.task.area.agreement_id == decision.meeting.agreement_id
    created = decisions.get(task__title__startswith="Xây dựng quy định về lắp đặt trạm BTS")
    assert created.task.area.number == 1 and created.task.percent == 70


def test_indicator_measured_tasks_compute(loaded):
    cvt = Agreement.objects.get(code=demo.CVT)
    measured = Task.objects.filter(area__agreement=cvt).exclude(indicator="")
    assert set(measured.values_list("indicator", flat=True)) == {
        "cables.km_overhead_removed",
        "sharing.shared_site_pct",
        "stations.permits_on_time_pct",
        "spam_reports.handled_within_sla_pct",
    }
    cables = measured.get(indicator="cables.km_overhead_removed")
    assert "300" in cables.title and cables.target_value == 300
    for task in measured:
        progress = services.task_progress(task)
        assert progress["source"] == "indicator", (task, progress)
        assert 0 <= progress["percent"] <= 100
    page = selectors.overview(cvt)
    assert [a.number for a in page["areas"]] == [1, 2, 3, 4, 5]
    assert all(0 <= a.percent <= 100 for a in page["areas"])
    assert page["overdue"] and all(t.status == T.OVERDUE for t in page["overdue"])
    first = page["areas"][0].task_list[0]
    assert first.status == T.OVERDUE  # overdue first


def test_the_draft_successor_carries_the_first_programme_on(loaded):
    cvt = Agreement.objects.get(code=demo.CVT)
    draft = Agreement.objects.get(code=demo.SUCCESSOR)
    assert (draft.status, draft.predecessor_id) == (Agreement.Status.DRAFT, cvt.pk)
    assert (draft.period_start, draft.period_end) == (date(2026, 1, 1), date(2030, 12, 31))
    assert set(draft.parties.values_list("organization__code", flat=True)) == {
        "SO_KHCN_HN",
        "CUC_VT",
    }
    assert list(draft.areas.values_list("number", "title")) == list(
        cvt.areas.values_list("number", "title")
    )
    carried = Task.objects.filter(area__agreement=draft)
    open_before = Task.objects.filter(area__agreement=cvt, status__in=Task.OPEN)
    assert set(carried.values_list("carried_from", flat=True)) == set(
        open_before.values_list("pk", flat=True)
    )
    assert not carried.filter(responsible__code="SO_TTTT_HN").exists()
    # Carried on where they stood: those with progress are in progress, the rest not started.
    for task in carried:
        expected = T.IN_PROGRESS if task.percent and not task.indicator else T.NOT_STARTED
        assert task.status == expected
    meeting = carried.get(recurrence="quarterly")
    assert meeting.due_date == date(2026, 3, 31)
    # The Cục Bưu điện Trung ương programme has no successor yet.
    assert not Agreement.objects.filter(predecessor__code=demo.BDTW).exists()
