"""Turn a verified Twilio form into an event of ``voiceline.twilio_events``.

This module and the telephony adapter are the only product code that names Twilio's
parameters (a test walks the rest and fails on a field-name literal). The webhooks parse
each request here, and spool replay parses the stored form with the same functions, so a
message kept during an outage becomes the very event it would have been.

Parsing never raises. A signed form can still hold odd values (a parameter Twilio added,
a digit from another script, a number past any column): numbers are taken only as ASCII
digits within ``MAX_COLUMN_INT``, keys only as keypad keys, short enumerations only up to
the width of the column that stores them (a caller's address too); anything else
reads as "not given".
"""

from __future__ import annotations

from collections.abc import Mapping

from voiceline.twilio_events import (
    MAX_COLUMN_INT,
    CallLeg,
    CallProgress,
    CallStatusChanged,
    DialEnded,
    IncomingCall,
    KeyPressed,
    PageAnswered,
    PageStatus,
    RecordingDone,
    RecordingRef,
    RecordingReported,
    SmsProgress,
    SmsReceived,
    TranscriptionDone,
)

Form = Mapping[str, str]

# Twilio's parameter names, each spelled once.
ACCOUNT_SID = "AccountSid"
ANSWERED_BY = "AnsweredBy"
BODY = "Body"
CALL_DURATION = "CallDuration"
CALL_SID = "CallSid"
CALL_STATUS = "CallStatus"
CALLER_COUNTRY = "CallerCountry"
DIAL_CALL_STATUS = "DialCallStatus"
DIGITS = "Digits"
ERROR_CODE = "ErrorCode"
FROM = "From"
FROM_COUNTRY = "FromCountry"
MESSAGE_SID = "MessageSid"
MESSAGE_STATUS = "MessageStatus"
RECORDING_DURATION = "RecordingDuration"
RECORDING_SID = "RecordingSid"
RECORDING_STATUS = "RecordingStatus"
RECORDING_URL = "RecordingUrl"
SEQUENCE_NUMBER = "SequenceNumber"
SMS_SID = "SmsSid"
SMS_STATUS = "SmsStatus"
TO = "To"
TRANSCRIPTION_STATUS = "TranscriptionStatus"
TRANSCRIPTION_TEXT = "TranscriptionText"

FIELD_NAMES = frozenset(
    {
        ACCOUNT_SID,
        ANSWERED_BY,
        BODY,
        CALL_DURATION,
        CALL_SID,
        CALL_STATUS,
        CALLER_COUNTRY,
        DIAL_CALL_STATUS,
        DIGITS,
        ERROR_CODE,
        FROM,
        FROM_COUNTRY,
        MESSAGE_SID,
        MESSAGE_STATUS,
        RECORDING_DURATION,
        RECORDING_SID,
        RECORDING_STATUS,
        RECORDING_URL,
        SEQUENCE_NUMBER,
        SMS_SID,
        SMS_STATUS,
        TO,
        TRANSCRIPTION_STATUS,
        TRANSCRIPTION_TEXT,
    }
)

KEYPAD = frozenset("0123456789*#")
MAX_KEYS = 32  # a <Gather> of ours asks for one key; a long entry is not a choice
WORD_WIDTH = 32  # the status and answered-by columns
ADDRESS_WIDTH = 32  # the phone-number columns; E.164 needs 16


def whole_number(value: str | None, upper: int = MAX_COLUMN_INT) -> int | None:
    """Return ``value`` as an int if it is ASCII digits from 0 to ``upper``, else None."""
    text = (value or "").strip()
    # str.isdigit() alone accepts "²" and "١", which int() then refuses or misreads; and
    # int() of a very long string is slow or raises, so the length is checked first.
    if not text.isascii() or not text.isdigit() or len(text) > len(str(upper)):
        return None
    number = int(text)
    return number if number <= upper else None


def keypad_digits(value: str | None) -> str:
    """Return the keypad keys pressed, or "" if none (or anything but keypad keys) arrived."""
    text = (value or "").strip()
    if len(text) > MAX_KEYS or not set(text) <= KEYPAD:
        return ""
    return text


def _get(form: Form, name: str) -> str | None:
    """Return a parameter without NUL characters: Twilio sends none, and no text column
    (PostgreSQL's least of all) can hold one."""
    value = form.get(name)
    return value.replace("\x00", "") if value is not None else None


SID_WIDTH = 64  # the SID columns; Twilio's SIDs are 34 characters


def _sid(form: Form, name: str) -> str:
    """Return a SID as far as its column holds it ("" when absent)."""
    return (_get(form, name) or "")[:SID_WIDTH]


