"""Requests to the app, made the way Twilio makes them: signed, form-encoded, logged.

``Courier`` is the one place that talks to the app. It signs every request with
``RequestValidator.compute_signature``, keeps an ``Exchange`` per request for assertions,
notes what Twilio's debugger would show as ``errors``, and holds asynchronous callbacks
(status, recording status, AMD, transcription) in an outbox that ``flush`` delivers. The
outbox is where tests make Twilio misbehave: deliver every callback twice, or hold them
and release them in reverse order.

Transports are the I/O seam: ``HttpTransport`` speaks HTTP to a running app;
``WsgiTransport`` calls a WSGI app in-process (no sockets, same signatures and URLs).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import urlencode, urlsplit

import requests
from twilio.request_validator import RequestValidator
from werkzeug.test import Client, EnvironBuilder

from simulator.resources import SimulatorError

TWILIO_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class WebhookAnswer:
    """What the app answered; status 0 means no answer at all (refused, timed out)."""

    status: int
    content: bytes
    content_type: str

    @property
    def body(self) -> str:
        """Return the answer as text."""
        return self.content.decode("utf-8", "replace")


class Transport(Protocol):
    """Carries one request to the app."""

    def send(
        self, method: str, url: str, params: dict[str, str], headers: dict[str, str]
    ) -> WebhookAnswer:
        """Send a request and return the answer."""
        ...


class HttpTransport:
    """Send requests over HTTP with Twilio's 15-second patience."""

    def __init__(self, timeout: float = TWILIO_TIMEOUT_SECONDS) -> None:
        self._session = requests.Session()
        self._timeout = timeout

    def send(
        self, method: str, url: str, params: dict[str, str], headers: dict[str, str]
    ) -> WebhookAnswer:
        """Send a request over HTTP; connection failures become status 0."""
        try:
            if method == "GET":
                answer = self._session.get(url, headers=headers, timeout=self._timeout)
            else:
                answer = self._session.post(
                    url, data=params, headers=headers, timeout=self._timeout
                )
        except requests.RequestException as error:
            return WebhookAnswer(0, str(error).encode(), "")
        content_type = answer.headers.get("Content-Type", "")
        return WebhookAnswer(answer.status_code, answer.content, content_type)

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()


class WsgiTransport:
    """Call a WSGI app directly, as if over HTTP at the URL's host."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self._client = Client(app)

    def send(
        self, method: str, url: str, params: dict[str, str], headers: dict[str, str]
    ) -> WebhookAnswer:
        """Build the request the app would receive at ``url`` and run it."""
        parts = urlsplit(url)
        builder = EnvironBuilder(
            path=parts.path or "/",
            base_url=f"{parts.scheme}://{parts.netloc}",
            query_string=parts.query,
            method=method,
            data=None if method == "GET" else params,
            headers=list(headers.items()),
        )
        try:
            response = self._client.open(builder)
        finally:
            builder.close()
        content = response.get_data()
        response.close()
        return WebhookAnswer(
            response.status_code, content, response.headers.get("Content-Type", "")
        )


@dataclass(frozen=True)
class Exchange:
    """One request the simulator made to the app, and the answer."""

    kind: str
    method: str
    url: str
    params: dict[str, str]
    status: int
    body: str


@dataclass(frozen=True)
class PendingCallback:
    """An asynchronous callback waiting in the outbox."""

    kind: str
    method: str
    url: str
    params: dict[str, str]


class Courier:
    """Sign, send and log every request to the app; hold the asynchronous ones."""

    def __init__(self, transport: Transport, auth_token: str) -> None:
        self.transport = transport
        self.validator = RequestValidator(auth_token)
        self.exchanges: list[Exchange] = []
        self.errors: list[str] = []
        self.duplicate_callbacks = False
        self._outbox: list[PendingCallback] = []
        self._held: list[PendingCallback] = []
        self._is_holding = False

    def signed_headers(self, method: str, url: str, params: dict[str, str]) -> dict[str, str]:
        """Return Twilio's headers, signature included, for a request."""
        signature = self.validator.compute_signature(url, {} if method == "GET" else params)
        return {
            "X-Twilio-Signature": signature,
            "User-Agent": "TwilioProxy/1.1",
            "Accept": "*/*",
        }

    def request(self, kind: str, method: str, url: str, params: dict[str, str]) -> Exchange:
        """Send one signed request now and log it; failures are noted as errors."""
        return self.request_with_content(kind, method, url, params)[0]

    def request_with_content(
        self, kind: str, method: str, url: str, params: dict[str, str]
    ) -> tuple[Exchange, bytes]:
        """Send one signed request now, log it, and also return the raw answer bytes."""
        if method == "GET" and params:
            url = f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"
        headers = self.signed_headers(method, url, params)
        answer = self.transport.send(method, url, params, headers)
        exchange = Exchange(kind, method, url, dict(params), answer.status, answer.body)
        self.exchanges.append(exchange)
        if answer.status == 0:
            self.errors.append(f"11200 HTTP retrieval failure: {method} {url}: {answer.body}")
        elif not 200 <= answer.status < 300:
            self.errors.append(f"11200 {method} {url} ({kind}) answered HTTP {answer.status}")
        return exchange, answer.content

    def fetch_twiml(self, kind: str, method: str, url: str, params: dict[str, str]) -> str | None:
        """Request TwiML; return it, or None when the app failed to answer with a document."""
        exchange = self.request(kind, method, url, params)
        if not 200 <= exchange.status < 300:
            return None
        if not exchange.body.strip():
            self.errors.append(f"12100 empty document from {url} ({kind})")
            return None
        return exchange.body

    def queue(self, kind: str, method: str, url: str, params: dict[str, str]) -> None:
        """Put an asynchronous callback in the outbox (or on hold)."""
        pending = PendingCallback(kind, method, url, dict(params))
        (self._held if self._is_holding else self._outbox).append(pending)

    def flush(self) -> int:
        """Deliver everything in the outbox, oldest first; return how many were sent."""
        sent = 0
        while self._outbox:
            pending = self._outbox.pop(0)
            for _ in range(2 if self.duplicate_callbacks else 1):
                self.request(pending.kind, pending.method, pending.url, pending.params)
                sent += 1
        return sent

    def hold(self) -> None:
        """Keep asynchronous callbacks back until ``release``."""
        self._is_holding = True

    def release(self, order: Literal["fifo", "reverse", "shuffle"] = "fifo", seed: int = 0) -> int:
        """Stop holding; deliver the held callbacks in ``order``; return how many were sent."""
        held, self._held, self._is_holding = self._held, [], False
        if order == "reverse":
            held.reverse()
        elif order == "shuffle":
            random.Random(seed).shuffle(held)
        elif order != "fifo":
            raise SimulatorError(f"order must be fifo, reverse or shuffle, not {order!r}")
        self._outbox.extend(held)
        return self.flush()

    @property
    def pending(self) -> list[PendingCallback]:
        """Return the callbacks not yet delivered (queued and held)."""
        return [*self._outbox, *self._held]

    def sent(self, kind: str | None = None) -> list[Exchange]:
        """Return the exchanges of one kind (all when None), oldest first."""
        return [e for e in self.exchanges if kind is None or e.kind == kind]
