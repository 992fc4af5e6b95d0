"""What can happen to an escalation: the events the runner feeds to ``engine.next``.

The runner turns each outside fact into one event and calls
``next(state, event, now, roster)``; times are not part of events, ``now`` is.

- Twilio status callbacks, routed back by the page key (put it in the callback URL):
  SMS ``delivered`` -> ``PageDelivered``; SMS ``undelivered``/``failed`` ->
  ``PageUndelivered(key, ErrorCode, is_temporary_failure(None, ErrorCode))``; a call
  answered with ``AnsweredBy=human`` (or unknown, once a key is pressed) ->
  ``PageDelivered``; ``machine_*``/``fax`` -> ``PageNoAnswer(key, "machine")`` after
  leaving a short message; ``busy``/``no-answer``/``canceled`` -> ``PageNoAnswer``; call
  ``failed`` -> ``PageUndelivered``. A REST error when sending -> ``PageFailed`` with the
  adapter's ``TelephonyError.is_temporary``; a timeout -> ``PageFailed(key, None, True)``.
- SMS replies (``sms_commands.parse_reply``), only from a number the incident paged
  (``state.analyst_for_number``): ``A`` -> ``Acknowledged(analyst, "sms")``, ``C`` ->
  ``CallbackLogged(analyst, "sms", is_reported=True)``, ``E`` -> ``Declined``; ``STOP``
  -> ``OptedOut`` for every open incident that paged the analyst.
- Voice page keys: 1 -> ``Acknowledged(analyst, "voice")``; 2 -> the same, then the
  bridge to the caller, whose answer is ``CallbackLogged(analyst, "voice", False)``;
  3 -> ``Declined(analyst, "voice")``.
- The timer at ``state.wake_at`` -> ``TimerFired``; the admin page -> ``Acknowledged``,
  ``Declined`` (escalate now) or ``CallbackLogged`` with ``via="web"``, or ``Resolved``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Via = Literal["sms", "voice", "web"]
NoAnswerReason = Literal["busy", "no_answer", "machine", "canceled"]


@dataclass(frozen=True)
class Opened:
    """The incident opened: start paging at the first step."""


@dataclass(frozen=True)
class TimerFired:
    """The time the state asked for (``state.wake_at``) has come; duplicates are harmless."""


@dataclass(frozen=True)
class PageDelivered:
    """Twilio reports the SMS delivered, or a human answered the voice page."""

    page_key: str


@dataclass(frozen=True)
class PageFailed:
    """Twilio refused the page, or could not be asked; ``detail`` says what it said."""

    page_key: str
    code: int | None
    is_temporary: bool
    detail: str = ""


@dataclass(frozen=True)
class PageUndelivered:
    """Twilio took the page, then reported it ``failed`` or ``undelivered`` (with ``code``)."""

    page_key: str
    code: int | None
    is_temporary: bool


@dataclass(frozen=True)
class PageNoAnswer:
    """The voice page was busy, not answered, cancelled, or answered by a machine."""

    page_key: str
    reason: NoAnswerReason = "no_answer"


@dataclass(frozen=True)
class Acknowledged:
    """An analyst acknowledged (SMS ``A``, voice 1 or 2, or the admin page)."""

    analyst: str
    via: Via


@dataclass(frozen=True)
class Declined:
    """An analyst cannot take it (SMS ``E``, voice 3): escalate now."""

    analyst: str
    via: Via


@dataclass(frozen=True)
class CallbackLogged:
    """The caller was called back: by the bridge (measured) or as the analyst reports."""

    analyst: str
    via: Via
    is_reported: bool


@dataclass(frozen=True)
class OptedOut:
    """The analyst texted STOP: our SMS to them will be refused from now on."""

    analyst: str


@dataclass(frozen=True)
class Resolved:
    """An admin closed the incident: stop everything."""

    by: str | None = None


Event = (
    Opened
    | TimerFired
    | PageDelivered
    | PageFailed
    | PageUndelivered
    | PageNoAnswer
    | Acknowledged
    | Declined
    | CallbackLogged
    | OptedOut
    | Resolved
)
