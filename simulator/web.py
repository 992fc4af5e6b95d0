"""The handset page: every virtual phone's screen, side by side, in a browser.

``create_handset_app(sim, app_url)`` is a small Flask app: ``/`` is the page (with a link
to the app and a short guide to try), ``/state.json`` what each phone shows (inbox,
ringing call, what is being said, and the actions its state allows, which are the only
controls its card shows), and ``POST /phones/<number>/<action>`` what a person does with a
phone (answer, press keys, speak, text). Actions take JSON bodies only, so a web page on another origin cannot post
them without the browser asking first. ``PumpThread`` keeps the simulator delivering what
the app sends while nobody clicks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import BadRequest, NotFound

from simulator.engine import Simulator
from simulator.phones import CallLeg, Phone
from simulator.resources import SimulatorError

log = logging.getLogger(__name__)


def snapshot(sim: Simulator) -> dict[str, Any]:
    """Describe every phone's screen as JSON-ready data."""
    with sim.lock:
        return {
            "lines": sorted(sim.numbers),
            "phones": [_phone_screen(phone) for phone in sim.phones.values()],
        }


def _phone_screen(phone: Phone) -> dict[str, Any]:
    """Describe one phone's screen."""
    ringing = phone.ringing
    shown = ringing[0] if ringing else (phone.calls[-1] if phone.calls else None)
    return {
        "number": phone.number,
        "name": phone.name,
        "group": phone.group,
        "inbox": [
            {"sid": sms.sid, "from": sms.from_, "body": sms.body, "is_read": sms.is_consumed}
            for sms in phone.inbox
        ],
        "call": None if shown is None else _call_screen(shown),
        "actions": allowed_actions(phone),
    }


def allowed_actions(phone: Phone) -> list[str]:
    """List what a person can do with the phone in its state now, in the page's order."""
    if phone.ringing:
        actions = ["answer", "voicemail", "decline"]
    else:
        leg = phone.active_call
        actions = ["dial"] if leg is None else _call_actions(leg)
    actions.append("sms")  # a phone texts in any state: analysts answer pages by text
    if any(not sms.is_consumed for sms in phone.inbox):
        actions.append("read")
    return actions


def _call_actions(leg: CallLeg) -> list[str]:
    """List what the phone can do on the call in progress, as the call's TwiML allows."""
    session = leg.session
    if session is None:  # a phone a <Dial> reached: it talks to the caller, or not yet
        return ["press", "say", "hang-up"] if leg.state == "bridged" else []
    gathering = session.gathering
    if session.state == "gathering" and gathering is not None:
        keys = ["press"] if gathering.accepts_dtmf else []
        speech = ["say"] if gathering.accepts_speech else []
        return [*keys, *speech, "silence", "hang-up"]
    by_state = {
        "recording": ["press", "say", "silence", "hang-up"],  # a key may end the recording
        "dialing": ["silence", "hang-up"],  # the dialled phone rings; wait it out or give up
        "bridged": ["press", "say", "hang-up"],
    }
    return list(by_state.get(session.state, ["hang-up"]))


def _call_screen(leg: CallLeg) -> dict[str, Any]:
    """Describe a call as its phone shows it."""
    return {
        "sid": leg.sid,
        "other_party": leg.other_party,
        "is_outgoing": leg.role == "caller",
        "waiting_for": leg.waiting_for,
        "status": leg.status,
        "heard": [{"kind": line.kind, "text": line.text} for line in leg.heard],
    }


def create_handset_app(sim: Simulator, app_url: str | None = None) -> Flask:
    """Build the handset page's Flask app for ``sim``; ``app_url`` is where Voiceline runs."""
    app = Flask(__name__)

    @app.get("/")
    def page() -> str:
        with sim.lock:
            phones = list(sim.phones.values())
            lines = sorted(sim.numbers)
        return render_template(
            "handsets.html",
            app_url=app_url.rstrip("/") if app_url else None,
            line=lines[0] if lines else None,
            lines=lines,
            customer=next((p for p in phones if p.group == "customer"), None),
        )

    @app.get("/state.json")
    def state() -> Any:
        return jsonify(snapshot(sim))

    @app.post("/phones/<number>/<action>")
    def act(number: str, action: str) -> Any:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            raise BadRequest("send a JSON object")
        phone = sim.phones.get(number)
        if phone is None:
            raise NotFound(f"no phone {number}")
        handler = _ACTIONS.get(action)
        if handler is None:
            raise NotFound(f"phones cannot {action}")
        try:
            handler(phone, payload)
        except (SimulatorError, AssertionError) as error:
            return jsonify({"error": str(error)}), 400
        return jsonify(snapshot(sim))

    return app


def _ringing(phone: Phone) -> CallLeg:
    """Return the call ringing on the phone, marked as seen."""
    if not phone.ringing:
        raise SimulatorError(f"{phone} is not ringing")
    leg = phone.ringing[0]
    leg.is_consumed = True
    return leg


def _active(phone: Phone) -> CallLeg:
    """Return the call in progress on the phone."""
    leg = phone.active_call
    if leg is None or leg.state == "ringing":
        raise SimulatorError(f"{phone} has no call in progress")
    return leg


def _text(payload: dict[str, Any], key: str) -> str:
    """Read a required text field of an action."""
    value = payload.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SimulatorError(f"{key!r} is required")
    return value.strip()


def _read_all(phone: Phone) -> None:
    """Mark every SMS on the phone as read."""
    for sms in phone.inbox:
        sms.is_consumed = True


_ACTIONS: dict[str, Callable[[Phone, dict[str, Any]], object]] = {
    "answer": lambda phone, _: _ringing(phone).answer(),
    "voicemail": lambda phone, _: _ringing(phone).answer_by_machine(),
    "decline": lambda phone, _: _ringing(phone).decline(),
    "hang-up": lambda phone, _: _active(phone).hang_up(),
    "press": lambda phone, payload: _active(phone).press(_text(payload, "digits")),
    "say": lambda phone, payload: _active(phone).say(_text(payload, "text")),
    "silence": lambda phone, _: _active(phone).wait_out(),
    "dial": lambda phone, payload: phone.dial(_text(payload, "to")),
    "sms": lambda phone, payload: phone.send_sms(_text(payload, "to"), _text(payload, "body")),
    "read": lambda phone, _: _read_all(phone),
}


class PumpThread(threading.Thread):
    """Deliver what the app sends (texts, calls, callbacks) as soon as it sends it."""

    def __init__(self, sim: Simulator) -> None:
        super().__init__(name="simulator-pump", daemon=True)
        self.sim = sim
        self._stopping = threading.Event()

    def run(self) -> None:
        """Pump whenever the REST API has news, until stopped."""
        while not self._stopping.is_set():
            self.sim.api.has_events.wait(0.25)
            try:
                self.sim.pump()
            except Exception:
                # The demo must outlive one bad webhook; the error is in the log.
                log.exception("delivering to the app failed")

    def stop(self) -> None:
        """Ask the thread to end and wait for it."""
        self._stopping.set()
        self.join(timeout=5)
