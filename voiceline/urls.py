"""The one place that builds callback URLs Twilio will call, from VOICELINE_PUBLIC_URL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

UrlFor = Callable[..., str]


def public_url(endpoint: str, app: Flask | None = None, **values: Any) -> str:
    """Return the absolute public URL of ``endpoint``; query values that are None are dropped."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    values = {k: v for k, v in values.items() if v is not None}
    path = app.url_map.bind("localhost").build(endpoint, values)
    base: str = app.config["VOICELINE"].public_url
    return base + path


def url_builder(app: Flask) -> UrlFor:
    """Return ``url_for(endpoint, **values)`` bound to ``app``, usable from any thread."""

    def url_for(endpoint: str, **values: Any) -> str:
        return public_url(endpoint, app, **values)

    return url_for


def public_url_of_path(path: str) -> str:
    """Return the absolute public URL of a request path such as ``/twilio/voice``."""
    base: str = current_app.config["VOICELINE"].public_url
    return base + path
