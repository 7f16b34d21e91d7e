"""Africa's Talking USSD: form in, ``CON ``/``END `` text/plain out, never a 500."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request

from groups.phones import try_normalise
from handlers.auth import at_token_ok
from i18n import translator
from menus.home import home
from menus.hop import Hop, Reply

bp = Blueprint("ussd", __name__)
log = logging.getLogger("kassa.ussd")


def _plain(reply: Reply) -> Response:
    return Response(reply.body, status=200, mimetype="text/plain")


@bp.post("/ussd/africastalking")
def africastalking() -> Response:
    services = current_app.extensions["kassa"]
    t = translator(services.config.DEFAULT_LANGUAGE)
    if not at_token_ok():
        return Response("END " + t.gettext("Not allowed."), status=403, mimetype="text/plain")
    form = request.form
    phone = try_normalise(form.get("phoneNumber", ""))  # a '+' decoded to ' ' is restored
    if not form.get("sessionId") or phone is None:
        return _plain(Reply(t.gettext("Sorry, we could not read this request. Please dial again."), end=True))
    hop = Hop(session_id=form["sessionId"], phone=phone, service_code=form.get("serviceCode", ""),
              text=form.get("text", ""), network=form.get("networkCode", ""))
    try:
        with services.db.transaction() as session:
            reply = home(session, hop, services.config.DEFAULT_LANGUAGE)
    except Exception:
        log.exception("ussd hop failed session=%s", hop.session_id)
        reply = Reply(t.gettext("Service busy, please try again in a few minutes."), end=True)
    return _plain(reply)
