"""What TwiML verbs wait for, how their attributes read, and what a call needs from Twilio.

The dataclasses hold a waiting verb's settings with Twilio's defaults; ``SessionHost`` is
the engine's side of a call (HTTP, recordings, other phones) as ``simulator.twiml`` sees it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from simulator.resources import SimulatorError

Resolve = Callable[[str | None], str]
# The call session the host is handed back (``simulator.twiml.CallSession``); a type
# parameter, so this module need not import the interpreter that imports it.
Session = TypeVar("Session", contravariant=True)
_WORDS_PER_SECOND = 2.5


class TwimlError(SimulatorError):
    """Raised when the app answers with something that is not TwiML Twilio would accept."""


@dataclass(frozen=True)
class Heard:
    """One thing a phone heard: ``kind`` is say, play, pause, beep, dtmf, party or note."""

    kind: str
    text: str


@dataclass
class Gathering:
    """A ``<Gather>`` waiting for input."""

    action: str
    method: str
    num_digits: int | None
    timeout: int
    finish_on_key: str
    accepts_dtmf: bool
    accepts_speech: bool
    action_on_empty_result: bool
    digits: str = ""


@dataclass
class Recording:
    """A ``<Record>`` listening to the caller."""

    action: str
    method: str
    timeout: int
    finish_on_key: str
    max_length: int
    status_callback: str | None
    status_callback_method: str
    status_events: frozenset[str]
    transcribe_callback: str | None
    words: list[str] = field(default_factory=list)


@dataclass
class Dialing:
    """A ``<Dial>`` ringing or bridged to another phone."""

    action: str | None
    method: str
    number: str
    caller_id: str | None
    timeout: int
    number_status_callback: str | None
    number_status_events: tuple[str, ...]
    child_sid: str | None = None

    def action_params(self, status: str, duration: int) -> dict[str, str]:
        """Return the parameters of this Dial's action request, once the dialled leg ended."""
        params = {"DialCallStatus": status, "DialCallSid": self.child_sid or ""}
        if status == "completed":
            params["DialCallDuration"] = str(duration)
        return params


def parse_document(text: str) -> ET.Element:
    """Parse a TwiML document and return its ``<Response>`` root."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        raise TwimlError(f"12100 document parse failure: {error}") from error
    if root.tag != "Response":
        raise TwimlError(f"12100 the root element is <{root.tag}>, not <Response>")
    return root


def number_attribute(verb: ET.Element, name: str, default: int) -> int:
    """Read a whole-number attribute, refusing what Twilio's schema would refuse."""
    raw = verb.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise TwimlError(f"12200 <{verb.tag} {name}={raw!r}> is not a whole number") from None


def words_in(text: str) -> int:
    """Count spoken words."""
    return len(text.split())


def speaking_seconds(text: str) -> float:
    """Estimate how long saying ``text`` takes."""
    return words_in(text) / _WORDS_PER_SECOND


def read_gather(verb: ET.Element, resolve: Resolve) -> Gathering:
    """Read a ``<Gather>``'s attributes, with Twilio's defaults."""
    inputs = verb.get("input", "dtmf").split()
    return Gathering(
        action=resolve(verb.get("action")),
        method=verb.get("method", "POST").upper(),
        num_digits=number_attribute(verb, "numDigits", 0) or None,
        timeout=number_attribute(verb, "timeout", 5),
        finish_on_key=verb.get("finishOnKey", "#"),
        accepts_dtmf="dtmf" in inputs,
        accepts_speech="speech" in inputs,
        action_on_empty_result=verb.get("actionOnEmptyResult", "false") == "true",
    )


def read_record(verb: ET.Element, resolve: Resolve) -> Recording:
    """Read a ``<Record>``'s attributes, with Twilio's defaults."""
    events = verb.get("recordingStatusCallbackEvent", "completed").replace(",", " ").split()
    status_callback = verb.get("recordingStatusCallback")
    transcribe_callback = verb.get("transcribeCallback")
    return Recording(
        action=resolve(verb.get("action")),
        method=verb.get("method", "POST").upper(),
        timeout=number_attribute(verb, "timeout", 5),
        finish_on_key=verb.get("finishOnKey", "1234567890*#"),
        max_length=number_attribute(verb, "maxLength", 3600),
        status_callback=resolve(status_callback) if status_callback else None,
        status_callback_method=verb.get("recordingStatusCallbackMethod", "POST").upper(),
        status_events=frozenset(events),
        transcribe_callback=resolve(transcribe_callback) if transcribe_callback else None,
    )


def read_dial(verb: ET.Element, resolve: Resolve) -> Dialing:
    """Read a ``<Dial>`` of one ``<Number>`` (or a bare number); other nouns are refused."""
    others = [child.tag for child in verb if child.tag != "Number"]
    if others:
        raise TwimlError(f"13201 <Dial> to {others} is not simulated, only <Number>")
    noun = next(iter(verb), None)
    number = ((noun.text if noun is not None else verb.text) or "").strip()
    events = noun.get("statusCallbackEvent", "completed") if noun is not None else ""
    status_callback = noun.get("statusCallback") if noun is not None else None
    return Dialing(
        action=resolve(verb.get("action")) if verb.get("action") else None,
        method=verb.get("method", "POST").upper(),
        number=number,
        caller_id=verb.get("callerId"),
        timeout=number_attribute(verb, "timeout", 30),
        number_status_callback=resolve(status_callback) if status_callback else None,
        number_status_events=tuple(events.replace(",", " ").split()),
    )


class SessionHost(Protocol[Session]):
    """What a call session needs from the engine."""

    def call_params(self, session: Session) -> dict[str, str]:
        """Return the parameters every request about this call carries."""
        ...

    def fetch_twiml(
        self, session: Session, url: str, method: str, params: dict[str, str]
    ) -> str | None:
        """Request TwiML; None when the app failed (the engine records the error)."""
        ...

    def notify(self, url: str, method: str, params: dict[str, str], kind: str) -> None:
        """Send a request whose answer is ignored, right now."""
        ...

    def queue_callback(self, url: str, method: str, params: dict[str, str], kind: str) -> None:
        """Send an asynchronous callback (status, recording status) on the next flush."""
        ...

    def store_recording(self, session: Session, text: str, duration: int) -> tuple[str, str]:
        """Store a recording and return its SID and media URL."""
        ...

    def media_transcript(self, url: str) -> str | None:
        """Fetch a ``<Play>`` URL and return the words it carries, if any."""
        ...

    def start_dial(self, session: Session, dialing: Dialing) -> bool:
        """Ring the dialled phone; False when the number cannot be reached."""
        ...

    def stop_dial(self, session: Session, dialing: Dialing, status: str) -> int:
        """End the dialled leg with ``status``; return its duration in seconds."""
        ...

    def speak_to_bridge(self, session: Session, text: str) -> None:
        """Carry words said on a bridged call to the other party."""
        ...

    def end_call(self, session: Session, status: str) -> None:
        """Finish the call: record its end, queue status callbacks."""
        ...

    def report_error(self, session: Session, message: str) -> None:
        """Note an error Twilio's debugger would show."""
        ...
