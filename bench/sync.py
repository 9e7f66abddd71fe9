"""Sync over HTTP: bulk upserts of 100,000 stations and reading the change feed, against a real server.

What it measures, in the bench database (``hanoi_infra_bench``, with the 200,000 stations of
bench.stations; see bench/database.py for why a child process):

a. ``POST /api/v1/stations/bulk/`` with 1,000 records a call: 100,000 new stations sent by one sender
   (set A) and 100,000 others by ``SENDERS`` concurrent senders (set B): records/s created; the same
   records again (all unchanged), and again with their name changed (updated). Each operator's own
   system sends its own stations (seven API clients, one per operator, writing source = its code),
   as the portal's rule for sources requires.
b. ``GET /api/v1/changes/`` from the cursor taken before (a) to the end, at limit=1000 and 5000, by
   an agency's client (Cục Viễn thông reads every operator's changes): events/s, at once after the
   writes and again after VACUUM ANALYZE of core_change (what autovacuum gives a little later:
   every change row is written twice, inserted then numbered at commit, and until the dead versions
   are vacuumed a page visits them too). The client parses each page (json.loads) and checks that
   seq only grows.
c. PostgreSQL's COPY of the same 100,000 rows (the same columns) into a temporary table, and into an
   empty scratch copy of stations_station with its indexes and constraints: rows/s, and the ratios
   bulk/COPY and feed/COPY.
d. Clean-up: the stations written here are deleted (by source and external id), with their history
   events and change-feed entries, so the bench database keeps its size; the server is stopped.

The server is the production one (gunicorn as in the Procfile, ``WORKERS`` sync workers, DEBUG
off) on a free local port, started by this module and stopped in a ``finally``. Requests go through
``http.client`` with one connection per sender, reopened when the server closes it (gunicorn's sync
workers answer ``Connection: close``; on localhost a new connection costs ~0.1 ms, nothing next to a
batch). Request bodies are encoded before the clock starts: the client's JSON encoding is not the
server's work. The server's memory is read from /proc (peak resident size of each worker).

If the bulk endpoint is not there (404/405), the writes are made in SQL instead (the capture
triggers still fill the feed), so parts (b) and (c) still run; the bulk figures are then skipped.
"""

import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.database import BASE_DIR, bench_url, child_main, in_bench_database
from bench.database import run_in_bench_database as _run_in_bench_database

N_RECORDS = int(os.environ.get("BENCH_SYNC_RECORDS", 100_000))
BATCH = 1_000
SENDERS = int(os.environ.get("BENCH_SYNC_SENDERS", 3))
WORKERS = int(os.environ.get("BENCH_SYNC_WORKERS", 3))
FEED_LIMITS = (1000, 5000)
EXTERNAL_PREFIX = "bench-sync-"
CLIENT_PREFIX = "bench-sync-"
FEED_CLIENT = "bench-sync-feed"
FEED_ORG = "CUC_VT"
COPY_REPEAT = 3

OPERATOR_SHARES = [
    ("VIETTEL", 0.36),
    ("VNPT", 0.26),
    ("MOBIFONE", 0.22),
    ("VIETNAMOBILE", 0.08),
    ("GTEL", 0.03),
    ("FPT", 0.03),
    ("CMC", 0.02),
]
OPERATORS = [code for code, _share in OPERATOR_SHARES]


def run(report):
    if in_bench_database():
        return run_here(report)
    _run_in_bench_database("bench.sync", report)


# --- The records ----------------------------------------------------------------------------------

POINTS_SQL = """
WITH units AS (
    SELECT u.id, u.code, u.kind, u.name, u.boundary,
           u.area_km2 * CASE u.kind WHEN 'phuong' THEN 10 ELSE 1 END AS w
    FROM core_administrativeunit u WHERE u.boundary IS NOT NULL
), counts AS (
    SELECT *, ceil(%(n)s * 1.03 * w / sum(w) OVER ())::int AS k FROM units
), points AS (
    SELECT c.code, c.kind, c.name, p.path[1] AS i,
           ST_SnapToGrid(p.geom, 0.000001) AS geom, c.id
    FROM counts c, LATERAL ST_Dump(ST_GeneratePoints(c.boundary, c.k, 20260515 + c.id::int)) p
)
-- Coordinates with 6 decimals (what operators send); kept only where exactly one commune holds
-- the rounded point, so the commune sent is the one the server finds.
SELECT p.code, p.kind, p.name, ST_X(p.geom), ST_Y(p.geom)
FROM points p
WHERE (SELECT count(*) FROM core_administrativeunit x WHERE ST_Intersects(x.boundary, p.geom)) = 1
  AND ST_Intersects((SELECT boundary FROM core_administrativeunit WHERE id = p.id), p.geom)
ORDER BY md5(p.id::text || '.' || p.i::text)
LIMIT %(n)s
"""


