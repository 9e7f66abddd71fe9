import statistics
import time
import tracemalloc


def measure(fn, repeat=20, warmup=2):
    """Median and p95 wall time of ``fn()`` in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def peak_memory_kib(fn):
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024


class Report:
    def __init__(self):
        self.rows = []

    def add(self, name, size, fn, raw_sql=None, repeat=20):
        median, p95 = measure(fn, repeat=repeat)
        raw = measure(raw_sql, repeat=repeat)[0] if raw_sql else None
        row = {"name": name, "size": size, "median_ms": median, "p95_ms": p95, "raw_sql_ms": raw}
        self.rows.append(row)
        ratio = f"{median / raw:6.1f}x raw SQL ({raw:.2f} ms)" if raw else ""
        print(
            f"{name:<52} {size:<22} median {median:8.2f} ms  p95 {p95:8.2f} ms  {ratio}", flush=True
        )
        return row

    def note(self, name, size, value):
        self.rows.append({"name": name, "size": size, "value": value})
        print(f"{name:<52} {size:<22} {value}", flush=True)


# --- Helpers every suite uses (Django is imported inside them: a child process imports this module
# before django.setup()) ----------------------------------------------------------------------------


def raw(sql, params=None):
    """A function running ``sql`` on the default connection and returning its rows."""
    from django.db import connection

    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params or [])
            return cursor.fetchall()

    return run


def cycle(items):
    state = {"i": 0}

    def next_item():
        state["i"] = (state["i"] + 1) % len(items)
        return items[state["i"]]

    return next_item


def bench_official():
    """A city official (created once) for the pages and the API."""
    from django.contrib.auth.models import Group

    from core import roles
    from core.models import Organization, User

    user = User.objects.filter(username="bench-official").first()
    if user is None:
        user = User.objects.create_user(
            "bench-official",
            password="bench-only-2026",
            organization=Organization.objects.get(code="SO_KHCN_HN"),
        )
        user.groups.add(Group.objects.get(name=roles.CITY_OFFICIAL))
    return user


def get(client, url):
    def run():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    return run


def available(client, url):
    """True if ``url`` answers 200; prints why it is skipped otherwise (404: not written yet)."""
    status = client.get(url).status_code
    if status == 200:
        return True
    reason = "not there yet" if status == 404 else "FAILS, see the log above"
    print(f"   (skipped: {url} answers {status}, {reason})")
    return False


def features(response):
    data = response.json()
    return data.get("features", data.get("results"))


def query_count(fn):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)


def cursor_url(base, after_id):
    """The URL DRF's cursor pagination gives for the page after the row ``after_id`` (ordering id)."""
    from rest_framework.pagination import Cursor

    from core.api.pagination import KeysetPagination

    paginator = KeysetPagination()
    paginator.base_url = base
    return paginator.encode_cursor(Cursor(offset=0, reverse=False, position=str(after_id)))
