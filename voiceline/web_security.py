"""Web-wide safeguards: the admin session's lifetime, the client's address, HSTS, NULs.

Behind a PaaS router every request arrives from the router; ``VOICELINE_TRUSTED_PROXIES``
says how many proxies append to ``X-Forwarded-For``, and werkzeug's ProxyFix takes the
address the outermost trusted one saw. Entries the client wrote itself are never trusted,
so nobody picks the address the login limits count against.

A NUL character is text no PostgreSQL column can hold (nor be compared with), while SQLite
stores it: an admin URL, field name or value holding one is refused with 400 before any
view runs, the same on both. (Twilio's parameters are cleaned where they are read.)

Twilio's requests carry no cookie and no view under ``/twilio`` reads or writes the
session, so none is built for them: they get Flask's null session, which refuses writes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, Request, Response, abort, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from voiceline.config import Settings
from voiceline.urls import TWILIO_PREFIX

SESSION_LIFETIME = timedelta(hours=12)
HSTS_MAX_AGE = timedelta(days=365)


class _NoSessionForTwilio(SecureCookieSessionInterface):
    """The signed-cookie session for people; none for Twilio's webhooks."""

    def open_session(self, app: Flask, request: Request) -> Any:
        if request.path.startswith(TWILIO_PREFIX + "/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def install(app: Flask, settings: Settings) -> None:
    """Read client addresses through the trusted proxies; send HSTS on an https site."""
    app.session_interface = _NoSessionForTwilio()

    @app.before_request
    def _refuse_nul() -> None:
        if request.path.startswith("/admin") and _holds_nul():
            abort(400, "Text may not contain NUL characters.")

    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies
        )
    if settings.public_url.startswith("https://"):
        # Not includeSubDomains: the public URL may be an apex whose other hosts are not ours.
        hsts = f"max-age={int(HSTS_MAX_AGE.total_seconds())}"

        @app.after_request
        def _strict_transport(response: Response) -> Response:
            response.headers.setdefault("Strict-Transport-Security", hsts)
            return response


def _holds_nul() -> bool:
    """Return True if the request's path, query or form holds a NUL character."""
    if "\x00" in request.path:
        return True
    return any("\x00" in k or "\x00" in v for k, v in request.values.items(multi=True))
