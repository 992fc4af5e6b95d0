"""Twilio's REST API for one account on loopback: auth, routing, and the store the engine reads."""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from simulator.forms import call_from_form, check_call_form, check_message_form, message_from_form
from simulator.media import silent_mp3, silent_wav
from simulator.resources import (
    API_VERSION,
    ERROR_MESSAGES,
    ApiError,
    ApiEvent,
    CallRecord,
    MessageRecord,
    RecordedRequest,
    RecordingRecord,
    ScriptedFailure,
    SimulatorError,
    json_response,
    new_sid,
)
from simulator.serving import BackgroundServer, WsgiApp

Clock = Callable[[], datetime]
# The slice of the 2010-04-01 API Voiceline calls, under /2010-04-01/Accounts/{AccountSid}/:
#   POST Messages.json, GET Messages/{Sid}.json          send an SMS, fetch it
#   POST Calls.json, GET|POST Calls/{Sid}.json           place a call, fetch or update it
#   GET Recordings/{Sid}[.wav|.mp3|.json]                 media (.wav by default), metadata
#   GET Recordings/{Sid}/Transcriptions.json
_ROUTE = re.compile(
    rf"^/{API_VERSION}/Accounts/(?P<account>AC\w+)/"
    r"(?P<collection>Messages|Calls|Recordings)"
    r"(?:/(?P<sid>[A-Z]{2}\w+?))?(?P<suffix>/Transcriptions\.json|\.json|\.mp3|\.wav)?$"
)


def utc_now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


