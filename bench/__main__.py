import json
import os
import sys
from importlib import import_module
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hanoi_infra.settings")

import django  # noqa: E402

django.setup()

from bench import SUITES  # noqa: E402
from bench.harness import Report  # noqa: E402


def main(argv):
    wanted = [f"bench.{a}" for a in argv] or SUITES
    report = Report()
    for name in wanted:
        print(f"== {name}")
        import_module(name).run(report)
    out = Path(__file__).resolve().parent / "results" / "latest.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report.rows, indent=1, default=str))
    print(f"Figures written to {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