def make_records(n_per_set, sets=("a", "b")):
    """``{set: [record, ...]}``: stations as an operator's system sends them (plain JSON, the
    location as a GeoJSON Point), spread over Hanoi's communes by area (wards denser)."""
    from bench.harness import raw
    from bench.stations import CODE_PREFIX, STREETS, VILLAGE_ROADS

    points = raw(POINTS_SQL, {"n": n_per_set * len(sets)})()
    assert len(points) == n_per_set * len(sets), (len(points), n_per_set * len(sets))
    rng = random.Random(2026)
    cumulative, edges = 0.0, []
    for code, share in OPERATOR_SHARES:
        cumulative += share
        edges.append((cumulative, code))
    out = {}
    for s, name in enumerate(sets):
        records = []
        for i, (commune, kind, unit_name, lon, lat) in enumerate(
            points[s * n_per_set : (s + 1) * n_per_set]
        ):
            r = rng.random()
            operator = next((code for edge, code in edges if r < edge), OPERATORS[-1])
            ward = kind == "phuong"
            road = rng.choice(STREETS if ward else VILLAGE_ROADS)
            structure = rng.choices(
                ["rooftop_mast", "camouflaged_mast", "monopole", "lattice_tower", "pole"],
                [50, 8, 17, 15, 10] if ward else [15, 2, 18, 50, 15],
            )[0]
            height = {
                "rooftop_mast": rng.uniform(2, 12),
                "camouflaged_mast": rng.uniform(6, 15),
                "monopole": rng.uniform(18, 36),
                "lattice_tower": rng.uniform(30, 60),
                "pole": rng.uniform(8, 15),
            }[structure]
            status = rng.choices(["operating", "permitted", "planned"], [88, 6, 6])[0]
            land = (
                rng.choice(["private", "private", "private", "public_building"])
                if structure == "rooftop_mast"
                else rng.choice(["private", "public_land", "public_place", "public_works"])
            )
            technologies = [t for t, p in (("2G", 0.35), ("3G", 0.55)) if rng.random() < p]
            technologies += ["4G"] + (["5G"] if rng.random() < (0.45 if ward else 0.08) else [])
            records.append(
                {
                    "source": operator,
                    "external_id": f"{EXTERNAL_PREFIX}{name}-{i:06d}",
                    "operator": operator,
                    "code": f"{CODE_PREFIX[operator]}-SY{name.upper()}-{i:06d}",
                    "name": f"BTS {road} {1 + i % 9}",
                    "address": (
                        f"Số {rng.randint(1, 400)} {road}, {unit_name}, Hà Nội"
                        if ward
                        else f"{road}, {unit_name}, Hà Nội"
                    ),
                    "commune": commune,
                    "location": {"type": "Point", "coordinates": [lon, lat]},
                    "structure_type": structure,
                    "structure_height_m": round(height, 1),
                    "building_height_m": (
                        round(rng.uniform(12, 60), 1) if structure == "rooftop_mast" else None
                    ),
                    "technologies": technologies,
                    "land_category": land,
                    "status": status,
                    "permit_reference": (
                        f"{rng.randint(1000, 9999)}/GP-STTTT"
                        if land != "private" and status != "planned"
                        else ""
                    ),
                    "commissioned_on": (
                        f"{rng.randint(2005, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                        if status == "operating"
                        else None
                    ),
                }
            )
        out[name] = records
    return out


def batches(records, mode="atomic"):
    """Request bodies of ≤ BATCH records, each batch from one operator (its own client sends it):
    ``[(operator, body bytes, n), ...]`` in a mixed order of operators."""
    by_operator = {}
    for record in records:
        by_operator.setdefault(record["source"], []).append(record)
    out = []
    for operator, rows in by_operator.items():
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            body = json.dumps({"mode": mode, "records": chunk}, ensure_ascii=False).encode()
            out.append((operator, body, len(chunk)))
    random.Random(7).shuffle(out)
    return out


def renamed(records):
    return [{**r, "name": f"{r['name']} (mở rộng)"} for r in records]


