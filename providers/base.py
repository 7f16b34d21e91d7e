"""The seam every provider sits behind: neutral values in, neutral values out.

Outbound, a provider's channel takes one :class:`Outgoing` message and either
returns a :class:`Sent` (the provider accepted it) or raises :class:`SendError`
saying whether trying again could help (``permanent``). For bulk sending a
channel also says how messages share one provider request (:meth:`Channel.group`:
Africa's Talking takes one text to many recipients) and sends one such request,
answering for each message on its own (:meth:`Channel.send_group`). A channel is
built once per process and used from several threads.

Inbound, a provider turns its webhook form into an :class:`Inbound` SMS, a
:class:`DeliveryReport` or a :class:`UssdRequest`, and says how to answer
(:class:`Answer`); the handlers do the HTTP and call one neutral function.
A provider's whole description is one :class:`Provider` (see ``registry``).
"""
from __future__ import annotations

import enum
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import requests
    from werkzeug.wrappers import Request

    from config import Config

#: A webhook's form fields (werkzeug's MultiDict is one).
Form = Mapping[str, str]


# ---- outbound -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outgoing:
    outbox_id: int
    to: str  # E.164
    text: str
    bulk: bool = False  # broadcasts: the provider may queue them
    language: str = ""  # the outbox row's language (the console shows it)


@dataclass(frozen=True)
class Sent:
    provider: str
    provider_id: str
    delivered: bool = False  # the console "delivers" at once


class SendError(Exception):
    """The provider did not take the message. ``permanent``: never retry it."""

    def __init__(self, provider: str, code: str, detail: str, *, permanent: bool) -> None:
        super().__init__(f"{provider} {code}: {detail}")
        self.provider = provider
        self.code = code
        self.detail = detail
        self.permanent = permanent


Result = Sent | SendError


class Channel(Protocol):
    name: str
    account: str  # the provider account: the rate limit is per account

    def send(self, msg: Outgoing) -> Sent: ...

    def group(self, msgs: list[Outgoing]) -> list[list[Outgoing]]: ...

    def send_group(self, msgs: list[Outgoing]) -> list[Result]: ...


def one_by_one(msgs: list[Outgoing]) -> list[list[Outgoing]]:
    """``Channel.group`` for providers that take one message per request."""
    return [[m] for m in msgs]


def send_each(channel: Channel, msgs: list[Outgoing]) -> list[Result]:
    """``Channel.send_group`` from ``send``: one answer per message, errors included."""
    out: list[Result] = []
    for m in msgs:
        try:
            out.append(channel.send(m))
        except SendError as exc:
            out.append(exc)
    return out


def http_session(pool: int) -> requests.Session:
    """A requests Session keeping ``pool`` connections alive per host (http and https)."""
    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    # With trust_env, requests reads every variable of os.environ (proxies, CA bundle, ~/.netrc)
    # on EVERY request: 12 % of a worker's CPU per SMS (bench/delivery_profile.py). Read the
    # environment once, here; keep trust_env only when it names a proxy (no_proxy is per URL).
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle:
        session.verify = ca_bundle
    session.trust_env = any(k.lower().endswith("_proxy") for k in os.environ)
    for prefix in ("http://", "https://"):
        session.mount(prefix, HTTPAdapter(pool_connections=4, pool_maxsize=pool))
    return session


# ---- inbound ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Inbound:
    """One SMS as any provider delivers it, in neutral terms."""

    provider: str
    message_id: str
    phone: str  # as the provider wrote it
    text: str
    to: str = ""


class Delivery(str, enum.Enum):
    """What a delivery report says became of a message (the outbox statuses of the same names)."""

    SENT = "sent"  # on its way (left the provider, at the operator, queued)
    DELIVERED = "delivered"  # final: reached the handset
    FAILED = "failed"  # final: the provider or network gave up
    REJECTED = "rejected"  # final: never send this again (opt-out, invalid number)


@dataclass(frozen=True)
class DeliveryReport:
    """A provider's word on one message it took (``provider_id`` is the id its send answer gave)."""

    provider: str
    provider_id: str
    status: Delivery
    error: str | None = None


@dataclass(frozen=True)
class UssdRequest:
    """One USSD hop as the gateway posts it (the phone as written; the handler normalises it)."""

    session_id: str
    phone: str
    service_code: str
    text: str  # everything typed so far, joined by '*'
    network: str = ""


@dataclass(frozen=True)
class UssdEnded:
    """A gateway's end-of-session notice: a log record only, never proof of anything."""

    session_id: str
    status: str
    hops: str
    millis: str
    input: str
    error: str


@dataclass(frozen=True)
class Answer:
    """What a webhook answers: the body, its status and its type."""

    body: str
    status: int = 200
    mimetype: str = "text/plain"


# ---- a provider, whole --------------------------------------------------------------------------

#: Does this request come from the provider? (a token, a signature; the configuration holds the secret)
Authenticate = Callable[["Request", "Config"], bool]


def anyone(_request: Request, _config: Config) -> bool:
    """``Provider.authentic`` for a provider that posts nothing to Kassa."""
    return True


@dataclass(frozen=True)
class SmsWebhooks:
    """A provider's inbound SMS and delivery report endpoints (paths are HTTP contracts)."""

    inbound_path: str
    parse_inbound: Callable[[Form], Inbound | None]  # None: malformed (answered ``malformed``, 400)
    stored: Callable[[], Answer]  # the answer once the SMS is stored (or was already)
    malformed: str  # the 400 body naming the required fields
    report_path: str | None = None
    parse_report: Callable[[Form], DeliveryReport | None] | None = None  # None: malformed or unknown status


@dataclass(frozen=True)
class UssdWebhooks:
    """A USSD gateway's endpoints: the hop (answered with ``answer``) and its end-of-session notice."""

    path: str
    parse: Callable[[Form], UssdRequest | None]  # None: no session id or no phone number
    answer: Callable[[str, bool], str]  # (screen text, session ends) -> the gateway's body
    events_path: str | None = None
    parse_ended: Callable[[Form], UssdEnded] | None = None
    mimetype: str = "text/plain"  # of ``answer``'s body


@dataclass(frozen=True)
class Provider:
    """Everything Kassa knows of one provider; the registry lists them by ``name`` (``SMS_BACKEND``).

    ``keys`` are the configuration variables the provider reads (``Config.setting``);
    ``needs(config)`` the ones production must have given, for this configuration;
    ``channel(config)`` builds its sending channel (its SDK is imported then, not before).
    """

    name: str
    channel: Callable[[Config], Channel]
    keys: tuple[str, ...] = ()
    needs: Callable[[Config], list[str]] = lambda _config: []
    authentic: Authenticate = anyone
    refused: str = "forbidden"  # the 403 body of a request that is not the provider's
    sms: SmsWebhooks | None = None
    ussd: UssdWebhooks | None = None
    for_production: bool = True  # False: production refuses it as SMS_BACKEND
