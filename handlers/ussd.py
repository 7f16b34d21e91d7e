"""USSD hops: the gateway's form in, its screen text out (Africa's Talking: ``CON ``/``END ``
text/plain), never a 500.

Thin: authenticate, turn the gateway's form (``providers/<name>/``) into a
:class:`menus.hop.Hop`, call :func:`menus.driver.answer` inside one transaction,
render with the gateway's answer. When Redis or the database is down or slow the
member gets "service busy" well within 3 seconds: the hop's Redis client has
sub-second timeouts and no retries, PostgreSQL gets a connect timeout and a
per-hop statement timeout.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

import metrics
from db import BOUNDED
from groups.phones import try_normalise
from handlers.auth import authentic, view
from i18n import translator
from ledger.readcache import ReadCache
from menus import build_machine
from menus.driver import answer
from menus.engine import Deps
from menus.hop import Hop, Reply
from menus.state import SessionStore
from providers import Provider, UssdRequest
from providers.registry import PROVIDERS

log = logging.getLogger("kassa.ussd")

REDIS_TIMEOUT = 0.5  # seconds, connect and each command


def screen(provider: Provider, reply: Reply, status: int = 200) -> Response:
    """``reply`` as ``provider``'s gateway shows it."""
    assert provider.ussd is not None
    return Response(provider.ussd.answer(reply.text, reply.end), status=status, mimetype=provider.ussd.mimetype)


def hop(provider: Provider) -> Response:
    started = time.perf_counter()
    response, outcome = _hop(provider)
    metrics.ussd_hop(provider.name, time.perf_counter() - started, outcome)
    return response


def _hop(provider: Provider) -> tuple[Response, str]:
    assert provider.ussd is not None
    services = current_app.extensions["kassa"]
    t = translator(services.config.DEFAULT_LANGUAGE)
    if not authentic(provider):
        return screen(provider, Reply(t.gettext("Not allowed."), end=True), status=403), "refused"
    hop = _neutral(provider.ussd.parse(request.form))
    if hop is None:
        return screen(provider, Reply(t.gettext("Sorry, we could not read this request. Please dial again."),
                                      end=True)), "bad_request"
    try:
        with services.db.transaction() as session:
            session.info[BOUNDED] = True
            store = _store(current_app)
            result = answer(build_machine(), hop, session, store, _deps(services, store),
                            services.config.DEFAULT_LANGUAGE)
    except Exception as exc:  # Redis or the database down or slow, or a bug: never a 500
        log.error("ussd hop failed session=%s: %s", hop.session_id, type(exc).__name__,
                  exc_info=log.isEnabledFor(logging.DEBUG))
        busy = t.gettext("Service busy, please try again in a few minutes.")
        return screen(provider, Reply(busy, end=True)), "busy"
    log.debug("ussd hop session=%s screen=%s text=%s", hop.session_id, result.screen, result.scrubbed)
    return screen(provider, result.reply), "ok"


def events(provider: Provider) -> Response:
    """End-of-session notification: a log record only (never proof of anything)."""
    assert provider.ussd is not None and provider.ussd.parse_ended is not None
    if not authentic(provider):
        return Response("", status=403)
    ended = provider.ussd.parse_ended(request.form)
    log.info("ussd session ended session=%s status=%s hops=%s ms=%s input=%s error=%s",
             ended.session_id, ended.status, ended.hops, ended.millis, scrub_digits(ended.input)[:200],
             ended.error)
    return Response("", status=200)


def scrub_digits(text: str) -> str:
    """Every ``*``-piece holding 4 or more digits masked: it may be a PIN."""
    return "*".join("#" * len(p) if sum(c.isdigit() for c in p) >= 4 else p for p in text.split("*"))


def _neutral(req: UssdRequest | None) -> Hop | None:
    phone = try_normalise(req.phone) if req is not None else None  # a '+' decoded to ' ' is restored
    if req is None or phone is None:
        return None
    return Hop(session_id=req.session_id, phone=phone, service_code=req.service_code, text=req.text,
               network=req.network)


def blueprint() -> Blueprint:
    """Each USSD gateway's endpoints, at the paths it names (read from the registry per app)."""
    bp = Blueprint("ussd", __name__)
    for p in PROVIDERS.values():
        if p.ussd is None:
            continue
        bp.add_url_rule(p.ussd.path, view_func=view(hop, p, p.name), methods=["POST"])
        if p.ussd.events_path is not None:
            bp.add_url_rule(p.ussd.events_path, view_func=view(events, p, f"{p.name}_events"),
                            methods=["POST"])
    return bp


def utcnow() -> dt.datetime:
    """The hop's clock (one place, so a test can set the day)."""
    return dt.datetime.now(dt.UTC)


def _deps(services: Any, store: SessionStore) -> Deps:
    cfg = services.config
    reads = ReadCache(store.redis, cfg.LEDGER_CACHE_SECONDS) if cfg.LEDGER_CACHE_SECONDS > 0 else None
    return Deps(pepper=cfg.PIN_PEPPER or "", service_code=cfg.USSD_SERVICE_CODE,
                now=utcnow(), reads=reads)


def _store(app: Flask) -> SessionStore:
    """The hop's session store on its own Redis client: short timeouts, no retries."""
    store = app.extensions.get("kassa.ussd_store")
    if store is None:
        services = app.extensions["kassa"]
        _ = services.redis  # resolves the embedded server's URL when REDIS_URL is unset
        store = SessionStore(_fast_redis(services.config.REDIS_URL), ttl=services.config.USSD_SESSION_TTL,
                             resume_seconds=services.config.USSD_RESUME_SECONDS)
        app.extensions["kassa.ussd_store"] = store
    return store


def _fast_redis(url: str) -> Any:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT,
                                retry=Retry(NoBackoff(), 0), health_check_interval=0)
