"""``make bench``: run every benchmark module in bench/, each in its own process."""
from __future__ import annotations

import pkgutil
import subprocess
import sys

import bench

HELPERS = {"run", "floor", "ussd_floor", "ussd_load"}  # not benchmarks themselves


def main() -> int:
    failed = 0
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if info.name not in HELPERS:
            print(f"== bench.{info.name}", flush=True)
            failed |= subprocess.call([sys.executable, "-m", f"bench.{info.name}"])
    return failed


if __name__ == "__main__":
    sys.exit(main())