def _text(form: Form, name: str) -> str | None:
    """Return a parameter, None when absent or empty."""
    return _get(form, name) or None


def _word(form: Form, name: str) -> str | None:
    """Return a short enumerated value (a status), None if absent or too long to be one."""
    value = (_get(form, name) or "").strip()
    return value if value and len(value) <= WORD_WIDTH else None


def _address(form: Form, name: str) -> str | None:
    """Return a From or To that can be a phone number, None if absent or far too long."""
    # A SIP or client address ("sip:someone@voip.example.com") is no number to call
    # back and does not fit the number columns: it reads as withheld, so the caller is
    # asked who they are and the message is still taken.
    value = (_get(form, name) or "").strip()
    return value if value and len(value) <= ADDRESS_WIDTH else None


def _country(form: Form) -> str | None:
    """Return the caller's two-letter country, when Twilio says and it looks like one."""
    value = (_get(form, FROM_COUNTRY) or _get(form, CALLER_COUNTRY) or "").strip()
    return value.upper() if len(value) == 2 and value.isascii() and value.isalpha() else None


def call_leg(form: Form) -> CallLeg:
    """Return the call a voice request is about."""
    return CallLeg(
        sid=_sid(form, CALL_SID),
        from_number=_address(form, FROM),
        to_number=_address(form, TO),
        status=_word(form, CALL_STATUS),
        country=_country(form),
    )


def _recording(form: Form) -> RecordingRef | None:
    """Return the recording a form carries, or None."""
    sid = _sid(form, RECORDING_SID) or None
    if sid is None:
        return None
    return RecordingRef(
        sid=sid,
        url=_text(form, RECORDING_URL),
        duration_seconds=whole_number(_get(form, RECORDING_DURATION)),
    )


def incoming_call(form: Form) -> IncomingCall:
    """Parse the request for a call that rang the line."""
    return IncomingCall(call_leg(form))


def key_pressed(form: Form) -> KeyPressed:
    """Parse the action of a ``<Gather>`` (or the redirect after it timed out)."""
    return KeyPressed(call_leg(form), keypad_digits(_get(form, DIGITS)))


def dial_ended(form: Form) -> DialEnded:
    """Parse the action of a ``<Dial>``."""
    return DialEnded(call_leg(form), _word(form, DIAL_CALL_STATUS) or "")


def recording_done(form: Form) -> RecordingDone:
    """Parse the action of a ``<Record>`` (or the redirect after an empty one)."""
    return RecordingDone(call_leg(form), _recording(form))


def recording_reported(form: Form) -> RecordingReported:
    """Parse a recording status callback."""
    return RecordingReported(call_leg(form), _word(form, RECORDING_STATUS) or "", _recording(form))


def call_status_changed(form: Form) -> CallStatusChanged:
    """Parse the number's call-status callback."""
    return CallStatusChanged(call_leg(form))


def transcription_done(form: Form) -> TranscriptionDone:
    """Parse a transcription callback."""
    return TranscriptionDone(
        recording_sid=_sid(form, RECORDING_SID),
        status=_word(form, TRANSCRIPTION_STATUS) or "",
        text=_text(form, TRANSCRIPTION_TEXT),
    )


def page_answered(form: Form) -> PageAnswered:
    """Parse an answered page call's request, or its answering-machine callback."""
    return PageAnswered(_text(form, CALL_SID), _word(form, ANSWERED_BY))


def call_progress(form: Form) -> CallProgress:
    """Parse the status callback of a call we placed."""
    return CallProgress(
        sid=_sid(form, CALL_SID),
        status=_word(form, CALL_STATUS) or "",
        sequence=whole_number(_get(form, SEQUENCE_NUMBER)),
        answered_by=_word(form, ANSWERED_BY),
        error_code=whole_number(_get(form, ERROR_CODE)),
        duration_seconds=whole_number(_get(form, CALL_DURATION)),
    )


def page_status(form: Form) -> PageStatus:
    """Parse a page's status callback: a text's if it names a message, else a call's."""
    if MESSAGE_SID in form:
        return SmsProgress(
            sid=_sid(form, MESSAGE_SID),
            status=_word(form, MESSAGE_STATUS) or _word(form, SMS_STATUS) or "",
            error_code=whole_number(_get(form, ERROR_CODE)),
        )
    return call_progress(form)


def sms_received(form: Form) -> SmsReceived:
    """Parse a text to our number."""
    return SmsReceived(
        sid=_text(form, MESSAGE_SID) or _text(form, SMS_SID),
        from_number=_address(form, FROM) or "",
        body=_get(form, BODY) or "",
    )
