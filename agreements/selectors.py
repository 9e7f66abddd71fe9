"""Read-side queries of the agreements app: scoped lists and an agreement's overview (progress per
content area, overdue tasks first, the timeline of updates)."""

from django.db.models import Case, IntegerField, Prefetch, Value, When

from agreements.models import Agreement, AgreementParty, ContentArea, ProgressUpdate, Task
from agreements.services import task_progress
from core.scoping import scope_queryset

# Overdue first, then open tasks by due date, then done and dropped.
STATUS_ORDER = Case(
    When(status="overdue", then=Value(0)),
    When(status="in_progress", then=Value(1)),
    When(status="not_started", then=Value(2)),
    When(status="done", then=Value(3)),
    default=Value(4),
    output_field=IntegerField(),
)


def agreements(user):
    parties = AgreementParty.objects.select_related("organization", "organization__successor")
    qs = Agreement.objects.prefetch_related(Prefetch("parties", queryset=parties)).select_related(
        "predecessor"
    )
    return scope_queryset(qs, user).distinct()


def tasks(user):
    qs = Task.objects.select_related("area__agreement", "responsible").prefetch_related(
        "supporting"
    )
    return scope_queryset(qs, user).distinct()


def updates(user):
    qs = ProgressUpdate.objects.select_related("task", "organization", "author").prefetch_related(
        "evidence"
    )
    return scope_queryset(qs, user).distinct()


def areas(user):
    return scope_queryset(ContentArea.objects.select_related("agreement"), user).distinct()


def overview(agreement, as_of=None):
    """Everything the agreement's page shows: areas with their tasks and progress, overdue first."""
    task_qs = (
        Task.objects.select_related("responsible", "responsible__successor")
        .prefetch_related("supporting")
        .annotate(status_rank=STATUS_ORDER)
        .order_by("status_rank", "due_date", "id")
    )
    area_list = list(
        agreement.areas.prefetch_related(Prefetch("tasks", queryset=task_qs)).order_by("number")
    )
    cache = {}
    all_tasks = []
    for area in area_list:
        area.task_list = list(area.tasks.all())
        for task in area.task_list:
            task.progress = task_progress(task, as_of, cache)
            all_tasks.append(task)
        counted = [t for t in area.task_list if t.status != Task.Status.DROPPED]
        known = [t.progress["percent"] for t in counted if t.progress["percent"] is not None]
        area.percent = round(sum(known) / len(known)) if known else 0
        area.overdue = sum(1 for t in area.task_list if t.status == Task.Status.OVERDUE)
    board = {s: [t for t in all_tasks if t.status == s] for s in Task.Status.values}
    timeline = (
        ProgressUpdate.objects.filter(task__area__agreement=agreement)
        .select_related("task", "organization", "author", "corrects")
        .order_by("-reported_on", "-id")[:50]
    )
    return {
        "areas": area_list,
        "overdue": [t for t in all_tasks if t.status == Task.Status.OVERDUE],
        "board": board,
        "timeline": list(timeline),
        "meetings": list(agreement.meetings.prefetch_related("present", "decisions__task")[:20]),
    }
