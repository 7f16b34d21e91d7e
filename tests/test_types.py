"""mypy --strict passes on the whole project: the same check as a plain ``mypy`` (pyproject.toml says what).

Run in a subprocess, as a developer runs it. Its cache lives under the system's temporary
directory, one per checkout, so a second run only re-reads what changed (a few seconds).
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("mypy", reason="mypy is not installed (requirements-dev.txt)")


def _cache_dir() -> Path:
    checkout = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"kassa-mypy-{checkout}"


def test_mypy_strict_passes_on_the_whole_project() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(_cache_dir())],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr


def test_the_configuration_is_strict_for_every_file() -> None:
    """No module may opt out: strict is set once, for everything, and no override relaxes it."""
    import tomllib

    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert mypy["strict"] is True
    assert mypy["files"] == ["."]
    for override in mypy.get("overrides", []):
        relaxed = {k: v for k, v in override.items()
                   if k != "module" and (v is False or k == "ignore_errors" or k.startswith("allow_"))}
        assert not relaxed, override
