"""Periodic reports at national scale (issue 8): a full quarterly report for the Cục Viễn thông.

Data in the bench database (each part loaded once and reused; see the other suites for how):
- 200,000 stations (bench.stations), 50,000 cable segments with 200,000 progress updates
  (bench.cables), 10,000,000 spam reports and 500,000 cases (bench.spam);
- 250,000 permit applications with 1,000,000 timeline events, loaded here (INSERT … SELECT over
  generate_series, history triggers off as the other suites do).

Measured:
- computing the report (every section's indicators for the quarter, the previous quarter and the
  same quarter last year, breakdowns by operator): seconds, target < 30 s;
- the same SQL the indicators issued, captured and run again raw by the database: the ratio shows
  what the application layer costs (it should be close to 1: every measure is one SQL aggregation);
- memory: tracemalloc peak of the computation for a quarter and for a whole year (four times the
  rows): flat in the data size, since no row reaches Python;
- the XLSX and PDF of the snapshot.
"""

import time
import tracemalloc
from datetime import date

from bench.database import (
    BENCH_DB,
    child_main,
    in_bench_database,
    prepare_base,
    run_in_bench_database,
    table_marker,
)
from bench.harness import bench_official

N_APPLICATIONS = 250_000
MARKER = f"bench.reports v1 {N_APPLICATIONS}"

SECTIONS = [
    {
        "title": "Trạm BTS",
        "indicators": ["stations.count", "stations.sites_5g", "stations.new"],
        "by": "operator",
    },
    {
        "title": "Cấp phép xây dựng trạm",
        "indicators": [
            "stations.permits_received",
            "stations.permits_decided",
            "stations.permits_on_time_pct",
            "stations.permits_deemed_approved",
            "stations.permits_median_days",
        ],
        "by": "operator",
    },
    {
        "title": "Dùng chung hạ tầng",
        "indicators": [
            "sharing.shared_site_pct",
            "sharing.requests_received",
            "sharing.requests_accepted",
            "sharing.requests_refused",
            "sharing.requests_disputed",
        ],
        "by": "operator",
    },
    {
        "title": "Ngầm hóa cáp",
        "indicators": [
            "cables.km_planned",
            "cables.km_duct_built",
            "cables.km_cable_pulled",
            "cables.km_overhead_removed",
        ],
        "by": "operator",
    },
    {
        "title": "Tin nhắn rác, cuộc gọi rác",
        "indicators": [
            "spam_reports.reports_received",
            "spam_reports.reports_verified",
            "spam_reports.cases_confirmed",
            "spam_reports.numbers_blocked",
            "spam_reports.handled_within_sla_pct",
        ],
        "by": "operator",
    },
    {
        "title": "Chương trình phối hợp",
        "indicators": ["agreements.tasks_done", "agreements.tasks_overdue"],
        "by": "agreement",
    },
]


def run(report):
    if in_bench_database():
        return run_here(report)
    run_in_bench_database("bench.reports", report)


LOAD_APPLICATIONS_SQL = """
    INSERT INTO stations_permitapplication (
        created_at, updated_at, public_id, structure_type, structure_height_m, technologies,
        land_category, number, station_code, station_name, address, location,
        sharing_justification, colocation_candidates, status, version, submitted_at, clock_running,
        clock_started_on, days_used_before, decision_due, overdue, decided_at, decision_number,
        decision_reason, search_text, applicant_id, application_type_id, commune_id, created_by_id)
    SELECT x.t, x.t, gen_random_uuid(), 'monopole', 30, '{4G,5G}', 'public',
           'BENCH-' || g, 'BENCH-' || g, 'Trạm bench ' || g, 'Hà Nội', s.location, '', '[]',
           x.status, 1, x.t, false, x.t::date, x.days, (x.t + interval '21 days')::date, false,
           x.t + make_interval(days => x.days + x.days / 2), '', '', 'bench ' || g,
           s.operator_id, %(kind)s, s.commune_id, %(user)s
    FROM generate_series(1, %(n)s) AS g
    CROSS JOIN LATERAL (
        SELECT now() - make_interval(secs => (random() * 730 * 86400 + g * 0)::int) AS t,
               (random() * 20)::int AS days,
               (ARRAY['approved', 'approved', 'approved', 'approved', 'approved', 'approved',
                      'approved', 'rejected', 'rejected', 'deemed_approved'])[1 + (random() * 9)::int]
                   AS status
    ) x
    JOIN stations_station s ON s.id = %(first)s + (g %% %(stations)s)
"""
LOAD_EVENTS_SQL = """
    INSERT INTO stations_applicationevent (kind, from_status, to_status, note, created_at, actor_id,
                                           application_id)
    SELECT e.kind, e.from_status, e.to_status, '', e.at, %(user)s, a.id
    FROM stations_permitapplication a
    CROSS JOIN LATERAL (VALUES
        ('status', 'draft', 'submitted', a.submitted_at),
        ('message', '', '', a.submitted_at + interval '1 day'),
        ('status', 'submitted', 'under_review', a.submitted_at + interval '2 days'),
        ('status', 'under_review', a.status, a.decided_at)
    ) AS e(kind, from_status, to_status, at)
    WHERE a.number LIKE 'BENCH-%%'
"""


def _applications_loaded():
    marker, count = table_marker("stations_permitapplication")
    return marker == MARKER and count >= N_APPLICATIONS


