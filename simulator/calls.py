"""The switchboard: call legs from ringing to hang-up, and the callbacks they cause.

It rings phones for calls the app places through the REST API and for ``<Dial>``, answers
them as a human or a machine (with AMD results), bridges two phones, applies REST updates
to live calls, and reports every status change with ``SequenceNumber`` as Twilio does. It
is the ``SessionHost`` every ``CallSession`` talks to.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from simulator.media import transcript_of
from simulator.phones import CallLeg, Phone, PhoneHost
from simulator.resources import (
    API_VERSION,
    E164,
    CallRecord,
    SimulatorError,
    TwilioNumber,
    new_sid,
    rfc2822,
)
from simulator.rest import Clock, FakeTwilioApi
from simulator.twiml import CallSession
from simulator.verbs import Dialing, Heard, speaking_seconds
from simulator.webhooks import Courier

FINAL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")
_EVENT_STATUS = {"initiated": "initiated", "ringing": "ringing", "answered": "in-progress"}


class Switchboard:
    """Every call leg of the simulated account."""

    def __init__(
        self,
        sim: PhoneHost,
        api: FakeTwilioApi,
        courier: Courier,
        clock: Clock,
        numbers: Mapping[str, TwilioNumber],
        phone: Callable[[str], Phone],
    ) -> None:
        self.sim = sim
        self.api = api
        self.courier = courier
        self.clock = clock
        self.numbers = numbers
        self.phone = phone
        self.legs: dict[str, CallLeg] = {}
        self._sequence: dict[str, int] = {}

    # -- calls the app places ----------------------------------------------------------------

    def ring_for_api_call(self, sid: str) -> None:
        """Ring the phone an API call is for."""
        record = self.api.update_call(sid, status="initiated")
        self._call_event(record, "initiated")
        phone = self.phone(record.to)
        if phone.is_unreachable:
            self._finish_leg(record, "failed", 0)
            return
        self._ring(phone, record, CallLeg(self.sim, phone, sid, "callee", is_consumed=False))

    def answer(self, leg: CallLeg, by: str) -> None:
        """Pick up a ringing leg: start its TwiML, or join the bridge that dialled it."""
        if leg.state != "ringing":
            raise SimulatorError(f"{leg.phone} cannot answer: the call is {leg.state}")
        record = leg.record
        detected = by if record.machine_detection else None
        if detected and record.machine_detection == "Enable" and by.startswith("machine_end"):
            detected = "machine_start"  # Enable reports as soon as it hears a machine
        self.api.update_call(record.sid, status="in-progress", start_time=self.clock())
        self.api.update_call(record.sid, answered_by=detected)
        self._call_event(record, "answered")
        if leg.role == "dialed":
            assert leg.parent is not None
            leg.state = "bridged"
            heard = "connected" if by == "human" else "voicemail picked up"
            leg.own_heard.append(Heard("note", f"{heard}: {record.from_}"))
            leg.parent.bridge_answered()
            return
        leg.state = "active"
        leg.session = CallSession(self, record.sid)
        leg.session.start(record.url, record.method, twiml=record.twiml)
        if detected and record.async_amd and record.async_amd_status_callback:
            params = {
                "CallSid": record.sid,
                "AccountSid": record.account_sid,
                "AnsweredBy": detected,
                "MachineDetectionDuration": "2100",
            }
            self.courier.queue("amd", "POST", record.async_amd_status_callback, params)

    def refuse(self, leg: CallLeg, status: str) -> None:
        """End a ringing leg unanswered: busy, no-answer or failed."""
        if leg.state != "ringing":
            raise SimulatorError(f"{leg.phone} cannot refuse: the call is {leg.state}")
        self._finish_leg(leg.record, status, 0)
        if leg.parent is not None:
            leg.parent.bridge_ended(status, 0)

    def apply_update(self, sid: str, params: dict[str, str]) -> None:
        """Carry out a REST update of a live call: hang up, cancel, or new TwiML."""
        leg, record = self.legs.get(sid), self.api.calls[sid]
        if record.status in FINAL_STATUSES:
            return
        if params.get("Status") in ("completed", "canceled"):
            if leg is not None and leg.session is not None:
                leg.session.end_remotely()
            elif leg is not None and leg.state == "ringing":
                self._finish_leg(record, "canceled", 0)
                if leg.parent is not None:
                    leg.parent.bridge_ended("canceled", 0)
            elif leg is not None and leg.state == "bridged":
                self.hang_up_dialed(leg)
            return
        twiml, url = params.get("Twiml"), params.get("Url")
        method = params.get("Method", "POST").upper()
        if leg is not None and leg.session is not None:
            leg.session.redirect(twiml=twiml, url=url, method=method)
        else:
            self.api.update_call(sid, twiml=twiml or record.twiml, url=url or record.url)

    # -- calls the phones place --------------------------------------------------------------

    def place_inbound_call(self, phone: Phone, to: str, *, hang_up_after: str | None) -> CallLeg:
        """Call the app's number from ``phone`` and follow its TwiML until it waits."""
        number = self.numbers.get(to)
        if number is None or not number.voice_url:
            raise SimulatorError(f"{to} is not a Twilio number with a Voice URL")
        now = self.clock()
        record = CallRecord(
            new_sid("CA"), self.api.account_sid, to, phone.number, "inbound", "ringing", now, now,
            url=number.voice_url, method=number.voice_method,
            status_callback=number.status_callback, start_time=now,
        )  # fmt: skip
        self.api.add_call(record)
        leg = CallLeg(self.sim, phone, record.sid, "caller", state="active")
        leg.session = CallSession(self, record.sid, hang_up_after=hang_up_after)
        leg.session.call_status = "ringing"
        self.legs[record.sid] = leg
        phone.calls.append(leg)
        leg.session.start(number.voice_url, number.voice_method)
        return leg

    def speak_from(self, leg: CallLeg, text: str) -> None:
        """Carry words a dialled phone said to the caller it is bridged with."""
        assert leg.parent is not None
        leg.talk_seconds += speaking_seconds(text)
        leg.parent.elapsed += speaking_seconds(text)
        leg.parent.hear_from_bridge(str(leg.phone), text)

    def hang_up_dialed(self, leg: CallLeg) -> None:
        """A dialled phone hangs up: end its leg and let the caller's TwiML go on."""
        assert leg.parent is not None
        duration = max(1, math.ceil(leg.talk_seconds))
        self._finish_leg(leg.record, "completed", duration)
        leg.parent.bridge_ended("completed", duration)

    # -- SessionHost -------------------------------------------------------------------------

    def call_params(self, session: CallSession) -> dict[str, str]:
        """Return the parameters every request about this call carries."""
        record = self.api.calls[session.call_sid]
        params = {
            "CallSid": record.sid,
            "AccountSid": record.account_sid,
            "From": record.from_,
            "To": record.to,
            "Caller": record.from_,
            "Called": record.to,
            "CallStatus": session.call_status,
            "Direction": record.direction,
            "ApiVersion": API_VERSION,
        }
        if record.answered_by and not record.async_amd:
            params["AnsweredBy"] = record.answered_by
        return params

    def fetch_twiml(
        self, session: CallSession, url: str, method: str, params: dict[str, str]
    ) -> str | None:
        """Request TwiML for a call; the first answer puts an inbound call in progress."""
        kind = "voice" if session.call_status == "ringing" else "twiml"
        text = self.courier.fetch_twiml(kind, method, url, params)
        if session.call_status == "ringing":
            session.call_status = "in-progress"
            self.api.update_call(session.call_sid, status="in-progress")
        return text

    def notify(self, url: str, method: str, params: dict[str, str], kind: str) -> None:
        """Send a request whose answer is ignored (an action after the caller hung up)."""
        self.courier.request(kind, method, url, params)

    def queue_callback(self, url: str, method: str, params: dict[str, str], kind: str) -> None:
        """Queue an asynchronous callback."""
        self.courier.queue(kind, method, url, params)

    def store_recording(self, session: CallSession, text: str, duration: int) -> tuple[str, str]:
        """Store a recording on the REST API and return its SID and media URL."""
        record = self.api.add_recording(session.call_sid, text, duration)
        return record.sid, self.api.recording_url(record.sid)

    def media_transcript(self, url: str) -> str | None:
        """Return the words a ``<Play>`` URL carries: our recordings, or any fetched file."""
        if url.startswith(self.api.account_url + "/Recordings/"):
            sid = url.rsplit("/", 1)[1].split(".")[0]
            recording = self.api.recordings.get(sid)
            return recording.text if recording is not None else None
        exchange, content = self.courier.request_with_content("media", "GET", url, {})
        return transcript_of(content) if exchange.status == 200 else None

    def start_dial(self, session: CallSession, dialing: Dialing) -> bool:
        """Ring the phone a ``<Dial>`` asks for; False when it cannot be reached."""
        if not E164.match(dialing.number):
            return False
        phone = self.phone(dialing.number)
        if phone.is_unreachable:
            return False
        parent = self.api.calls[session.call_sid]
        now = self.clock()
        child = CallRecord(
            new_sid("CA"), parent.account_sid, dialing.number,
            dialing.caller_id or parent.from_, "outbound-dial", "initiated", now, now,
            parent_call_sid=parent.sid, status_callback=dialing.number_status_callback,
            status_callback_events=dialing.number_status_events or ("completed",),
        )  # fmt: skip
        self.api.add_call(child)
        dialing.child_sid = child.sid
        self._call_event(child, "initiated")
        leg = CallLeg(self.sim, phone, child.sid, "dialed", parent=session, is_consumed=False)
        self._ring(phone, child, leg)
        return True

    def stop_dial(self, session: CallSession, dialing: Dialing, status: str) -> int:
        """End the dialled leg from the caller's side; return its talk time in seconds."""
        leg = self.legs.get(dialing.child_sid or "")
        if leg is None or leg.state == "ended":
            return 0
        if leg.state == "bridged":
            duration = max(1, math.ceil(leg.talk_seconds))
            leg.own_heard.append(Heard("note", "the other party hung up"))
            self._finish_leg(leg.record, "completed", duration)
            return duration
        self._finish_leg(leg.record, status, 0)
        return 0

    def speak_to_bridge(self, session: CallSession, text: str) -> None:
        """Carry words the caller said to the dialled phone."""
        dialing = session.dialing
        leg = self.legs.get(dialing.child_sid or "") if dialing else None
        if leg is None:
            raise SimulatorError("no one is on the other end of this bridge")
        session.elapsed += speaking_seconds(text)
        leg.talk_seconds += speaking_seconds(text)
        leg.own_heard.append(Heard("party", f"{self.legs[session.call_sid].phone}: {text}"))

    def end_call(self, session: CallSession, status: str) -> None:
        """Finish a TwiML-driven leg and report it."""
        record = self.api.calls[session.call_sid]
        seconds = session.elapsed
        if record.start_time is not None:
            seconds += (self.clock() - record.start_time).total_seconds()
        self._finish_leg(record, status, max(1, math.ceil(seconds)))

    def report_error(self, session: CallSession, message: str) -> None:
        """Note a TwiML error as Twilio's debugger would."""
        self.courier.errors.append(f"call {session.call_sid}: {message}")

    # -- bookkeeping -------------------------------------------------------------------------

    def _ring(self, phone: Phone, record: CallRecord, leg: CallLeg) -> None:
        """Make ``phone`` ring with ``leg``."""
        self.api.update_call(record.sid, status="ringing")
        self._call_event(record, "ringing")
        leg.own_heard.append(Heard("note", f"incoming call from {record.from_}"))
        self.legs[record.sid] = leg
        phone.calls.append(leg)

    def _finish_leg(self, record: CallRecord, status: str, duration: int) -> None:
        """Give a leg its final status and report ``completed`` to its status callback."""
        leg = self.legs.get(record.sid)
        if leg is not None:
            leg.state = "ended"
        answered = record.start_time is not None and status == "completed"
        self.api.update_call(
            record.sid, status=status, end_time=self.clock(), duration=duration if answered else 0
        )
        self._call_event(record, "completed")

    def _call_event(self, record: CallRecord, event: str) -> None:
        """Queue a call status callback if the call subscribed to ``event``."""
        if not record.status_callback or event not in record.status_callback_events:
            return
        sequence = self._sequence.get(record.sid, 0)
        self._sequence[record.sid] = sequence + 1
        params = {
            "CallSid": record.sid,
            "AccountSid": record.account_sid,
            "From": record.from_,
            "To": record.to,
            "Caller": record.from_,
            "Called": record.to,
            "Direction": record.direction,
            "ApiVersion": API_VERSION,
            "CallStatus": _EVENT_STATUS.get(event, record.status),
            "SequenceNumber": str(sequence),
            "CallbackSource": "call-progress-events",
            "Timestamp": rfc2822(self.clock()) or "",
        }
        if record.parent_call_sid:
            params["ParentCallSid"] = record.parent_call_sid
        if record.answered_by:
            params["AnsweredBy"] = record.answered_by
        if event == "completed":
            params["CallDuration"] = str(record.duration or 0)
            params["Duration"] = str(math.ceil((record.duration or 0) / 60))
        method = record.status_callback_method
        self.courier.queue("call-status", method, record.status_callback, params)
