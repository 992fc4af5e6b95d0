"""Twilio's side of a drill: the built-in simulator, misbehaving the ways Twilio can.

- ``TwilioSide``: a ``Simulator`` routed to the app over HTTP, pumped from a thread the
  way Twilio delivers on its own time, optionally behind a ``FaultProxy``;
- ``FaultProxy``: an HTTP proxy in front of the simulator's REST API that answers some
  create requests with 500, 429, 21211 or 21610 instead of passing them on, or passes
  them on and answers after the client gave up (a timeout whose message went out);
- ``FallbackTransport``: what the number's Voice *fallback* URL does on Twilio: when the
  primary URL fails (no answer, 5xx), the same call is requested from the fallback URL
  with ``ErrorCode`` and ``ErrorUrl``;
- ``TwiceTransport``: every webhook and callback sent twice, at the same time;
- ``FailingSmsSimulator``: a simulator whose carrier reports some texts undelivered or
  failed by status callback.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
from twilio.request_validator import RequestValidator
from werkzeug.wrappers import Request, Response

from simulator.engine import Simulator
from simulator.resources import ApiError
from simulator.serving import BackgroundServer
from simulator.webhooks import HttpTransport, Transport, WebhookAnswer
from tests.e2e_stack import ACCOUNT_SID, AUTH_TOKEN, LINE

PAGE_STATUS = re.compile(r"/twilio/status/page/(?P<incident>\d+)/(?P<key>[^/?]+)")
FALLBACK_PATH = "/twilio/voice/fallback"
CLIENT_TIMEOUT_SECONDS = 10.0  # voiceline.telephony's REST timeout


def page_of(callback: str | None) -> tuple[int, str] | None:
    """Return the incident and page key a page's status-callback URL names."""
    found = PAGE_STATUS.search(callback or "")
    return (int(found["incident"]), found["key"]) if found else None


def attempt_of(key: str) -> int:
    """Return the attempt number at the end of a page key (``0.0.alex.sms.2`` -> 2)."""
    tail = key.rsplit(".", 1)[-1]
    return int(tail) if tail.isdigit() else 1


class FallbackTransport:
    """Request the Voice fallback URL when the Voice URL fails, as Twilio does."""

    def __init__(self, inner: Transport, app_url: str) -> None:
        self.inner = inner
        self.voice_url = f"{app_url}/twilio/voice"
        self.fallback_url = f"{app_url}{FALLBACK_PATH}"
        self.validator = RequestValidator(AUTH_TOKEN)
        self.fallbacks = 0
        self._lock = threading.Lock()

    def send(
        self, method: str, url: str, params: dict[str, str], headers: dict[str, str]
    ) -> WebhookAnswer:
        """Send; on a failed first request of a call, try the fallback URL."""
        answer = self.inner.send(method, url, params, headers)
        if url != self.voice_url or (answer.status != 0 and answer.status < 500):
            return answer
        with self._lock:
            self.fallbacks += 1
        retry = dict(params, ErrorCode="11200", ErrorUrl=url)
        signed = dict(headers)
        signed["X-Twilio-Signature"] = self.validator.compute_signature(self.fallback_url, retry)
        return self.inner.send(method, self.fallback_url, retry, signed)


