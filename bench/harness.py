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
