"""The one place that builds callback URLs Twilio will call, from VOICELINE_PUBLIC_URL."""

from __future__ import annotations

from typing import Any

from flask import current_app


def public_url(endpoint: str, **values: Any) -> str:
    """Return the absolute public URL of ``endpoint`` (needs an app context)."""
    adapter = current_app.url_map.bind("localhost")
    return public_url_of_path(adapter.build(endpoint, values))


def public_url_of_path(path: str) -> str:
    """Return the absolute public URL of a request path such as ``/twilio/voice``."""
    base: str = current_app.config["VOICELINE"].public_url
    return base + path
