"""Webhook signatures: every /twilio/* request must carry a valid X-Twilio-Signature.

Twilio signs the URL exactly as it requested it. Its scheme and host are rebuilt from
VOICELINE_PUBLIC_URL rather than taken from the request, so validation holds behind
TLS-terminating proxies that rewrite https to http; its path is taken from the request
target as it arrived (``RAW_URI``/``REQUEST_URI``), because the server has already
percent-decoded ``request.path`` and ``%2F``, ``%20`` or ``%C3%A9`` no longer read as
Twilio signed them. During an auth-token rotation the secondary token is accepted too.
"""

from __future__ import annotations

import logging
from urllib.parse import quote, unquote, urlsplit

from flask import Request, abort, current_app, request
from twilio.request_validator import RequestValidator, get_signature_algorithm

from voiceline.urls import public_url_of_path

log = logging.getLogger(__name__)


# werkzeug's encoding of a path segment, which builds every callback URL we hand out.
PATH_SAFE = "!$&'()*+,/:;=@"


def requested_path(req: Request) -> str:
    """Return the path below the mount point as the client wrote it, percent-encoding kept."""
    raw = req.environ.get("RAW_URI") or req.environ.get("REQUEST_URI") or ""
    target = raw.partition("?")[0]
    if target.startswith(("http://", "https://")):
        target = urlsplit(target).path  # a request target in absolute form
    if target and unquote(target) == req.path:
        return target
    root = req.root_path
    if target and root and unquote(target) == root + req.path:
        # The mount point (no encoded slash in it) is part of the public base URL.
        below = "/" + target.split("/", root.count("/") + 1)[-1]
        if unquote(below) == req.path:
            return below
    # No raw target from this server (or one that disagrees with the path it routed):
    # encode the path as our URLs are encoded, which is what Twilio was given.
    return quote(req.path, safe=PATH_SAFE)


def signed_url(req: Request) -> str:
    """Return the URL Twilio signed for ``req``: public base + path + query, as requested."""
    query = req.query_string.decode("latin-1")
    return public_url_of_path(requested_path(req)) + (f"?{query}" if query else "")


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
