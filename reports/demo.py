"""Demo data of the reports app: the two periodic reports the city sends, and their latest runs.

- "Báo cáo tháng về hạ tầng viễn thông" to the Sở KH&CN Hà Nội (SO_KHCN_HN): monthly, data cut-off
  on the 15th, due 5 days later.
- "Báo cáo quý gửi Cục Viễn thông" to the Cục Viễn thông (CUC_VT): quarterly, data to the end of the
  quarter, due 10 days later.

Both have sections over the indicators the other apps register (stations, sharing, undergrounding,
spam, coordination programmes), broken down by operator where every indicator of the section offers
it (the programme's tasks by agreement). Day-of measures (the "overdue" counts) are left out: a report
gives the figures as of its cut-off, which those cannot.

Each report gets its run for the latest closed period, requested by minh (city official) and computed
here, in this process, through reports.services.compute (not queued on the worker): the quarterly
report approved and submitted to the Cục (its API client, cucvt-sync, can download it), the monthly
one ready for review. Loaded after the other apps (INSTALLED_APPS order), so the figures are theirs.

Idempotent: a report whose code exists is left as it is, and a report that has runs gets no new one.
"""

from django.db import transaction
from django.utils import timezone

from core import indicators
from core.models import Organization, User
from reports import periods, services
from reports.models import ReportDefinition, ReportRun

DEMO_USERNAMES = ["admin", "minh"]

# Sections: (title, indicator keys, breakdown wanted). Keys no app registers are left out.
SECTIONS = [
    ("Trạm thu phát sóng", ["stations.count", "stations.sites_5g", "stations.new"], "operator"),
    (
        "Cấp phép xây dựng trạm",
        [
            "stations.permits_received",
            "stations.permits_decided",
            "stations.permits_on_time_pct",
            "stations.permits_deemed_approved",
            "stations.permits_median_days",
        ],
        "operator",
    ),
    (
        "Sử dụng chung hạ tầng",
        [
            "sharing.shared_site_pct",
            "sharing.requests_received",
            "sharing.requests_accepted",
            "sharing.requests_refused",
            "sharing.requests_disputed",
            "sharing.requests_turned_overdue",
        ],
        "operator",
    ),
    (
        "Hạ ngầm cáp viễn thông",
        [
            "cables.km_planned",
            "cables.km_duct_built",
            "cables.km_cable_pulled",
            "cables.km_overhead_removed",
        ],
        "operator",
    ),
    (
        "Tin nhắn rác, cuộc gọi rác",
        [
            "spam_reports.reports_received",
            "spam_reports.reports_verified",
            "spam_reports.cases_confirmed",
            "spam_reports.numbers_blocked",
            "spam_reports.handled_within_sla_pct",
        ],
        "operator",
    ),
    ("Chương trình phối hợp", ["agreements.tasks_done"], "agreement"),
]

DEFINITIONS = [
    {
        "code": "SO-KHCN-THANG",
        "name": "Báo cáo tháng về hạ tầng viễn thông",
        "recipient": "SO_KHCN_HN",
        "period_type": "month",
        "cutoff_day": 15,
        "deadline_days": 5,
        "heading": "Báo cáo tình hình hạ tầng viễn thông thụ động trên địa bàn thành phố Hà Nội",
        "intro": (
            "Số liệu tổng hợp từ Cổng thông tin hạ tầng viễn thông Hà Nội, tính đến ngày chốt số "
            "liệu (ngày 15 hằng tháng), so sánh với kỳ trước và cùng kỳ năm trước."
        ),
        "status": ReportRun.Status.READY,
    },
    {
        "code": "CUC-VT-QUY",
        "name": "Báo cáo quý gửi Cục Viễn thông",
        "recipient": "CUC_VT",
        "period_type": "quarter",
        "cutoff_day": 0,
        "deadline_days": 10,
        "heading": "Báo cáo quý về quản lý hạ tầng viễn thông trên địa bàn thành phố Hà Nội",
        "intro": (
            "Kính gửi Cục Viễn thông. Sở Khoa học và Công nghệ Hà Nội báo cáo tình hình phát triển, "
            "sử dụng chung và hạ ngầm hạ tầng viễn thông, xử lý tin nhắn rác và thực hiện chương "
            "trình phối hợp trong quý."
        ),
        "status": ReportRun.Status.SUBMITTED,
    },
]


def sections():
    """The sections over the indicators registered now; a breakdown only where each offers it."""
    result = []
    for title, keys, by in SECTIONS:
        keys = [k for k in keys if indicators.exists(k)]
        if not keys:
            continue
        offered = all(by in indicators.get(k).dimensions for k in keys)
        result.append({"title": title, "indicators": keys, "by": by if offered else ""})
    return result


def load_definitions(admin):
    made = []
    for spec in DEFINITIONS:
        if ReportDefinition.objects.filter(code=spec["code"]).exists():
            continue
        data = {k: v for k, v in spec.items() if k != "status"}
        data["recipient"] = Organization.objects.get(code=spec["recipient"])
        made.append(services.save_definition(admin, sections=sections(), **data))
    return made


def load_runs(official, today=None):
    """The latest closed period's run of each demo report that has none, computed here."""
    today = today or timezone.localdate()
    count = 0
    for spec in DEFINITIONS:
        definition = ReportDefinition.objects.filter(code=spec["code"]).first()
        if definition is None or definition.runs.exists():
            continue
        with transaction.atomic():  # all of a run, or nothing (a later load makes it again)
            _run(official, definition, spec["status"], today)
        count += 1
    return count


def _run(official, definition, status, today):
    per = periods.latest_closed(definition.period_type, today, definition.cutoff_day)
    run = services.request_run(official, definition, per.key, today=today, enqueue=False)
    run = services.compute(run.pk, today=today)
    if run.status != ReportRun.Status.READY:
        return run  # failed: it shows why, and can be retried from its page
    if status in (ReportRun.Status.APPROVED, ReportRun.Status.SUBMITTED):
        run = services.approve(official, run)
    if status == ReportRun.Status.SUBMITTED:
        run = services.submit(official, run)
    return run


def load(stdout=None):
    """Load the two demo reports and their latest runs (each once)."""
    from core import demo as core_demo

    started = timezone.now()
    if User.objects.filter(username__in=DEMO_USERNAMES).count() != len(DEMO_USERNAMES):
        core_demo.load()
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES)}
    with transaction.atomic():
        definitions = load_definitions(users["admin"])
    runs = load_runs(users["minh"])
    if stdout:
        seconds = (timezone.now() - started).total_seconds()
        stdout.write(
            f"reports: {len(definitions)} report definitions and {runs} computed runs created "
            f"({seconds:.1f} s)."
        )
    return {"definitions": len(definitions), "runs": runs}
