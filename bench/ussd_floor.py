"""The floor for the USSD benchmark: bare Flask doing one Redis GET and one SET per request.

Served by the same gunicorn settings as Kassa, on the same Redis, under the same load:
whatever Kassa costs beyond this is menus, sessions, database and rendering.
"""
from __future__ import annotations

import os

import redis
from flask import Flask, Response, request


def create_app() -> Flask:
    app = Flask(__name__)
    client = redis.Redis.from_url(os.environ["REDIS_URL"])

    @app.post("/ussd/africastalking")
    def hop() -> Response:
        key = "floor:" + request.form.get("sessionId", "")
        seen: bytes = client.get(key) or b""  # type: ignore[assignment]  # decode_responses is off: bytes
        client.set(key, request.form.get("text", ""), ex=180)
        return Response("CON " + seen.decode()[:20], mimetype="text/plain")

    return app
