"""What the runner must do after a transition: the actions ``engine.next`` returns.

Actions are performed in order, after the new state is stored. ``SendPage.page_key``
is unique for the life of the incident, so a runner that crashes and performs the
same actions again can skip keys it has already sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from escalation.policy import Channel
from escalation.state import Purpose

# Why the admins are told; every one is a point where paging gave something up.
AdminKind = Literal[
    "escalation",  # anything else
    "page_failed",  # a page could not be sent or delivered: permanent error, or tries spent
    "step_failed",  # no page of a step could go out: the next step is paged at once
    "analyst_unreachable",  # an analyst has no usable number
    "sms_opted_out",  # an analyst texted STOP and cannot be texted
    "exhausted",  # every pass of the policy ended and nobody acknowledged
    "reminder_failed",  # the acknowledger could not be reminded of the callback deadline
    "deadline_near",  # the callback deadline is near and there is no next tier to warn
]


@dataclass(frozen=True)
class SendPage:
    """Send one page: an SMS or a voice call to ``to`` about the incident.

    ``purpose`` picks the wording: ``page`` (please acknowledge), ``reminder`` (you
    acknowledged; the callback deadline is near) or ``warning`` (to the next tier: the
    deadline is near and the acknowledger has not called back yet).
    """

    page_key: str
    analyst: str
    channel: Channel
    to: str
    attempt: int
    purpose: Purpose


@dataclass(frozen=True)
class CancelPages:
    """Hang up these voice pages if they are still queued or ringing; leave answered calls."""

    page_keys: tuple[str, ...]


@dataclass(frozen=True)
class ScheduleTimer:
    """Deliver TimerFired at ``at`` (replacing any earlier timer of this incident)."""

    at: datetime


@dataclass(frozen=True)
class CancelTimer:
    """The incident needs no timer any more."""


@dataclass(frozen=True)
class NotifyAdmins:
    """Tell the admins something needs a person: a page given up, nobody left to page."""

    reason: str
    analyst: str | None = None
    kind: AdminKind = "escalation"


@dataclass(frozen=True)
class LogEvent:
    """Record this in the incident's event log (``kind`` is a short slug)."""

    kind: str
    detail: str


Action = SendPage | CancelPages | ScheduleTimer | CancelTimer | NotifyAdmins | LogEvent