# --- The server -----------------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn on a free local port with the bench database, DEBUG off; stopped by ``stop()``."""

    def __init__(self, workers=WORKERS):
        self.workers = workers
        self.port = free_port()
        fd, name = tempfile.mkstemp(prefix="bench-sync-gunicorn-", suffix=".log")
        os.close(fd)
        self.log = Path(name)
        self.process = None

    def start(self, timeout=60):
        env = {
            **os.environ,
            "DATABASE_URL": bench_url(),
            "DEBUG": "false",
            "DJANGO_SETTINGS_MODULE": "hanoi_infra.settings",
        }
        gunicorn = Path(sys.executable).parent / "gunicorn"
        command = [str(gunicorn), "hanoi_infra.wsgi", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", str(self.workers), "--timeout", "300"]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n{self.tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer /healthz in {timeout} s:\n{self.tail()}")

    def tail(self, lines=40):
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def worker_pids(self):
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.process.pid:
                pids.append(int(entry.name))
        return pids

    def memory(self):
        """Peak and current resident size of the workers (MiB), from /proc/<pid>/status."""

        def field(pid, name):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(name + ":"):
                    return int(line.split()[1]) / 1024
            return 0.0

        workers = self.worker_pids()
        return {
            "workers": len(workers),
            "peak": [field(p, "VmHWM") for p in workers],
            "now": [field(p, "VmRSS") for p in workers],
            "master": field(self.process.pid, "VmRSS"),
        }

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # gunicorn: graceful stop of the master and its workers
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)  # its own session: the master and its workers only
            self.process.wait(10)
        self.log.unlink(missing_ok=True)


class Http:
    """One keep-alive connection (reopened when the server closes it), with a bearer token."""

    def __init__(self, port, token):
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def call(self, method, path, body=None):
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(3):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.status == 429 and attempt < 2:
                    time.sleep(float(response.getheader("Retry-After") or 1))
                    continue
                return response.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if attempt == 2:
                    raise
        return response.status, data

    def close(self):
        self.conn.close()


# --- Clients, clean-up ----------------------------------------------------------------------------


def clients():
    """Seven operator clients (write on stations) and an agency's feed reader: {name: raw token}.
    Created once and kept; each run gives them fresh tokens (the old ones revoked)."""
    from core.models import Organization
    from sync import services
    from sync.models import ApiClient

    wanted = {f"{CLIENT_PREFIX}{code}": (code, {"stations": "write"}) for code in OPERATORS}
    wanted[FEED_CLIENT] = (FEED_ORG, {"stations": "read"})
    tokens = {}
    for name, (org, scopes) in wanted.items():
        client = ApiClient.objects.filter(name=name).first()
        if client is None:
            _client, raw = services.create_client(
                None,
                name=name,
                organization=Organization.objects.get(code=org),
                scopes=scopes,
            )
        else:
            raw = services.issue_token(None, client, revoke_others=True)
        tokens[name] = raw
    return tokens


