"""The one place that builds the URLs Twilio will call, from VOICELINE_PUBLIC_URL.

``CALLBACK_RULES`` names every URL that Twilio (or a phone) is sent to. The webhook
views are routed by these same rules, and ``callback_urls`` builds them with a plain
werkzeug map, so the worker builds the same URLs as the web app without a Flask app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from werkzeug.routing import IntegerConverter, Map, Rule

UrlFor = Callable[..., str]

MAX_ROW_ID = 2**31 - 1  # PostgreSQL's integer: the widest id any of our rows can have


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in our URLs: a row id in ASCII digits that a column can hold, else 404.

    werkzeug's own accepts any Unicode digit (``²``) and any size, which reach the
    database as an overflow (a 500) instead of "no such row".
    """

    regex = r"[0-9]{1,10}"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


class PagedIdConverter(IntegerConverter):
    """An incident number in a URL Twilio calls back on: any size, so the view answers it.

    A 404 would make an analyst answering a stale page hear Twilio's "application error";
    the page views answer a number past any row themselves ("no longer valid", 204).
    """

    regex = r"[0-9]{1,30}"


CONVERTERS = {"int": RowIdConverter, "paged_id": PagedIdConverter}


TWILIO_PREFIX = "/twilio"
# endpoint -> rule; the ``twilio.*`` rules are under TWILIO_PREFIX.
CALLBACK_RULES: dict[str, str] = {
    "twilio.incoming_call": "/voice",
    "twilio.voice_fallback": "/voice/fallback",
    "twilio.menu": "/voice/menu",
    "twilio.recorded": "/voice/recorded",
    "twilio.no_message": "/voice/no-message",
    "twilio.desk_result": "/voice/desk",
    "twilio.recording_status": "/recording",
    "twilio.call_status": "/status/call",
    "twilio.transcription": "/transcription",
    "twilio.incoming_sms": "/sms",
    "twilio.page_call": "/page/<paged_id:incident_id>/<page_key>",
    "twilio.page_keys": "/page/<paged_id:incident_id>/<page_key>/keys",
    "twilio.page_bridge": "/page/<paged_id:incident_id>/<page_key>/bridge",
    "twilio.page_amd": "/page/<paged_id:incident_id>/<page_key>/amd",
    "twilio.page_bundle_bridge": "/page/<paged_id:incident_id>/<page_key>/bundle-bridge",
    "twilio.page_status": "/status/page/<paged_id:incident_id>/<page_key>",
    "twilio.bridge_status": "/status/bridge/<paged_id:incident_id>/<page_key>",
    "twilio.test_page_call": "/test-page",
    "twilio.test_page_status": "/status/test-page",
    "media.recording": "/recordings/<int:recording_id>",
}
MEDIA_PREFIX = "/media"


def rule(endpoint: str) -> str:
    """Return the blueprint-relative rule of a callback ``endpoint``."""
    return CALLBACK_RULES[endpoint]


def _full_rule(endpoint: str) -> str:
    prefix = TWILIO_PREFIX if endpoint.startswith("twilio.") else MEDIA_PREFIX
    return prefix + CALLBACK_RULES[endpoint]


_CALLBACK_MAP = Map(
    [Rule(_full_rule(e), endpoint=e, methods=["POST", "GET"]) for e in CALLBACK_RULES],
    converters=CONVERTERS,
)


def callback_urls(base: str) -> UrlFor:
    """Return ``url_for(endpoint, **values)`` for the callback URLs under ``base``."""
    adapter = _CALLBACK_MAP.bind("localhost")
    base = base.rstrip("/")

    def url_for(endpoint: str, **values: Any) -> str:
        values = {k: v for k, v in values.items() if v is not None}
        return base + adapter.build(endpoint, values)

    return url_for


def public_url(endpoint: str, app: Flask | None = None, **values: Any) -> str:
    """Return the absolute public URL of any of the app's endpoints (None values dropped)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    values = {k: v for k, v in values.items() if v is not None}
    path = app.url_map.bind("localhost").build(endpoint, values)
    base: str = app.config["VOICELINE"].public_url
    return base + path


def public_url_of_path(path: str) -> str:
    """Return the absolute public URL of a request path such as ``/twilio/voice``."""
    base: str = current_app.config["VOICELINE"].public_url
    return base + path
