"""Test data for reports, made through the services (so the checks, history and notifications run
as in production). Plain functions: each test states what it needs in one line."""

import itertools
from datetime import timedelta

from django.contrib.gis.geos import LineString
from django.utils import timezone

from cables import services as cables_services
from cables.models import CableProject
from core.models import Organization
from reports import periods, services
from reports.models import ReportRun

_serial = itertools.count(1)

# Kim Mã street, Ba Đình (about 1.14 km).
KIM_MA = [(105.8120, 21.0316), (105.8230, 21.0318)]

SECTIONS = [
    {
        "title": "Hạ ngầm cáp viễn thông",
        "indicators": ["cables.km_duct_built", "cables.km_cable_pulled"],
        "by": "operator",
    },
    {"title": "Tin nhắn rác", "indicators": ["spam_reports.reports_received"], "by": ""},
]


def org(code):
    return Organization.objects.get(code=code)


def today():
    return timezone.localdate()


def definition(admin, *, sections=SECTIONS, recipient="SO_KHCN_HN", **fields):
    """A report definition saved through the service (monthly, data to the end of the month)."""
    n = next(_serial)
    data = {
        "code": f"BC-{n:03d}",
        "name": f"Báo cáo thử nghiệm số {n}",
        "recipient": org(recipient),
        "period_type": "month",
        "cutoff_day": 0,
        "deadline_days": 5,
        "sections": sections,
        **fields,
    }
    return services.save_definition(admin, **data)


def latest(report, day=None):
    """The latest closed period of ``report`` (a Period)."""
    return periods.latest_closed(report.period_type, day or today(), report.cutoff_day)


def requested(official, report, key=None):
    """The run of ``report`` for ``key`` (its latest closed period by default), not computed: the
    worker is not asked (enqueue=False)."""
    key = key or latest(report).key
    return services.request_run(official, report, key, enqueue=False)


def computed(official, report, key=None):
    """The run of ``report`` for ``key`` computed here, in the test's process."""
    return services.compute(requested(official, report, key).pk)


def submitted(official, report, key=None):
    run = computed(official, report, key)
    assert run.status == ReportRun.Status.READY, run.error
    return services.submit(official, services.approve(official, run))


def project(official, code=None, participants=("VIETTEL", "VNPT")):
    """An undergrounding project led by the Sở with one segment on Kim Mã (Viettel's)."""
    made = cables_services.save_project(
        official,
        participants=[org(c) for c in participants],
        code=code or f"HNC-T-{next(_serial):03d}",
        name="Hạ ngầm cáp phố Kim Mã (thử)",
        lead_agency=org("SO_KHCN_HN"),
        year=today().year,
        status=CableProject.Status.IN_CONSTRUCTION,
    )
    segment = cables_services.save_segment(
        official,
        made,
        name="Kim Mã - đoạn 1",
        route=LineString(KIM_MA, srid=4326),
        method="new_duct_bank",
        operator=org(participants[0]),
        bores=6,
    )
    return made, segment


def progress(official, segment, day, duct_m=0.0, cable_m=0.0):
    return cables_services.record_progress(
        official, segment, reported_on=day, duct_built_m=duct_m, cable_pulled_m=cable_m
    )


def day_before(day, n=1):
    return day - timedelta(days=n)
