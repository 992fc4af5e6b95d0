"""What Twilio's webhooks tell us, as small typed events.

A webhook view checks the signature, turns the posted form into one of these
(``voiceline.twilio_forms``, the one module that knows Twilio's parameter names besides
the telephony adapter), and hands it to a service. Services read attributes, never form
fields, so a renamed or malformed parameter is handled in one place, and the spool can
replay a stored form through the same parser.

Every value is already checked: numbers are ASCII digits within the range a database
column holds (or None), keys are keypad keys only, and nothing here can raise.
"""

from __future__ import annotations

from dataclasses import dataclass

# The largest value an INTEGER column holds on every database we support (PostgreSQL's
# int4); a number above it is not a count Twilio could mean, and storing it would fail.
MAX_COLUMN_INT = 2**31 - 1


@dataclass(frozen=True)
class CallLeg:
    """The call a voice request is about, as Twilio identifies it."""

    sid: str
    from_number: str | None = None  # as Twilio sent it: E.164, local digits, or "anonymous"
    to_number: str | None = None
    status: str | None = None
    country: str | None = None  # two-letter country of the caller's number, if Twilio knows


@dataclass(frozen=True)
class RecordingRef:
    """A recording Twilio made of a caller's message."""

    sid: str
    url: str | None = None
    duration_seconds: int | None = None


@dataclass(frozen=True)
class IncomingCall:
    """A call to the emergency line rang (the number's voice URL)."""

    call: CallLeg


@dataclass(frozen=True)
class KeyPressed:
    """A ``<Gather>`` ended: ``digits`` holds keypad keys only, empty when none were pressed."""

    call: CallLeg
    digits: str = ""


@dataclass(frozen=True)
class DialEnded:
    """A ``<Dial>`` ended (the support desk, or the bridge from a page to the caller)."""

    call: CallLeg
    dial_status: str = ""  # completed, busy, no-answer, failed, canceled; "" if not said


@dataclass(frozen=True)
class RecordingDone:
    """The caller finished a ``<Record>``; ``recording`` is None when nothing was kept."""

    call: CallLeg
    recording: RecordingRef | None = None


@dataclass(frozen=True)
class RecordingReported:
    """A recording's status callback: ``completed`` (the file is ready) or ``absent``."""

    call: CallLeg
    status: str
    recording: RecordingRef | None = None


@dataclass(frozen=True)
class CallStatusChanged:
    """An inbound call changed state (its ``call.status``), usually: it ended."""

    call: CallLeg


@dataclass(frozen=True)
class TranscriptionDone:
    """Twilio finished (or failed) transcribing a recording."""

    recording_sid: str
    status: str
    text: str | None = None


@dataclass(frozen=True)
class PageAnswered:
    """A page call was answered, or Twilio's answering-machine detection finished."""

    call_sid: str | None
    answered_by: str | None = None  # human, machine_*, fax, unknown; None if not said


@dataclass(frozen=True)
class CallProgress:
    """A status callback of a call we placed: a page call, or a bridge's dialled leg."""

    sid: str
    status: str
    sequence: int | None = None
    answered_by: str | None = None
    error_code: int | None = None
    duration_seconds: int | None = None


@dataclass(frozen=True)
class SmsProgress:
    """A status callback of a text we sent."""

    sid: str
    status: str
    error_code: int | None = None


PageStatus = CallProgress | SmsProgress


@dataclass(frozen=True)
class SmsReceived:
    """A text to our number (the number's messaging URL)."""

    sid: str | None
    from_number: str
    body: str