class TwiceTransport:
    """Deliver every request twice, concurrently; the first copy's answer is used."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="twice")
        self.sent = 0

    def send(
        self, method: str, url: str, params: dict[str, str], headers: dict[str, str]
    ) -> WebhookAnswer:
        """Send two copies at once and wait for both."""
        copies = [self.pool.submit(self.inner.send, method, url, params, headers) for _ in "ab"]
        self.sent += 2
        return [copy.result() for copy in copies][0]


@dataclass
class Injected:
    """One fault the proxy injected."""

    kind: str  # sms | call
    fault: str  # 500 | 429 | timeout | 21211 | 21610
    to: str
    key: str


Chooser = Callable[[str, dict[str, str]], str | None]


class FaultProxy:
    """An HTTP proxy before the simulator's REST API that injects Twilio's failures."""

    ERRORS = {
        "500": (500, 20500, "Internal Server Error"),
        "429": (429, 20429, None),
        "21211": (400, 21211, None),
        "21610": (400, 21610, None),
    }

    def __init__(self, upstream: str, choose: Chooser) -> None:
        self.upstream = upstream
        self.choose = choose
        self.injected: list[Injected] = []
        self.held_seconds = CLIENT_TIMEOUT_SECONDS + 1.0
        self._lock = threading.Lock()
        self._session = requests.Session()
        self._server = BackgroundServer(self.wsgi, name="twilio fault proxy")

    @property
    def url(self) -> str:
        """Return the URL the app is given as ``TWILIO_API_BASE_URL``."""
        return self._server.url

    def start(self) -> FaultProxy:
        """Start serving; return self."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()
        self._session.close()

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Pass a request on, or answer it with an injected failure."""
        request = Request(environ)
        body = request.get_data()
        kind = {"Messages.json": "sms", "Calls.json": "call"}.get(request.path.rsplit("/", 1)[-1])
        fault = None
        if request.method == "POST" and kind is not None:
            form = {k: v for k, v in request.form.items()}
            fault = self.choose(kind, form)
            if fault is not None:
                page = page_of(form.get("StatusCallback"))
                with self._lock:
                    self.injected.append(
                        Injected(kind, fault, form.get("To", ""), page[1] if page else "")
                    )
        if fault in self.ERRORS:
            status, code, message = self.ERRORS[fault]
            return ApiError(status, code, message).to_response()(environ, start_response)
        answer = self._session.request(
            request.method,
            f"{self.upstream}{request.full_path.rstrip('?')}",
            data=body,
            headers={
                k: v
                for k, v in request.headers.items()
                if k.lower() not in ("host", "content-length")
            },
            timeout=30,
        )
        if fault == "timeout":
            time.sleep(self.held_seconds)  # Twilio took it; the answer comes too late
        response = Response(answer.content, status=answer.status_code)
        response.headers["Content-Type"] = answer.headers.get("Content-Type", "application/json")
        return response(environ, start_response)


class FailingSmsSimulator(Simulator):
    """A simulator whose carrier reports chosen texts as not delivered."""

    def __init__(self, *, fail_sms: Callable[[str, str, str | None], int | None], **options: Any):
        super().__init__(**options)
        self.fail_sms = fail_sms
        self.failed_by_callback: list[tuple[str, int]] = []

    def _deliver_outbound_sms(self, sid: str) -> None:
        record = self.api.messages[sid]
        code = self.fail_sms(sid, record.to, record.status_callback)
        if code is None:
            super()._deliver_outbound_sms(sid)
            return
        self.failed_by_callback.append((sid, code))
        final = "undelivered" if code == 30003 else "failed"
        for status in ("sent", final):
            changes: dict[str, object] = {"status": status}
            if status == final:
                changes["error_code"] = code
            self.api.update_message(sid, **changes)
            if record.status_callback:
                params = self._message_params(record)
                if status == final:
                    params["ErrorCode"] = str(code)
                self.courier.queue("message-status", "POST", record.status_callback, params)


@dataclass
class TwilioSide:
    """The simulator a drill's app pages through, pumped from a background thread."""

    sim: Simulator
    proxy: FaultProxy | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @classmethod
    def start(
        cls,
        app_url: str,
        *,
        transport: Transport | None = None,
        choose: Chooser | None = None,
        simulator: type[Simulator] = Simulator,
        **options: Any,
    ) -> TwilioSide:
        """Start a simulator routed to ``app_url``, with a fault proxy if ``choose``."""
        sim = simulator(
            transport=transport or HttpTransport(),
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            **options,
        ).start()
        sim.add_line(LINE, app_url, call_status=True)
        proxy = FaultProxy(sim.base_url, choose).start() if choose is not None else None
        side = cls(sim, proxy)
        side._thread = threading.Thread(target=side._pump, name="twilio-pump", daemon=True)
        side._thread.start()
        return side

    @property
    def api_url(self) -> str:
        """Return what the app's ``TWILIO_API_BASE_URL`` must be."""
        return self.proxy.url if self.proxy is not None else self.sim.base_url

    def _pump(self) -> None:
        while not self._stop.is_set():
            try:
                with self.sim.lock:
                    self.sim.pump()
            except Exception:  # noqa: BLE001  (a failed delivery is Twilio's problem; go on)
                pass
            self.sim.api.has_events.wait(0.05)

    def stop(self) -> None:
        """Stop pumping, the proxy and the simulator."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.proxy is not None:
            self.proxy.stop()
        self.sim.stop()


def caller_side(app_url: str, transport: Transport | None = None) -> Simulator:
    """Return another simulator of the same account for callers (one per thread)."""
    sim = Simulator(
        transport=transport or HttpTransport(), account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN
    ).start()
    sim.add_line(LINE, app_url, call_status=True)
    return sim
