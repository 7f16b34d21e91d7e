"""Logging in and out, the staff member of a request, and the guards on every page.

Failed logins are counted by Flask-Limiter in Redis, per account and per
address: past the limit the login form refuses even the right password until
the window passes. Only failures count (``deduct_when``).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, overload
from urllib.parse import urlparse

from flask import Response, abort, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_limiter import RateLimitExceeded
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from config import Config
from console.accounts import find_staff, password_matches
from console.blueprint import bp, limiter
from console.models import Staff, StaffRole
from console.web import _, services
from groups.phones import try_normalise
from i18n import LANGUAGES


def current_staff() -> Staff | None:
    """The staff member logged in on this request (detached, with her coordinator loaded)."""
    return getattr(g, "staff", None)


def logged_in_staff() -> Staff:
    """The staff member of a page behind :func:`staff_required` (always logged in there)."""
    staff = current_staff()
    if staff is None:  # a view or helper reached without @staff_required: a programming error
        raise RuntimeError("logged_in_staff() outside a @staff_required view")
    return staff


_STAFF = select(Staff).options(joinedload(Staff.coordinator)).where(Staff.id == bindparam("staff_id"))


def _read_staff(staff_id: int) -> Staff | None:
    """The staff member with her coordinator, detached: one statement, outside a transaction on
    PostgreSQL (every console request asks; a read needs no BEGIN and COMMIT round trips)."""
    db = services().db
    if db.is_sqlite:  # the SQLite engine runs its own BEGIN (db.py): the plain way
        with db.transaction() as s:
            return s.scalar(_STAFF, {"staff_id": staff_id})
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn, \
            Session(bind=conn, expire_on_commit=False) as s:
        return s.scalar(_STAFF, {"staff_id": staff_id})


@bp.before_request
def _load_staff() -> None:
    g.staff = None
    staff_id = session.get("staff_id")
    if staff_id is None:
        return
    staff = _read_staff(staff_id)
    if staff is None or not staff.active or staff.session_epoch != session.get("epoch"):
        session.clear()
        return
    g.staff = staff


P = ParamSpec("P")
View = Callable[P, ResponseReturnValue]


@overload
def staff_required(fn: View[P]) -> View[P]: ...


@overload
def staff_required(*, role: str | None = None) -> Callable[[View[P]], View[P]]: ...


def staff_required(fn: View[P] | None = None, *, role: str | None = None
                   ) -> View[P] | Callable[[View[P]], View[P]]:
    """``@staff_required`` (any staff) or ``@staff_required(role="admin")``.

    Not logged in: to the login page (and back afterwards). Wrong role: 404.
    """
    def decorate(view: View[P]) -> View[P]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
            staff = current_staff()
            if staff is None:
                return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
            if role is not None and staff.role != StaffRole(role):
                abort(404)
            return view(*args, **kwargs)
        return wrapper
    return decorate(fn) if fn is not None else decorate


def _account_key() -> str:
    phone = (request.form.get("phone") or "").strip()
    return "account:" + (try_normalise(phone) or phone.lower()[:40])


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/console") and not urlparse(target).netloc and "//" not in target:
        return target
    return url_for("console.dashboard")


def _login_limits() -> Config:
    return services().config


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: _login_limits().CONSOLE_LOGIN_LIMIT, key_func=_account_key, methods=["POST"],
               deduct_when=_failed, scope="console-login-account")
@limiter.limit(lambda: _login_limits().CONSOLE_ADDRESS_LIMIT, methods=["POST"], deduct_when=_failed,
               scope="console-login-address")
def login() -> ResponseReturnValue:
    if request.method == "GET":
        if current_staff() is not None:
            return redirect(url_for("console.dashboard"))
        return render_template("console/login.html", phone="", next=request.args.get("next", ""))
    phone = request.form.get("phone", "")
    with services().db.transaction() as s:
        staff = find_staff(s, phone)
        ok = password_matches(staff, request.form.get("password", "")) and staff is not None and staff.active
        if ok and staff is not None:
            staff.last_login_at = dt.datetime.now(dt.UTC)
            staff_id, epoch = staff.id, staff.session_epoch
    if not ok:
        flash(_("Wrong phone number or password."), "error")
        return render_template("console/login.html", phone=phone, next=request.form.get("next", "")), 401
    lang = session.get("lang")
    session.clear()  # a fresh session on login (no fixation)
    session.permanent = True
    session.update(staff_id=staff_id, epoch=epoch)
    if lang:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")), code=303)


@bp.errorhandler(RateLimitExceeded)
def _too_many(_exc: RateLimitExceeded) -> ResponseReturnValue:
    flash(_("Too many failed logins. This account is locked for a while; try again later."), "error")
    return render_template("console/login.html", phone=request.form.get("phone", ""), next=""), 429


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("console.login"), code=303)


@bp.post("/language")
def choose_language() -> ResponseReturnValue:
    """The language picker: stored on her account when logged in, else for this browser."""
    lang = request.form.get("lang", "")
    if lang not in LANGUAGES:
        abort(400)
    session["lang"] = lang
    staff = current_staff()
    if staff is not None:
        from console.audit import record

        with services().db.transaction() as s:
            row = s.get(Staff, staff.id)
            if row is not None and row.language != lang:
                record(s, "staff.language", f"staff {row.phone}", {"language": row.language}, {"language": lang})
                row.language = lang
    back = request.form.get("next") or request.referrer or ""
    return redirect(_safe_next(urlparse(back).path if back else None), code=303)