def cleanup():
    """Delete the stations this suite wrote, their history events and change-feed entries, the
    history context of its clients' requests and their revoked tokens. Returns the number of
    stations deleted.

    The stations are deleted with the table's triggers off (as bench.stations loads them): the
    history and the tombstones of deleting them would be removed at once anyway, and pghistory's
    row trigger opens a subtransaction per row, which makes one DELETE of 200,000 rows take minutes.
    """
    from django.db import connection, transaction

    like = EXTERNAL_PREFIX.replace("_", r"\_") + "%"
    clients_like = CLIENT_PREFIX.replace("_", r"\_") + "%"
    mine = "source = ANY(%(ops)s) AND external_id LIKE %(like)s"
    params = {"ops": OPERATORS, "like": like, "clients": clients_like}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            DELETE FROM core_change c WHERE c.resource = 'stations' AND c.object_id IN (
                SELECT id FROM stations_station WHERE {mine}
                UNION SELECT pgh_obj_id FROM stations_stationevent WHERE {mine})
            """,
            params,
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE stations_station DISABLE TRIGGER USER")
        cursor.execute(f"DELETE FROM stations_station WHERE {mine}", params)
        deleted = cursor.rowcount
        cursor.execute("ALTER TABLE stations_station ENABLE TRIGGER USER")
        cursor.execute(f"DELETE FROM stations_stationevent WHERE {mine}", params)
        cursor.execute(
            "DELETE FROM pghistory_context WHERE metadata->>'api_client' LIKE %(clients)s", params
        )
        cursor.execute(
            "DELETE FROM core_apitoken t USING core_apiclient c WHERE c.id = t.client_id"
            " AND c.name LIKE %(clients)s AND t.revoked_at IS NOT NULL",
            params,
        )
    return deleted


def vacuum():
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("stations_station", "stations_stationevent", "core_change"):
            cursor.execute(f"VACUUM ANALYZE {table}")


# --- (a) bulk upserts -----------------------------------------------------------------------------


def bulk_available(port, token):
    status, _data = Http(port, token).call(
        "POST", "/api/v1/stations/bulk/", json.dumps({"mode": "atomic", "records": []}).encode()
    )
    return status not in (404, 405), status


def send(port, tokens, bodies, senders, expect):
    """POST every body (``senders`` threads, one connection each); returns (seconds, per-batch ms,
    problems)."""
    queue = list(enumerate(bodies))
    lock = threading.Lock()
    times, problems = [], []

    def worker():
        conns = {}
        while True:
            with lock:
                if not queue:
                    break
                _i, (operator, body, n) = queue.pop(0)
            http = conns.get(operator)
            if http is None:
                http = conns[operator] = Http(port, tokens[f"{CLIENT_PREFIX}{operator}"])
            start = time.perf_counter()
            status, data = http.call("POST", "/api/v1/stations/bulk/", body)
            elapsed = (time.perf_counter() - start) * 1000
            problem = None
            if status != 200:
                problem = f"HTTP {status}: {data[:300]!r}"
            else:
                answer = json.loads(data)
                got = (answer.get("counts") or {}).get(expect, 0)
                if got != n:
                    wrong = [r for r in answer.get("results", []) if r.get("status") != expect]
                    problem = f"{got}/{n} {expect}; first other: {wrong[:1]}"
            with lock:
                times.append(elapsed)
                if problem:
                    problems.append(problem)
        for http in conns.values():
            http.close()

    threads = [threading.Thread(target=worker) for _ in range(senders)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, times, problems


def bench_bulk(report, port, tokens, records):
    """Created, unchanged and updated, for set A (one sender) and set B (SENDERS senders)."""
    results = {}
    plans = [
        ("created", {s: records[s] for s in records}),
        ("unchanged", {s: records[s] for s in records}),
        ("updated", {s: renamed(records[s]) for s in records}),
    ]
    for expect, sets in plans:
        for name, senders in (("a", 1), ("b", SENDERS)):
            bodies = batches(sets[name])
            n = sum(b[2] for b in bodies)
            megabytes = sum(len(b[1]) for b in bodies) / 1024 / 1024
            seconds, times, problems = send(port, tokens, bodies, senders, expect)
            rate = n / seconds
            times.sort()
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            who = "1 sender" if senders == 1 else f"{senders} senders"
            size = f"{n:,} records, {len(bodies)} x ≤{BATCH:,}, {megabytes:.0f} MB"
            value = (
                f"{seconds:.1f} s = {rate:,.0f} records/s (target ≥ 2,000; per call median "
                f"{statistics.median(times):.0f} ms, p95 {p95:.0f} ms)"
            )
            if problems:
                value += f"; {len(problems)} calls not as expected, first: {problems[0]}"
            report.note(f"POST /api/v1/stations/bulk/ {expect}, {who}", size, value)
            results[(expect, senders)] = rate
    return results


def sql_writes(records):
    """Without the bulk endpoint: the same records written in SQL (capture triggers on), created
    then renamed, so the feed has as many events as the bulk passes would give."""
    from django.db import connection, transaction

    from core.models import AdministrativeUnit, Organization

    operators = dict(Organization.objects.filter(code__in=OPERATORS).values_list("code", "id"))
    units = dict(AdministrativeUnit.objects.values_list("code", "id"))
    for rows in records.values():
        with transaction.atomic():
            copy_rows(rows, operators, units, "stations_station")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE stations_station SET name = name || ' (mở rộng)', updated_at = now() "
                "WHERE external_id = ANY(%s) AND source = ANY(%s)",
                [[r["external_id"] for r in rows], OPERATORS],
            )


# --- (b) the change feed --------------------------------------------------------------------------


def read_feed(port, token, after, limit):
    """Follow the feed from ``after`` to its end: (seconds, events, calls, megabytes, problems)."""
    http = Http(port, token)
    events = calls = size = 0
    last_seq, problems = None, []
    cursor = after
    start = time.perf_counter()
    while True:
        status, data = http.call(
            "GET", f"/api/v1/changes/?after={cursor}&limit={limit}&types=stations"
        )
        calls += 1
        size += len(data)
        if status != 200:
            problems.append(f"HTTP {status}: {data[:300]!r}")
            break
        page = json.loads(data)
        for event in page["results"]:
            if last_seq is not None and event["seq"] <= last_seq:
                problems.append(f"seq {event['seq']} after {last_seq}")
            last_seq = event["seq"]
        events += len(page["results"])
        cursor = page["next"]
        if not page["has_more"]:
            break
    seconds = time.perf_counter() - start
    http.close()
    return seconds, events, calls, size / 1024 / 1024, problems


def bench_feed(report, port, token, after, expected, when=""):
    rates = {}
    for limit in FEED_LIMITS:
        seconds, events, calls, megabytes, problems = read_feed(port, token, after, limit)
        rate = events / seconds if seconds else 0
        value = f"{seconds:.1f} s = {rate:,.0f} events/s (target ≥ 10,000; {calls} calls)"
        if events != expected:
            value += f"; {events:,} events, {expected:,} expected"
        if problems:
            value += f"; {len(problems)} problems, first: {problems[0]}"
        report.note(
            f"GET /api/v1/changes/?limit={limit} to the end{when}",
            f"{events:,} events, {megabytes:.0f} MB",
            value,
        )
        rates[f"limit={limit}{when}"] = rate
    return rates


def vacuum_feed():
    """What autovacuum does to core_change some time after a burst of writes: every change row is
    written twice (inserted, then numbered at commit), and a page read before the dead versions are
    vacuumed visits them too."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE core_change")


