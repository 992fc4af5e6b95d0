"""Webhook signatures: every /twilio/* request must carry a valid X-Twilio-Signature.

The URL Twilio signed is rebuilt from VOICELINE_PUBLIC_URL rather than taken from the
request, so validation holds behind TLS-terminating proxies that rewrite https to http.
During an auth-token rotation the secondary token is accepted too.
"""

from __future__ import annotations

import logging

from flask import Request, abort, current_app, request
from twilio.request_validator import RequestValidator, get_signature_algorithm

from voiceline.urls import public_url_of_path

log = logging.getLogger(__name__)


def signed_url(req: Request) -> str:
    """Return the URL Twilio signed for ``req``: public base + path + query."""
    query = req.query_string.decode("latin-1")
    return public_url_of_path(req.path) + (f"?{query}" if query else "")


def is_signed(req: Request, tokens: tuple[str, ...]) -> bool:
    """Return True when ``req`` was signed with one of ``tokens``."""
    signature = req.headers.get("X-Twilio-Signature", "")
    if not signature or not tokens:
        return False
    algorithm = get_signature_algorithm(req.headers.get("X-Twilio-Webhooks-Signature-Settings"))
    url = signed_url(req)
    params = req.form if req.method == "POST" else {}
    return any(
        RequestValidator(token).validate(url, params, signature, algorithm) for token in tokens
    )


def require_twilio_signature() -> None:
    """Abort with 403 unless the current request is signed by Twilio."""
    tokens = current_app.config["VOICELINE"].webhook_tokens
    if not is_signed(request, tokens):
        log.warning("refused unsigned or forged webhook %s %s", request.method, request.path)
        abort(403)
