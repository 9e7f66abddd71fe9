"""agreements.selectors: an agreement's overview (overdue first, progress per content area, the
timeline, a bounded number of queries) and the scoped lists."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agreements import selectors, services
from agreements.models import Task
from agreements.tests import factories as f
from core import indicators, roles

pytestmark = pytest.mark.django_db
T = Task.Status


@pytest.fixture
def official(role_user):
    return role_user("city_official")


@pytest.fixture
def broken_indicator(monkeypatch):
    def compute(window):
        raise RuntimeError("the data is not there")

    monkeypatch.setitem(
        indicators.REGISTRY,
        "test.broken",
        indicators.Indicator(
            key="test.broken", label="x", unit="count", description="", compute=compute
        ),
    )


def _status(task, status):
    Task.objects.filter(pk=task.pk).update(status=status)


def _update(user, task, day, percent=None):
    return services.post_update(
        user, task, reported_on=day, narrative=f"Cập nhật {day:%d/%m/%Y}", percent=percent
    )


def test_overview_puts_overdue_first_and_averages_each_area(official, broken_indicator):
    agreement = f.agreement(official)
    policy = f.area(official, agreement, 2, "Triển khai chính sách")
    empty = f.area(official, agreement, 1, "Xây dựng chính sách")
    later = f.task(official, policy, title="Chưa bắt đầu", due_date=date(2025, 6, 30))
    sooner = f.task(official, policy, title="Chưa bắt đầu, sớm hơn", due_date=date(2024, 6, 30))
    done = f.task(official, policy, title="Đã xong", due_date=date(2021, 6, 30))
    services.set_task_status(official, done, "done")
    dropped = f.task(official, policy, title="Dừng", due_date=date(2021, 3, 31))
    _update(official, dropped, date(2021, 3, 1), 10)
    services.set_task_status(official, dropped, "dropped")
    going = f.task(official, policy, title="Đang làm", due_date=date(2025, 9, 30))
    _update(official, going, date(2025, 3, 1), 40)
    _update(official, going, date(2025, 6, 1), 80)
    late = f.task(official, policy, title="Quá hạn", due_date=date(2025, 9, 30))
    _update(official, late, date(2025, 5, 1), 20)
    _status(late, T.OVERDUE)
    _status(going, T.IN_PROGRESS)
    broken = f.task(official, policy, title="Đo bằng chỉ số lỗi", indicator="test.broken",
                    target_value=10)  # fmt: skip

    page = selectors.overview(agreement)

    assert [a.number for a in page["areas"]] == [1, 2]
    assert page["areas"][0] == empty and page["areas"][0].percent == 0
    area = page["areas"][1]
    assert [t.title for t in area.task_list] == [
        "Quá hạn",
        "Đang làm",
        "Chưa bắt đầu, sớm hơn",
        "Chưa bắt đầu",
        "Đo bằng chỉ số lỗi",
        "Đã xong",
        "Dừng",
    ]
    progress = {t.title: t.progress["percent"] for t in area.task_list}
    assert progress == {
        "Quá hạn": 20,
        "Đang làm": 80,
        "Chưa bắt đầu, sớm hơn": 0,
        "Chưa bắt đầu": 0,
        "Đo bằng chỉ số lỗi": None,
        "Đã xong": 100,
        "Dừng": 10,
    }
    # Dropped tasks and tasks whose indicator failed do not count: (20 + 80 + 0 + 0 + 100) / 5.
    assert area.percent == 40
    assert area.overdue == 1
    assert [t.pk for t in page["overdue"]] == [late.pk]
    assert set(page["board"]) == set(T.values)
    assert [t.pk for t in page["board"][T.NOT_STARTED]] == [sooner.pk, later.pk, broken.pk]
    assert [t.pk for t in page["board"][T.DONE]] == [done.pk]
    days = [u.reported_on for u in page["timeline"]]
    assert days == sorted(days, reverse=True) and len(days) == 4


def _programme(official, areas, tasks_per_area, tag):
    agreement = f.agreement(official, ("SO_TTTT_HN", "CUC_VT", "CUC_BDTW"))
    for number in range(1, areas + 1):
        area = f.area(official, agreement, number)
        for i in range(tasks_per_area):
            measured = i % 2 == 0
            task = f.task(
                official,
                area,
                "CUC_VT" if i % 3 else "SO_TTTT_HN",
                ["SO_TTTT_HN", "CUC_BDTW"] if i % 3 else ["CUC_VT"],
                title=f"{tag} {number}.{i}",
                due_date=date(2024, 1, 1) + timedelta(days=30 * i),
                **(
                    {"indicator": "cables.km_overhead_removed", "target_value": 300}
                    if measured
                    else {}
                ),
            )
            if not measured:
                _update(official, task, date(2023, 1, 1) + timedelta(days=i), 10 * i)
    services.record_meeting(
        official,
        agreement,
        held_on=date(2023, 3, 31),
        title=f"Giao ban {tag}",
        present=[f.org("SO_TTTT_HN"), f.org("CUC_VT")],
        decisions=[{"text": "Đẩy nhanh tiến độ", "task": task}],
    )
    return agreement


def _queries(agreement):
    with CaptureQueriesContext(connection) as ctx:
        page = selectors.overview(agreement)
        for area in page["areas"]:
            for task in area.task_list:
                str(task.responsible.successor)
                list(task.supporting.all())
        for update in page["timeline"]:
            str(update.organization), str(update.task), str(update.corrects)
        for meeting in page["meetings"]:
            list(meeting.present.all())
            [str(d.task) for d in meeting.decisions.all()]
    return len(ctx.captured_queries)


def test_the_overview_costs_the_same_queries_for_a_small_and_a_large_programme(official):
    small = _queries(_programme(official, areas=1, tasks_per_area=2, tag="nhỏ"))
    large = _queries(_programme(official, areas=5, tasks_per_area=6, tag="lớn"))
    assert small == large
    assert large <= 15, large


def test_scoped_lists(official, role_user, make_user):
    plain = f.agreement(official)
    shared = f.agreement(official, ("SO_TTTT_HN", "CUC_VT", "VIETTEL"))
    for agreement in (plain, shared):
        task = f.task(official, f.area(official, agreement))
        _update(official, task, timezone.localdate() - timedelta(days=1))

    def seen(user):
        return {
            "agreements": set(selectors.agreements(user).values_list("code", flat=True)),
            "areas": selectors.areas(user).count(),
            "tasks": selectors.tasks(user).count(),
            "updates": selectors.updates(user).count(),
        }

    everything = {"agreements": {plain.code, shared.code}, "areas": 2, "tasks": 2, "updates": 2}
    assert seen(official) == everything
    assert seen(role_user("national_official")) == everything
    assert seen(role_user("operator_viettel")) == {
        "agreements": {shared.code},
        "areas": 1,
        "tasks": 1,
        "updates": 1,
    }
    nothing = {"agreements": set(), "areas": 0, "tasks": 0, "updates": 0}
    assert seen(role_user("operator_mobifone")) == nothing
    assert seen(make_user(None, "VIETTEL")) == nothing
    assert seen(None) == nothing
    assert seen(make_user(roles.API_CLIENT, "VIETTEL")) == seen(role_user("operator_viettel"))
