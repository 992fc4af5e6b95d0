"""Web-wide safeguards: the admin session's lifetime, the client's address, HSTS.

Behind a PaaS router every request arrives from the router; ``VOICELINE_TRUSTED_PROXIES``
says how many proxies append to ``X-Forwarded-For``, and werkzeug's ProxyFix takes the
address the outermost trusted one saw. Entries the client wrote itself are never trusted,
so nobody picks the address the login limits count against.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from voiceline.config import Settings

SESSION_LIFETIME = timedelta(hours=12)
HSTS_MAX_AGE = timedelta(days=365)


def install(app: Flask, settings: Settings) -> None:
    """Read client addresses through the trusted proxies; send HSTS on an https site."""
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