def load_applications(stdout=print):
    from django.db import connection, transaction

    from core.models import Organization  # noqa: F401 - the app registry is ready
    from stations.models import ApplicationType, Station

    official = bench_official()
    kind = ApplicationType.objects.order_by("id").values_list("id", flat=True).first()
    first = Station.objects.order_by("id").values_list("id", flat=True).first()
    count = Station.objects.count()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "DELETE FROM stations_applicationevent WHERE application_id IN "
            "(SELECT id FROM stations_permitapplication WHERE number LIKE 'BENCH-%%')"
        )
        cursor.execute("DELETE FROM stations_permitapplication WHERE number LIKE 'BENCH-%%'")
        cursor.execute(
            LOAD_APPLICATIONS_SQL,
            {
                "n": N_APPLICATIONS,
                "kind": kind,
                "user": official.pk,
                "first": first,
                "stations": count,
            },
        )
        cursor.execute(LOAD_EVENTS_SQL, {"user": official.pk})
        events = cursor.rowcount
        cursor.execute(f"COMMENT ON TABLE stations_permitapplication IS '{MARKER}'")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE stations_permitapplication")
        cursor.execute("VACUUM ANALYZE stations_applicationevent")
    stdout(
        f"   load {N_APPLICATIONS:,} applications and {events:,} events in "
        f"{time.perf_counter() - started:.1f} s"
    )


def prepare_database(report, stdout=print):
    from bench import cables, spam, stations

    if not prepare_base(stdout):
        return False
    if not stations.prepare_database(stdout):
        return False
    if not cables.prepare_database(report, stdout):
        return False
    if not spam.prepare_database(report, stdout):
        return False
    if _applications_loaded():
        stdout(f"   bench database {BENCH_DB} reused ({N_APPLICATIONS:,} applications)")
    else:
        load_applications(stdout)
    return True


def _sizes():
    from bench.harness import raw

    (stations, events, segments, reports) = raw(
        """SELECT (SELECT count(*) FROM stations_station),
                  (SELECT count(*) FROM stations_applicationevent),
                  (SELECT count(*) FROM cables_cablesegment),
                  (SELECT reltuples::bigint FROM pg_class WHERE relname = 'spam_reports_spamreport')"""
    )()[0]
    return (
        f"{stations:,} stations, {events:,} permit events, {segments:,} segments, "
        f"~{reports:,} spam reports"
    )


class _Capture:
    """Records every SQL statement (with its parameters) the computation sends."""

    def __init__(self):
        self.statements = []

    def __call__(self, execute, sql, params, many, context):
        self.statements.append((sql, params))
        return execute(sql, params, many, context)


def _definition():
    from core.models import Organization
    from reports.models import ReportDefinition

    definition, _created = ReportDefinition.objects.update_or_create(
        code="BENCH-CUCVT-Q",
        defaults={
            "name": "Báo cáo quý gửi Cục Viễn thông (bench)",
            "recipient": Organization.objects.get(code="CUC_VT"),
            "period_type": "quarter",
            "cutoff_day": 0,
            "deadline_days": 10,
            "sections": SECTIONS,
            "heading": "BÁO CÁO TÌNH HÌNH HẠ TẦNG VIỄN THÔNG HÀ NỘI",
        },
    )
    return definition


def bench_report(report, size):
    from django.db import connection

    from reports import documents, periods, services

    definition = _definition()
    quarter = periods.latest_closed("quarter", date.today(), 0)
    year = periods.parse("year", str(quarter.year - 1), 0)
    indicators_count = sum(len(s["indicators"]) for s in SECTIONS)

    capture = _Capture()
    tracemalloc.start()
    started = time.perf_counter()
    with connection.execute_wrapper(capture):
        snapshot = services.compute_snapshot(definition, quarter)
    seconds = time.perf_counter() - started
    _current, peak_quarter = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    raw_started = time.perf_counter()
    with connection.cursor() as cursor:
        for sql, params in capture.statements:
            cursor.execute(sql, params)
            cursor.fetchall()
    raw_seconds = time.perf_counter() - raw_started

    year_definition = definition
    tracemalloc.start()
    year_started = time.perf_counter()
    year_definition.period_type = "year"
    services.compute_snapshot(year_definition, year)
    year_seconds = time.perf_counter() - year_started
    _current, peak_year = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    started = time.perf_counter()
    xlsx = documents.xlsx(snapshot)
    pdf = documents.pdf(snapshot)
    files_seconds = time.perf_counter() - started

    report.note(
        f"quarterly report for the Cục Viễn thông ({quarter.label}): {indicators_count} "
        "indicators × (quarter, previous, last year) + breakdowns",
        size,
        f"{seconds:.2f} s (target < 30 s)",
    )
    report.note(
        "  the same SQL statements run raw",
        size,
        f"{len(capture.statements)} statements, {raw_seconds:.2f} s "
        f"(portal / raw = {seconds / raw_seconds:.2f})",
    )
    report.note(
        "  memory (tracemalloc peak of the computation)",
        size,
        f"quarter {peak_quarter / 1024:.0f} KiB; whole year {peak_year / 1024:.0f} KiB "
        f"({year_seconds:.1f} s): flat in the data size",
    )
    report.note(
        "  files from the snapshot",
        size,
        f"XLSX {len(xlsx) / 1024:.0f} KiB + PDF {len(pdf) / 1024:.0f} KiB in {files_seconds:.2f} s",
    )


def run_here(report):
    if not prepare_database(report):
        return
    size = _sizes()
    print(f"   data: {size}")
    bench_report(report, size)


if __name__ == "__main__":
    child_main(run_here)
