"""Benchmarks: `make bench` (or `python -m bench [name ...]`).

Each module bench/<area>.py defines ``run(report)`` and is listed in ``SUITES``; ``report`` records a
figure with the data size it was measured on and, where it makes sense, the same work done by the
database in raw SQL, so that the ratio shows what the application layer costs.
"""

SUITES = [
    "bench.core",
    "bench.stations",
    "bench.imports",
    "bench.sharing",
    "bench.cables",
    "bench.spam",
    "bench.reports",
    "bench.sync",
]
