"""The project's own checks: lint clean, the pure core strictly typed and free of Flask."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_is_clean() -> None:
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ledger_and_menus_are_strictly_typed() -> None:
    # strict for ledger.* and menus.* (pyproject.toml); what they import is checked as it is
    result = _run("mypy", "ledger", "menus", "--follow-imports=silent")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ledger_and_menus_import_no_flask_nor_provider_sdk() -> None:
    for package in ("ledger", "menus"):
        for path in (ROOT / package).rglob("*.py"):
            for line in path.read_text(encoding="utf-8").splitlines():
                words = line.split()
                if words[:1] in (["import"], ["from"]) and len(words) > 1:
                    top = words[1].split(".")[0]
                    assert top not in {"flask", "werkzeug", "africastalking", "twilio"}, f"{path}: {line}"
