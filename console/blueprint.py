"""The console's Blueprint and the extensions its views use (CSRF, the login's rate limit).

Apart from ``console/__init__.py`` (which wires them into the app) so that the
view modules import them without importing the package that imports them.
"""
from __future__ import annotations

from flask import Blueprint
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect


class _Console(Blueprint):
    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """A versioned asset (``?v=<mtime>``, see ``asset()`` in templates) is cached for a year:
        on a slow link a page costs no request for its CSS and script."""
        from flask import request

        return 365 * 24 * 3600 if request.args.get("v") else None


bp = _Console("console", __name__, url_prefix="/console", template_folder="templates",
              static_folder="static", static_url_path="/static")

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[], key_prefix="kassa:limit",
                  strategy="fixed-window")


@limiter.request_filter
def _outside_the_console() -> bool:
    """Only the console's login is limited: USSD hops and webhooks skip the limiter's work."""
    from flask import request

    return request.blueprint != "console"
