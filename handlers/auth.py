"""Webhook authentication: each provider says how its requests prove themselves
(``Provider.authentic``: Africa's Talking's ``?token=``, Twilio's signature); this asks it.
And each provider endpoint's view function."""
from __future__ import annotations

from collections.abc import Callable

from flask import Response, current_app, request

from providers import Provider


def authentic(provider: Provider) -> bool:
    """Does the request being handled come from ``provider``?"""
    return provider.authentic(request, current_app.extensions["kassa"].config)


def view(handle: Callable[[Provider], Response], provider: Provider, name: str) -> Callable[[], Response]:
    """The view function of one provider's endpoint (a real function, named: extensions key on it)."""

    def endpoint() -> Response:
        return handle(provider)

    endpoint.__name__ = endpoint.__qualname__ = name
    return endpoint