# --- (c) COPY -------------------------------------------------------------------------------------

COPY_COLUMNS = [
    "created_at", "updated_at", "public_id", "source", "external_id", "operator_id", "code",
    "name", "address", "commune_id", "location", "structure_type", "structure_height_m",
    "building_height_m", "technologies", "land_category", "status", "permit_reference",
    "commissioned_on", "search_text",
]  # fmt: skip


NULL = r"\N"


def copy_buffer(rows, operators, units):
    """The rows as CSV for COPY (the columns the bulk endpoint fills)."""
    import csv
    import io
    import uuid

    from django.utils import timezone

    from core.text import fold

    now = timezone.now().isoformat()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for r in rows:
        lon, lat = r["location"]["coordinates"]
        writer.writerow(
            [
                now, now, uuid.uuid4(), r["source"], r["external_id"], operators[r["operator"]],
                r["code"], r["name"], r["address"], units[r["commune"]],
                f"SRID=4326;POINT({lon!r} {lat!r})", r["structure_type"],
                r["structure_height_m"], NULL if r["building_height_m"] is None else r["building_height_m"],
                "{" + ",".join(r["technologies"]) + "}", r["land_category"], r["status"],
                r["permit_reference"], r["commissioned_on"] or NULL,
                fold(" ".join([r["code"], r["name"], r["address"]])),
            ]
        )  # fmt: skip
    return buffer.getvalue()


def copy_rows(rows, operators, units, table):
    """COPY ``rows`` into ``table`` (in the current transaction); returns the seconds it took."""
    import io

    from django.db import connection

    text = copy_buffer(rows, operators, units)
    with connection.cursor() as cursor:
        start = time.perf_counter()
        cursor.copy_expert(
            f"COPY {table} ({', '.join(COPY_COLUMNS)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
            io.StringIO(text),
        )
        return time.perf_counter() - start


def bench_copy(report, rows):
    """COPY of the same rows into a temporary table, and into an empty scratch copy of the
    stations table with its indexes and constraints; the median of COPY_REPEAT runs, rolled back."""
    from django.db import connection, transaction

    from core.models import AdministrativeUnit, Organization

    operators = dict(Organization.objects.filter(code__in=OPERATORS).values_list("code", "id"))
    units = dict(AdministrativeUnit.objects.values_list("code", "id"))
    megabytes = len(copy_buffer(rows, operators, units).encode()) / 1024 / 1024
    targets = {
        "temp table": "INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED",
        "stations copy + indexes": "INCLUDING ALL",  # its indexes, checks and defaults
    }
    labels = {
        "temp table": "COPY into a temporary table",
        "stations copy + indexes": "COPY into an empty stations copy with its indexes",
    }
    rates = {}
    for label, like in targets.items():
        times = []
        for _ in range(COPY_REPEAT):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"CREATE TEMPORARY TABLE bench_sync_copy (LIKE stations_station {like}) "
                    "ON COMMIT DROP"
                )
                times.append(copy_rows(rows, operators, units, "bench_sync_copy"))
                cursor.execute("SELECT count(*) FROM bench_sync_copy")
                assert cursor.fetchone()[0] == len(rows)
                transaction.set_rollback(True)
        seconds = statistics.median(times)
        rates[label] = len(rows) / seconds
        report.note(
            labels[label],
            f"{len(rows):,} rows, {megabytes:.0f} MB CSV",
            f"{seconds:.2f} s = {rates[label]:,.0f} rows/s (median of {COPY_REPEAT})",
        )
    return rates


