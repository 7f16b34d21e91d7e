"""``GET /``: a short landing page, so the address ``make run`` prints answers.

What runs here (the endpoints), the demo phones to try and, once the web
console is part of the app, a link to it. In the visitor's language
(``?lang=sw``, else her browser's Accept-Language), through the catalogs.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template_string, request
from flask.typing import ResponseReturnValue

from demo.groups import demo_people
from i18n import LANGUAGES, translator
from services import current

bp = Blueprint("home", __name__)

PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kassa</title>
<style>
body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse}td,th{padding:.25rem .75rem;text-align:left;border-bottom:1px solid #ddd}
code{background:#f4f4f4;padding:0 .2rem}nav a{margin-right:.5rem}
</style></head><body>
<nav>{% for code, name in languages %}<a href="?lang={{ code }}" hreflang="{{ code }}">{{ name }}</a>{% endfor %}</nav>
<h1>{{ w.title }}</h1>
<p>{{ w.intro }}</p>
{% if console %}<p><a id="console" href="{{ console }}">{{ w.console }}</a></p>{% endif %}
{% if simulator %}<p><a id="simulator" href="{{ simulator }}">{{ w.simulator }}</a></p>{% endif %}
<h2>{{ w.endpoints }}</h2>
<table id="endpoints">{% for method, path, what in endpoints %}
<tr><td><code>{{ method }} {{ path }}</code></td><td>{{ what }}</td></tr>{% endfor %}
</table>
<h2>{{ w.phones }}</h2>
{% if people %}<table id="phones"><tr><th>{{ w.phone }}</th><th>{{ w.name }}</th>
<th>{{ w.role }}</th><th>{{ w.group }}</th></tr>
{% for phone, name, group, role in people %}<tr><td><code>{{ phone }}</code></td><td>{{ name }}</td>
<td>{{ roles.get(role, role) }}</td><td>{{ group }}</td></tr>{% endfor %}</table>
{% else %}<p>{{ w.no_demo }}</p>{% endif %}
<h2>{{ w.try_it }}</h2>
<pre>curl -d phoneNumber={{ example | replace("+", "%2B") }} -d sessionId=s1 -d serviceCode='{{ code }}' -d text= {{ base }}ussd/africastalking
.venv/bin/flask ussd {{ example }} --url {{ base }}</pre>
</body></html>
"""


def simulator_url() -> str | None:
    """The phone simulator's address (staff log in first) when the console has one."""
    adapter = current_app.url_map.bind("localhost")
    return "/console/simulator" if adapter.test("/console/simulator", method="GET") else None


def console_url() -> str | None:
    """The web console's address when the app has one (``/console/``), else None."""
    adapter = current_app.url_map.bind("localhost")
    return "/console/" if adapter.test("/console/", method="GET") else None


@bp.get("/")
def index() -> ResponseReturnValue:
    services = current()
    lang = request.args.get("lang") or request.accept_languages.best_match(list(LANGUAGES)) or "en"
    t = translator(lang)
    with services.db.transaction() as session:
        people = demo_people(session)
    roles = {"member": t.pgettext("role", "member"), "treasurer": t.pgettext("role", "treasurer"),
             "chair": t.pgettext("role", "chair"), "secretary": t.pgettext("role", "secretary"),
             "coordinator": t.pgettext("role", "coordinator")}
    w = {
        "title": t.gettext("Kassa is running"),
        "intro": t.gettext("Kassa is an SMS and USSD service for savings groups. "
                           "Try it with the demo phones below."),
        "console": t.gettext("Open the web console"),
        # TRANSLATORS: a link on the landing page; staff log in first.
        "simulator": t.gettext("Try the phone simulator (USSD and SMS on a drawn phone)"),
        # TRANSLATORS: a heading on the web page: the web addresses Kassa answers at.
        "endpoints": t.gettext("Endpoints"),
        "phones": t.gettext("Demo phones"),
        "phone": t.gettext("Phone"),
        "name": t.gettext("Name"),
        "role": t.gettext("Role"),
        "group": t.gettext("Group"),
        # TRANSLATORS: "flask demo" is a command, keep it as it is.
        "no_demo": t.gettext("No demo data yet: run flask demo."),
        "try_it": t.gettext("Try it from a terminal"),
    }
    endpoints = [
        ("POST", "/ussd/africastalking", t.gettext("USSD menu (Africa's Talking)")),
        ("POST", "/sms/africastalking", t.gettext("Incoming SMS (Africa's Talking)")),
        ("POST", "/sms/twilio", t.gettext("Incoming SMS (Twilio)")),
        ("POST", "/sms/africastalking/delivery", t.gettext("Delivery reports (Africa's Talking)")),
        ("POST", "/sms/twilio/status", t.gettext("Delivery reports (Twilio)")),
        ("GET", "/health", t.gettext("Is the web process alive")),
        ("GET", "/ready", t.gettext("Are the database and Redis reachable (names the one that is down)")),
        ("GET", "/metrics", t.gettext("Metrics for Prometheus")),
    ]
    example = next((p[0] for p in people if p[3] == "member"), "+254712000003")
    return render_template_string(PAGE, w=w, lang=t.lang, languages=list(LANGUAGES.items()), people=people,
                                  roles=roles, endpoints=endpoints, console=console_url(), example=example,
                                  simulator=simulator_url(),
                                  code=services.config.USSD_SERVICE_CODE, base=request.host_url)
