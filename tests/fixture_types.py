"""Types of the shared fixtures (conftest.py), for annotating tests and helpers."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from flask import Flask

DemoPeople: TypeAlias = list[tuple[str, str, str, str]]
"""What ``demo`` and ``demo_books`` return: (phone, name, group, role) of every demo person."""

MakeApp: TypeAlias = Callable[..., Flask]
"""``make_app(**config_overrides)``: an app on the test database and Redis."""
