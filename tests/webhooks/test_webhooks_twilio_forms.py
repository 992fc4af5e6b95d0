"""The form parser: Twilio's parameters in, checked events out, whatever was posted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import FrozenInstanceError, fields, is_dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voiceline import twilio_forms as forms
from voiceline.twilio_events import (
    MAX_COLUMN_INT,
    CallLeg,
    CallProgress,
    RecordingRef,
    SmsProgress,
)

PARSERS: list[Callable[[forms.Form], Any]] = [
    forms.incoming_call,
    forms.key_pressed,
    forms.dial_ended,
    forms.recording_done,
    forms.recording_reported,
    forms.call_status_changed,
    forms.transcription_done,
    forms.page_answered,
    forms.call_progress,
    forms.page_status,
    forms.sms_received,
]


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("0", 0),
        ("14", 14),
        (" 7 ", 7),
        ("2147483647", MAX_COLUMN_INT),
        ("2147483648", None),
        ("9223372036854775808", None),
        ("9" * 5000, None),
        ("00000000000000000001", None),
        ("²", None),
        ("١٢", None),
        ("１２", None),  # fullwidth
        ("-1", None),
        ("+5", None),
        ("1_000", None),
        ("1.5", None),
        ("", None),
        (None, None),
    ],
)
def test_whole_number_takes_ascii_digits_that_fit_a_column(value: str | None, number) -> None:
    assert forms.whole_number(value) == number


@pytest.mark.parametrize(
    ("value", "digits"),
    [
        ("1", "1"),
        (" 2 ", "2"),
        ("*", "*"),
        ("#", "#"),
        ("123#", "123#"),
        ("", ""),
        (None, ""),
        ("²", ""),
        ("١", ""),
        ("1²", ""),
        ("hangup", ""),
        ("1" * 33, ""),
    ],
)
def test_keypad_digits_are_keypad_keys_only(value: str | None, digits: str) -> None:
    assert forms.keypad_digits(value) == digits


def test_a_recorded_message_carries_its_recording() -> None:
    done = forms.recording_done(
        {
            "CallSid": "CA1",
            "From": "+15035550111",
            "To": "+15035550100",
            "CallStatus": "completed",
            "FromCountry": "us",
            "RecordingSid": "RE1",
            "RecordingUrl": "https://api.twilio.com/r/RE1",
            "RecordingDuration": "14",
            "Digits": "#",
        }
    )
    assert done.call == CallLeg("CA1", "+15035550111", "+15035550100", "completed", "US")
    assert done.recording == RecordingRef("RE1", "https://api.twilio.com/r/RE1", 14)
    assert forms.recording_done({"CallSid": "CA1"}).recording is None


def test_a_page_status_is_a_texts_when_it_names_a_message() -> None:
    sms = forms.page_status({"MessageSid": "SM1", "SmsStatus": "sent", "ErrorCode": "30003"})
    assert sms == SmsProgress("SM1", "sent", 30003)
    call = forms.page_status(
        {"CallSid": "CA1", "CallStatus": "busy", "SequenceNumber": "2", "AnsweredBy": "human"}
    )
    assert call == CallProgress("CA1", "busy", sequence=2, answered_by="human")


def test_a_status_too_long_for_its_column_reads_as_not_given() -> None:
    progress = forms.call_progress(
        {"CallSid": "CA1", "CallStatus": "x" * 33, "AnsweredBy": "y" * 33}
    )
    assert progress.status == "" and progress.answered_by is None


def test_an_address_too_long_for_a_number_column_reads_as_withheld() -> None:
    sip = "sip:someone.with.a.long.name@voip.example.com"
    assert forms.call_leg({"CallSid": "CA1", "From": sip, "To": sip}).from_number is None
    assert forms.sms_received({"From": sip, "Body": "A"}).from_number == ""
    assert forms.call_leg({"From": "client:alice"}).from_number == "client:alice"


def test_events_are_frozen() -> None:
    event = forms.incoming_call({"CallSid": "CA1"})
    with pytest.raises(FrozenInstanceError):
        event.call = CallLeg("CA2")  # type: ignore[misc]


ANY_FORM = st.dictionaries(
    st.sampled_from(sorted(forms.FIELD_NAMES | {"Other"})), st.text(max_size=30), max_size=12
)
NUMBERS = ("duration_seconds", "sequence", "error_code")


def numbers_in(value: Any) -> list[int | None]:
    """Return every whole-number field anywhere inside an event."""
    if not is_dataclass(value):
        return []
    found: list[int | None] = []
    for field in fields(value):
        inner = getattr(value, field.name)
        found += [inner] if field.name in NUMBERS else numbers_in(inner)
    return found


@given(form=ANY_FORM, parser=st.sampled_from(PARSERS))
def test_any_form_parses_to_an_event_with_checked_numbers_and_keys(form, parser) -> None:
    event = parser(form)
    assert is_dataclass(event)
    for number in numbers_in(event):
        assert number is None or 0 <= number <= MAX_COLUMN_INT
    digits = getattr(event, "digits", "")
    assert set(digits) <= forms.KEYPAD
