"""``make bench``: run every benchmark module in bench/ that has a ``main()``."""
from __future__ import annotations

import importlib
import pkgutil
import sys

import bench

SKIP = {"run", "floor", "ussd_load"}


def main() -> int:
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if info.name in SKIP:
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if hasattr(module, "main"):
            print(f"== bench.{info.name}", flush=True)
            module.main([])
    return 0


if __name__ == "__main__":
    sys.exit(main())
