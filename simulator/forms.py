"""Twilio's rules for create requests: what it refuses and the record it makes, not serving."""

from __future__ import annotations

from datetime import datetime

from werkzeug.datastructures import MultiDict

from simulator.resources import E164, ApiError, CallRecord, MessageRecord, new_sid

# Parameters of a call create request the simulator reads; any other is kept in ``extra``.
_CALL_PARAMETERS = frozenset(
    {
        "To",
        "From",
        "Url",
        "Method",
        "Twiml",
        "StatusCallback",
        "StatusCallbackMethod",
        "StatusCallbackEvent",
        "MachineDetection",
        "AsyncAmd",
        "AsyncAmdStatusCallback",
        "Timeout",
    }
)


def check_message_form(form: MultiDict[str, str]) -> None:
    """Refuse an SMS create request Twilio would refuse, with Twilio's error code."""
    to, from_, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
    if not to:
        raise ApiError(400, 21604)
    if not from_ and not form.get("MessagingServiceSid"):
        raise ApiError(400, 21603)
    if not body and not form.get("MediaUrl"):
        raise ApiError(400, 21602)
    if not E164.match(to):
        raise ApiError(400, 21211, f"The 'To' number {to} is not a valid phone number.")


def message_from_form(form: MultiDict[str, str], account_sid: str, now: datetime) -> MessageRecord:
    """Return the queued outbound message an accepted SMS create request makes."""
    return MessageRecord(
        new_sid("SM"),
        account_sid,
        form.get("To", ""),
        form.get("From", ""),
        form.get("Body", ""),
        "outbound-api",
        "queued",
        now,
        now,
        status_callback=form.get("StatusCallback") or None,
    )


def check_call_form(form: MultiDict[str, str]) -> None:
    """Refuse a call create request Twilio would refuse, with Twilio's error code."""
    to, from_ = form.get("To", ""), form.get("From", "")
    if not to:
        raise ApiError(400, 21201)
    if not from_:
        raise ApiError(400, 21213)
    if not form.get("Url") and not form.get("Twiml") and not form.get("ApplicationSid"):
        raise ApiError(400, 21205)
    if not E164.match(to):
        raise ApiError(400, 21211, f"The 'To' number {to} is not a valid phone number.")


def call_from_form(form: MultiDict[str, str], account_sid: str, now: datetime) -> CallRecord:
    """Return the queued outbound call an accepted call create request makes."""
    events = [e for value in form.getlist("StatusCallbackEvent") for e in value.split()]
    return CallRecord(
        new_sid("CA"),
        account_sid,
        form.get("To", ""),
        form.get("From", ""),
        "outbound-api",
        "queued",
        now,
        now,
        url=form.get("Url") or None,
        method=(form.get("Method") or "POST").upper(),
        twiml=form.get("Twiml") or None,
        status_callback=form.get("StatusCallback") or None,
        status_callback_method=(form.get("StatusCallbackMethod") or "POST").upper(),
        status_callback_events=tuple(events) if events else ("completed",),
        machine_detection=form.get("MachineDetection") or None,
        async_amd=form.get("AsyncAmd", "").lower() == "true",
        async_amd_status_callback=form.get("AsyncAmdStatusCallback") or None,
        timeout=int(form.get("Timeout") or 60),
        extra={k: v for k, v in form.items() if k not in _CALL_PARAMETERS},
    )
