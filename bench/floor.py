"""The floor for the SMS webhook benchmark: bare Flask doing one INSERT per request.

Served by gunicorn exactly like Kassa (``bench.floor:create_app()``), against
the same database, so the difference is what Kassa adds (auth, parsing,
the inbox row, running the command, the reply's outbox row and RQ enqueue).
"""
from __future__ import annotations

import os

from flask import Flask, request
from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from db import make_engine

metadata = MetaData()
floor = Table("bench_floor", metadata, Column("id", Integer, primary_key=True),
              Column("msg_id", String(80)), Column("body", String(200)))


def create_app() -> Flask:
    app = Flask(__name__)
    engine = make_engine(os.environ["DATABASE_URL"])
    metadata.create_all(engine)

    @app.get("/health")
    def health() -> str:
        return "ok"

    @app.post("/floor")
    def one_insert() -> str:
        with engine.begin() as conn:
            conn.execute(insert(floor).values(msg_id=request.form.get("id", ""), body=request.form.get("text", "")))
        return "OK"

    return app
