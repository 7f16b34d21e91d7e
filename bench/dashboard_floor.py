"""The floor for the dashboard benchmark: bare Flask rendering a small template after one query.

Served by the same gunicorn settings as Kassa, against the same database, so
the difference is what the console adds: the session and staff lookup, the
scope, the aggregates' queries, the translations, the charts and the layout.
"""
from __future__ import annotations

import os

from flask import Flask
from sqlalchemy import text

from db import make_engine

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Floor</title></head>
<body><h1>Floor</h1><p>{{ row.group_id }} {{ row.region }} {{ row.savings }}</p></body></html>"""


def create_app() -> Flask:
    app = Flask(__name__)
    engine = make_engine(os.environ["DATABASE_URL"])
    page = app.jinja_env.from_string(PAGE)  # compiled once, as Kassa's templates are

    @app.get("/floor")
    def floor() -> str:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT group_id, region, savings FROM report_groups WHERE group_id = 12345")
                               ).one()
        return page.render(row=row)

    return app
