"""Africa's Talking through its official SDK (``SMSService.send``).

A 2xx answer can still carry a failed recipient, so each recipient's
``statusCode`` is looked up in :data:`STATUS_CODES`; an HTTP error or a network
failure is transient.

One text to many recipients is one request (``to`` is comma-separated; at most
``max_recipients``, each number once per request), and each recipient's status
is read on its own. The SDK posts with ``requests.post`` (a new connection per
message); :class:`KeepAliveSMS` sends the SDK's own request through one pooled
``requests.Session`` instead, keeping the SDK's answer rules (see
``africastalking/Service.py``: JSON only for an exact ``application/json``,
``AfricasTalkingException`` for a non-2xx).
"""
from __future__ import annotations

import json
from typing import Any

import requests
from africastalking.Service import DEFAULT_TIMEOUT_S, AfricasTalkingException, validate_phone
from africastalking.SMS import SMSService

from providers.base import Outgoing, Result, SendError, Sent, http_session

NAME = "africastalking"
OK, TRANSIENT, PERMANENT = "ok", "transient", "permanent"

#: Per-recipient statusCode (AT SMS docs) -> what it means for us.
STATUS_CODES: dict[int, str] = {
    100: OK,  # Processed
    101: OK,  # Sent
    102: OK,  # Queued
    401: TRANSIENT,  # RiskHold: held for review, may pass later
    402: PERMANENT,  # InvalidSenderId
    403: PERMANENT,  # InvalidPhoneNumber
    404: PERMANENT,  # UnsupportedNumberType
    405: TRANSIENT,  # InsufficientBalance: fine once topped up
    406: PERMANENT,  # UserInBlacklist (opted out)
    407: TRANSIENT,  # CouldNotRoute
    409: PERMANENT,  # DoNotDisturbRejection
    500: TRANSIENT,  # InternalServerError
    501: TRANSIENT,  # GatewayError
    502: TRANSIENT,  # RejectedByGateway
}


class KeepAliveSMS(SMSService):  # type: ignore[misc]  # the SDK ships no types
    """The SDK's SMS service, its POSTs sent through one keep-alive session."""

    def __init__(self, username: str, api_key: str, session: requests.Session,
                 base_url: str | None = None) -> None:
        super().__init__(username, api_key)
        self.http = session
        if base_url:  # a local stub (benchmarks): same paths, another host
            self._baseUrl = base_url.rstrip("/") + "/version1"

    def _make_request(self, url: str, method: str, headers: dict[str, str], data: Any, params: Any,
                      callback: Any = None, timeout: Any = DEFAULT_TIMEOUT_S) -> Any:
        if method.upper() != "POST" or callback is not None:
            return super()._make_request(url, method, headers, data, params, callback, timeout)
        res = self.http.post(url=url, headers=headers, params=params, data=data, timeout=timeout)
        if 200 <= res.status_code < 300:
            return res.json() if res.headers.get("content-type") == "application/json" else res.text
        raise AfricasTalkingException(res.text)


class AfricasTalkingChannel:
    name = NAME
    parallel = True

    def __init__(self, username: str, api_key: str, sender_id: str | None = None, *,
                 base_url: str | None = None, pool: int = 8, max_recipients: int = 500) -> None:
        self.sms = KeepAliveSMS(username, api_key, http_session(pool), base_url)  # not the SDK's globals
        self.sender_id = sender_id or None
        self.account = username
        self.max_recipients = max_recipients

    def send(self, msg: Outgoing) -> Sent:
        [result] = self.send_group([msg])
        if isinstance(result, SendError):
            raise result
        return result

    def group(self, msgs: list[Outgoing]) -> list[list[Outgoing]]:
        """Messages with the same text (and queueing) to distinct numbers, chunked: one request each."""
        open_chunks: dict[tuple[str, bool], tuple[list[Outgoing], set[str]]] = {}
        out: list[list[Outgoing]] = []
        for m in msgs:
            chunk, numbers = open_chunks.get((m.text, m.bulk), (None, set()))
            if chunk is None or len(chunk) >= self.max_recipients or m.to in numbers:
                chunk, numbers = [], set()
                open_chunks[(m.text, m.bulk)] = (chunk, numbers)
                out.append(chunk)
            chunk.append(m)
            numbers.add(m.to)
        return out

    def send_group(self, msgs: list[Outgoing]) -> list[Result]:
        """One request for ``msgs`` (one text); each recipient's status read on its own."""
        results: dict[int, Result] = {}
        valid: list[Outgoing] = []
        for m in msgs:  # the SDK refuses the whole request for one malformed number: refuse that one only
            if validate_phone(m.to):
                valid.append(m)
            else:
                results[m.outbox_id] = SendError(NAME, "invalid_number", f"Invalid phone number: {m.to}",
                                                 permanent=True)
        if valid:
            results.update(self._request(valid))
        return [results[m.outbox_id] for m in msgs]

    def _request(self, msgs: list[Outgoing]) -> dict[int, Result]:
        try:
            answer = self.sms.send(msgs[0].text, [m.to for m in msgs], sender_id=self.sender_id,
                                   enqueue=msgs[0].bulk)
            data = _as_dict(answer)
        except ValueError as exc:  # the SDK refuses a malformed number before any HTTP
            error = SendError(NAME, "invalid_number", str(exc), permanent=True)
            return {m.outbox_id: error for m in msgs}
        except (AfricasTalkingException, requests.RequestException) as exc:
            error = SendError(NAME, "http", str(exc)[:200], permanent=False)
            return {m.outbox_id: error for m in msgs}
        except SendError as exc:
            return {m.outbox_id: exc for m in msgs}
        recipients = (data.get("SMSMessageData") or {}).get("Recipients") or []
        by_number = {str(r.get("number", "")): r for r in recipients}
        if len(msgs) == 1 and len(recipients) == 1:
            by_number = {msgs[0].to: recipients[0]}
        message = str((data.get("SMSMessageData") or {}).get("Message", "no recipient in answer"))[:200]
        return {m.outbox_id: _recipient_result(by_number.get(m.to), message) for m in msgs}


def _as_dict(answer: Any) -> dict[str, Any]:
    """The SDK returns a dict only for an exact ``application/json`` answer, else text."""
    data = answer
    if not isinstance(data, dict):
        try:
            data = json.loads(answer)
        except (TypeError, ValueError):
            data = None
    if not isinstance(data, dict):
        raise SendError(NAME, "bad_answer", str(answer)[:200], permanent=False)
    return data


def _recipient_result(recipient: dict[str, Any] | None, message: str) -> Result:
    """One recipient's entry of the answer -> Sent, or the SendError its statusCode means."""
    if recipient is None:
        return SendError(NAME, "no_recipient", message, permanent=False)
    code = int(recipient.get("statusCode", 0))
    verdict = STATUS_CODES.get(code, TRANSIENT if code >= 500 else PERMANENT)
    if verdict != OK:
        return SendError(NAME, str(code), str(recipient.get("status", "")), permanent=verdict == PERMANENT)
    return Sent(provider=NAME, provider_id=str(recipient["messageId"]))
