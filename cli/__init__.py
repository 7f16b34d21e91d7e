"""``flask ...`` commands. Each command owns its transaction (one place commits)."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from cli import dbcmd, groups, ussd, up

    app.cli.add_command(dbcmd.db)
    app.cli.add_command(groups.demo)
    app.cli.add_command(groups.groups)
    app.cli.add_command(groups.members)
    app.cli.add_command(ussd.ussd)
    app.cli.add_command(up.up)


def services():
    from flask import current_app

    return current_app.extensions["kassa"]
