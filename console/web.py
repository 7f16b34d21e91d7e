"""What every console page shares: the staff member's language, the template helpers,
the CSRF check and the error pages."""
from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from flask import current_app, g, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError

from console.blueprint import bp, csrf
from i18n import LANGUAGES, N_, Translator, normalise_language, translator
from services import current as services

__all__ = ["services"]  # console modules take the request's Services from here

#: The main navigation: (endpoint, label msgid, role or None). Missing endpoints are left out.
NAV = [
    ("console.dashboard", N_("Dashboard"), None),
    ("console.groups", N_("Groups"), None),
    ("console.broadcasts", N_("Announcements"), None),
    ("console.projects", N_("Projects"), "admin"),
    ("console.places", N_("Places"), "admin"),
    ("console.centres", N_("Centres"), "admin"),
    ("console.organisations", N_("Organisations"), "admin"),
    ("console.visits", N_("Visits"), None),
    ("console.referrals", N_("Referrals"), None),
    ("console.field_workers", N_("Field staff"), "admin"),
    ("console.visit_plans", N_("Visit plans"), "admin"),
    ("console.lenders", N_("Lenders"), "admin"),
    ("console.staff_list", N_("Staff"), "admin"),
    ("console.audit_log", N_("Audit log"), "admin"),
]


def language() -> str:
    """The staff member's language, else the one picked on the login page, else the browser's."""
    staff = getattr(g, "staff", None)
    if staff is not None:
        return normalise_language(staff.language)
    chosen = session.get("lang")
    if isinstance(chosen, str) and chosen in LANGUAGES:
        return chosen
    return normalise_language(request.accept_languages.best_match(list(LANGUAGES)))


def tr() -> Translator:
    """The :class:`i18n.Translator` of this request."""
    t: Translator | None = g.get("console_t")
    if t is None:
        t = g.console_t = translator(language())
    return t


def _(message: str, **params: object) -> str:
    return tr().gettext(message, **params)


@bp.before_request
def _csrf_on_every_form() -> None:
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()


@bp.app_template_filter("money")
def _money(minor: int | str | None, currency: str) -> str:
    if isinstance(minor, str):  # a masked figure ("<5", "–"): shown as it is
        return minor
    return tr().money(int(minor or 0), currency)


@bp.app_template_filter("number")
def _number(n: int | str | None) -> str:
    if isinstance(n, str):  # a masked count ("<5", "–"): shown as it is
        return n
    return tr().number(int(n or 0))


def nav_items() -> list[tuple[str, str]]:
    staff = getattr(g, "staff", None)
    if staff is None:
        return []
    views = current_app.view_functions
    return [(endpoint, tr().gettext(label)) for endpoint, label, role in NAV
            if endpoint in views and (role is None or staff.role.value == role)]


def url_maker(endpoint: str, **fixed: object) -> Callable[[int], str]:
    """``url_for(endpoint, **fixed, key=value)`` for many values of one integer path argument:
    the URL is built once with a marker, then the marker replaced (url_for per table row costs)."""
    (key,) = [k for k, v in fixed.items() if v is None]
    marker = "987654321987"
    values: dict[str, Any] = {**fixed, key: int(marker)}
    head, _sep, tail = url_for(endpoint, **values).partition(marker)
    return lambda value: f"{head}{int(value)}{tail}"


@functools.cache
def _mtime(path: str) -> int:
    try:
        return int(os.path.getmtime(path))
    except OSError:
        return 0


def asset(filename: str) -> str:
    """The URL of a static file, versioned by its modification time (so it can be cached for long)."""
    return url_for("console.static", filename=filename, v=_mtime(os.path.join(bp.static_folder or "", filename)))


@bp.context_processor
def _helpers() -> dict[str, Any]:
    t = tr()
    return {"nav_items": nav_items, "asset": asset, "_": t.gettext, "gettext": t.gettext, "ngettext": t.ngettext, "pgettext": t.pgettext,
            "t": t, "lang": t.lang, "LANGUAGES": LANGUAGES, "staff": getattr(g, "staff", None)}


def page_error(status: int, title: str, text: str) -> tuple[str, int]:
    return render_template("console/error.html", title=title, text=text), status


@bp.errorhandler(CSRFError)
def _csrf_error(_exc: CSRFError) -> ResponseReturnValue:
    return page_error(400, _("The form has expired"),
                      _("This form was not accepted. Go back, reload the page and try again."))


@bp.errorhandler(404)
def _not_found(_exc: Exception) -> ResponseReturnValue:
    return page_error(404, _("Not found"), _("There is no such page, or it is not yours to see."))