class FakeTwilioApi:
    """Twilio's REST API for one account, served from a background thread on loopback."""

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str = "simulator-auth-token",
        *,
        clock: Clock = utc_now,
        port: int = 0,
    ) -> None:
        self.account_sid = account_sid or new_sid("AC")
        self.auth_token = auth_token
        self.clock = clock
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._failures: list[ScriptedFailure] = []
        self._events: queue.SimpleQueue[ApiEvent] = queue.SimpleQueue()
        self.has_events = threading.Event()
        self.messages: dict[str, MessageRecord] = {}
        self.calls: dict[str, CallRecord] = {}
        self.recordings: dict[str, RecordingRecord] = {}
        #: Numbers that texted STOP: sending them an SMS fails with 21610, as on Twilio.
        self.blocked_recipients: set[str] = set()
        self._server = BackgroundServer(self.wsgi, port=port, name="the fake Twilio API")
        #: Serves every path outside ``/2010-04-01/`` (the handset page shares the port).
        self.fallback: WsgiApp | None = None
        #: Seconds to hold the answer to an accepted create request (0: answer at once).
        self.response_delay = 0.0
        self._arrival_gates: list[threading.Event] = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeTwilioApi:
        """Start serving on 127.0.0.1 (port 0 picks a free port); return self."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving and wait for the server thread to end."""
        self._server.stop()

    def __enter__(self) -> FakeTwilioApi:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Return the root URL to give ``client.api.base_url`` (no trailing slash)."""
        return self._server.url

    @property
    def account_url(self) -> str:
        """Return the URL under which this account's resources live."""
        return f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}"

    def recording_url(self, sid: str) -> str:
        """Return the media URL of a recording, as Twilio sends it (no extension)."""
        return f"{self.account_url}/Recordings/{sid}"

    # -- what tests look at and script -----------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Return every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, collection: str, method: str = "POST") -> list[RecordedRequest]:
        """Return the requests whose path ends with ``collection`` (e.g. ``Messages.json``)."""
        return [r for r in self.requests if r.method == method and r.path.endswith(collection)]

    def hold_next_create(self) -> threading.Event:
        """Hold the next create request (SMS or call) before anything is created.

        The request is still on its way to Twilio, as one stalled in a slow network or a
        busy sender: nothing exists yet. Setting the returned event lets it through (it
        also goes through by itself after 30 s).
        """
        gate = threading.Event()
        with self._lock:
            self._arrival_gates.append(gate)
        return gate

    def fail_next(
        self,
        kind: Literal["sms", "call"],
        *,
        to: str | None = None,
        status: int = 400,
        code: int = 21211,
        message: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` matching create requests fail with a Twilio error."""
        if kind not in ("sms", "call"):
            raise SimulatorError(f"kind must be 'sms' or 'call', not {kind!r}")
        if times < 1 or not 400 <= status <= 599:
            raise SimulatorError("times must be >= 1 and status an HTTP error status")
        text = message or ERROR_MESSAGES.get(code, f"Error {code}")
        with self._lock:
            self._failures.append(ScriptedFailure(kind, to, status, code, text, times))

    # The API only stores and reports: what a new message or call does (ringing a phone,
    # posting callbacks) is the engine's business, learnt from these events. That keeps the
    # HTTP thread from ever waiting on the app, which may itself be waiting on this API.
    def take_events(self) -> list[ApiEvent]:
        """Remove and return the events not yet handled by the engine, oldest first."""
        # Clear before draining: an event queued meanwhile sets the flag again, never lost.
        self.has_events.clear()
        events: list[ApiEvent] = []
        while True:
            try:
                events.append(self._events.get_nowait())
            except queue.Empty:
                return events

    # -- what the engine writes ------------------------------------------------------------

    def add_message(self, record: MessageRecord) -> None:
        """Store a message made outside the API (an inbound SMS)."""
        with self._lock:
            self.messages[record.sid] = record

    def add_call(self, record: CallRecord) -> None:
        """Store a call made outside the API (inbound, or a ``<Dial>`` leg)."""
        with self._lock:
            self.calls[record.sid] = record

    def add_recording(self, call_sid: str, text: str, duration: int) -> RecordingRecord:
        """Store a new recording of ``text`` on a call and return it."""
        record = RecordingRecord(
            new_sid("RE"), self.account_sid, call_sid, duration, text, self.clock()
        )
        with self._lock:
            self.recordings[record.sid] = record
        return record

    def update_message(self, sid: str, **changes: Any) -> MessageRecord:
        """Change fields of a stored message (e.g. its status)."""
        with self._lock:
            record = self.messages[sid]
            for name, value in changes.items():
                setattr(record, name, value)
            record.updated_at = self.clock()
            return record

    def update_call(self, sid: str, **changes: Any) -> CallRecord:
        """Change fields of a stored call (status, times, answered_by)."""
        with self._lock:
            record = self.calls[sid]
            for name, value in changes.items():
                setattr(record, name, value)
            record.updated_at = self.clock()
            return record

    # -- HTTP ------------------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Answer one WSGI request."""
        if self.fallback is not None and not environ.get("PATH_INFO", "").startswith(
            f"/{API_VERSION}/"
        ):
            return self.fallback(environ, start_response)
        request = Request(environ)
        if request.method == "POST" and request.path.endswith(("/Messages.json", "/Calls.json")):
            with self._lock:
                gate = self._arrival_gates.pop(0) if self._arrival_gates else None
            if gate is not None:
                gate.wait(timeout=30)
        form: MultiDict[str, str] = request.form if request.method == "POST" else MultiDict()
        authorized = self._is_authorized(request)
        try:
            if not authorized:
                raise ApiError(401, 20003, "Authentication Error - invalid username")
            response = self._dispatch(request, form)
        except ApiError as error:
            response = error.to_response()
        with self._lock:
            self._requests.append(
                RecordedRequest(
                    request.method,
                    request.path,
                    tuple(form.items(multi=True)),
                    response.status_code,
                    authorized,
                )
            )
        if self.response_delay and request.method == "POST" and response.status_code == 201:
            time.sleep(self.response_delay)  # created already: only the answer is late
        return response(environ, start_response)

    def _is_authorized(self, request: Request) -> bool:
        """Check basic auth against the account SID and auth token."""
        auth = request.authorization
        return (
            auth is not None
            and auth.type == "basic"
            and auth.username == self.account_sid
            and auth.password == self.auth_token
        )

    def _dispatch(self, request: Request, form: MultiDict[str, str]) -> Response:
        """Route a request to its handler."""
        match = _ROUTE.match(request.path)
        if match is None or match["account"] != self.account_sid:
            raise ApiError(404, 20404, f"The requested resource {request.path} was not found")
        collection, sid, suffix = match["collection"], match["sid"], match["suffix"]
        if collection == "Messages" and sid is None and request.method == "POST":
            return self._create_message(form)
        if collection == "Calls" and sid is None and request.method == "POST":
            return self._create_call(form)
        if sid is not None and collection in ("Messages", "Calls") and suffix == ".json":
            if request.method == "GET":
                return json_response(self._find(collection, sid).to_json())
            if request.method == "POST" and collection == "Calls":
                return self._update_call(sid, form)
        if collection == "Recordings" and sid is not None and request.method == "GET":
            return self._recording(sid, suffix)
        raise ApiError(405, 20004, f"Method {request.method} not allowed on {request.path}")

    def _find(self, collection: str, sid: str) -> MessageRecord | CallRecord:
        """Return a stored message or call, or answer 404."""
        with self._lock:
            store: dict[str, Any] = self.messages if collection == "Messages" else self.calls
            record = store.get(sid)
        if record is None:
            path = f"/{API_VERSION}/Accounts/{self.account_sid}/{collection}/{sid}.json"
            raise ApiError(404, 20404, f"The requested resource {path} was not found")
        return record  # type: ignore[no-any-return]

    def _raise_scripted_failure(self, kind: str, to: str) -> None:
        """Answer with the first scripted failure that matches, using it up."""
        with self._lock:
            for failure in self._failures:
                if failure.kind == kind and failure.to in (None, to):
                    failure.times -= 1
                    if failure.times == 0:
                        self._failures.remove(failure)
                    raise ApiError(failure.status, failure.code, failure.message)

    def _create_message(self, form: MultiDict[str, str]) -> Response:
        """Accept an outbound SMS: validate like Twilio, store it queued, tell the engine."""
        check_message_form(form)
        to = form.get("To", "")
        if to in self.blocked_recipients:
            raise ApiError(400, 21610)
        self._raise_scripted_failure("sms", to)
        record = message_from_form(form, self.account_sid, self.clock())
        with self._lock:
            self.messages[record.sid] = record
        self._emit(ApiEvent("message_created", record.sid))
        return json_response(record.to_json(), 201)

    def _create_call(self, form: MultiDict[str, str]) -> Response:
        """Accept an outbound call: validate like Twilio, store it queued, tell the engine."""
        check_call_form(form)
        self._raise_scripted_failure("call", form.get("To", ""))
        record = call_from_form(form, self.account_sid, self.clock())
        with self._lock:
            self.calls[record.sid] = record
        self._emit(ApiEvent("call_created", record.sid))
        return json_response(record.to_json(), 201)

    def _update_call(self, sid: str, form: MultiDict[str, str]) -> Response:
        """Accept a live-call update (hang up, cancel, redirect); the engine applies it."""
        record = self._find("Calls", sid)
        status = form.get("Status")
        if status is not None and status not in ("completed", "canceled"):
            raise ApiError(400, 21218, f"Invalid call status {status!r}")
        if record.status in ("completed", "busy", "no-answer", "failed", "canceled"):
            raise ApiError(400, 21220, "Call is not in-progress. Cannot redirect.")
        self._emit(ApiEvent("call_updated", sid, dict(form.items())))
        return json_response(record.to_json())

    def _recording(self, sid: str, suffix: str | None) -> Response:
        """Serve a recording's metadata, transcription list or (silent) media."""
        with self._lock:
            record = self.recordings.get(sid)
        if record is None:
            raise ApiError(404, 20404, f"The requested resource Recordings/{sid} was not found")
        if suffix == ".json":
            return json_response(record.to_json(self.base_url))
        if suffix == "/Transcriptions.json":
            return json_response(
                {
                    "transcriptions": [
                        {
                            "sid": "TR" + sid[2:],
                            "recording_sid": sid,
                            "status": "completed",
                            "transcription_text": record.text,
                            "duration": str(record.duration),
                        }
                    ]
                }
            )
        if suffix == ".mp3":
            return Response(silent_mp3(record.text), mimetype="audio/mpeg")
        return Response(silent_wav(record.text, record.duration), mimetype="audio/x-wav")

    def _emit(self, event: ApiEvent) -> None:
        """Queue an event for the engine and wake anyone waiting for one."""
        self._events.put(event)
        self.has_events.set()