def ratio_line(rate, copy_rate):
    return f"{rate / copy_rate:.3f} (COPY is {copy_rate / rate:.1f}x faster)"


# --- The child: the bench database ----------------------------------------------------------------


def run_here(report):
    from django.db import connection

    from bench.stations import prepare_database

    # Rows an interrupted run left are removed first: bench.stations would reload its 200,000
    # stations on finding a different count.
    tables = {"stations_station", "stations_stationevent", "core_change", "pghistory_context"}
    if tables <= set(connection.introspection.table_names()):
        leftover = cleanup()
        if leftover:
            print(f"   removed {leftover:,} stations left by an earlier run")
    if not prepare_database():
        return
    try:
        measure(report)
    finally:
        deleted = cleanup()
        vacuum()
        print(f"   cleaned up: {deleted:,} stations deleted, with their history and feed entries")


def measure(report):
    from bench.stations import N_STATIONS

    tokens = clients()
    started = time.perf_counter()
    records = make_records(N_RECORDS)
    print(f"   {2 * N_RECORDS:,} records generated in {time.perf_counter() - started:.1f} s")
    table = f"{N_STATIONS:,} stations in the table"
    server = Server()
    bulk, feed_rates = {}, {}
    try:
        server.start()
        print(
            f"   gunicorn, {server.workers} sync workers, DEBUG off, on 127.0.0.1:{server.port}"
            f" ({os.cpu_count()} CPUs on this machine, shared with the senders and PostgreSQL)"
        )
        feed_token = tokens[FEED_CLIENT]
        status, data = Http(server.port, feed_token).call("GET", "/api/v1/changes/head/")
        assert status == 200, (status, data[:300])
        before = json.loads(data)["cursor"]
        some_operator = tokens[f"{CLIENT_PREFIX}{OPERATORS[0]}"]
        available, status = bulk_available(server.port, some_operator)
        if available:
            bulk = bench_bulk(report, server.port, tokens, records)
            memory = server.memory()
            report.note(
                "gunicorn workers' resident memory after the bulk passes",
                f"{memory['workers']} workers, {table}",
                "peak "
                + ", ".join(f"{m:.0f}" for m in memory["peak"])
                + " MiB; now "
                + ", ".join(f"{m:.0f}" for m in memory["now"])
                + f" MiB; master {memory['master']:.0f} MiB",
            )
        else:
            print(
                f"   (skipped the bulk passes: POST /api/v1/stations/bulk/ answers {status}, not"
                " there yet; the same records are written in SQL for the feed)"
            )
            sql_writes(records)
        expected = 4 * N_RECORDS  # created and updated, sets A and B; unchanged writes nothing
        feed_rates = bench_feed(report, server.port, feed_token, before, expected)
        vacuum_feed()
        feed_rates.update(
            bench_feed(report, server.port, feed_token, before, expected, ", vacuumed")
        )
    finally:
        server.stop()
    copy_rates = bench_copy(report, records["a"])
    copy_rate = copy_rates["temp table"]
    indexed = copy_rates["stations copy + indexes"]
    size = f"{N_RECORDS:,} records"
    for (expect, senders), rate in bulk.items():
        who = "1 sender" if senders == 1 else f"{senders} senders"
        report.note(
            f"bulk {expect} ({who}) / COPY: temp; indexed",
            size,
            f"{ratio_line(rate, copy_rate)}; {ratio_line(rate, indexed)}",
        )
    for label, rate in feed_rates.items():
        report.note(
            f"feed {label} / COPY: temp; indexed",
            size,
            f"{ratio_line(rate, copy_rate)}; {ratio_line(rate, indexed)}",
        )


if __name__ == "__main__":
    child_main(run_here)
