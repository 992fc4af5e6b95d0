"""The escalation state of one incident, and its JSON form stored on the incident row.

The state is an immutable value: the engine returns a new one for every event. Every
field the engine decides with is here, so a worker that restarts (or another worker)
continues exactly where the last one stopped by loading the JSON.

A round is the steps the escalation entered together: one step, or several when steps
with a zero delay page the next step at the same time. ``pass_no``/``step`` name the
round's last step, whose delay runs; ``round_from`` is where the round began.

A page is one (pass, step, analyst, channel) record. Its ``key`` names the current attempt,
for example ``0.1.alex.voice.2`` (pass 0, step 1, second attempt) or
``reminder.alex.sms.1``; the runner uses it as the idempotency key for sending and to
route Twilio's status callbacks back to the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar, cast, get_args

from escalation.errors import PolicyError, StateError
from escalation.policy import Channel, Policy, Target, policy_from_dict, policy_to_dict

Status = Literal["pending", "paging", "acknowledged", "exhausted", "called_back", "resolved"]
PageStatus = Literal["sending", "retry_wait", "delivered", "no_answer", "failed", "cancelled"]
Purpose = Literal["page", "reminder", "warning"]

STATUSES: tuple[Status, ...] = get_args(Status)
PAGE_STATUSES: tuple[PageStatus, ...] = get_args(PageStatus)
PURPOSES: tuple[Purpose, ...] = get_args(Purpose)
# Statuses after which nothing more happens for the incident.
FINAL_STATUSES: frozenset[Status] = frozenset({"called_back", "resolved"})
# A page in one of these may still reach the analyst, so the step is worth waiting for.
LIVE_PAGE_STATUSES: frozenset[PageStatus] = frozenset({"sending", "retry_wait", "delivered"})
DEFAULT_REMIND_BEFORE = timedelta(minutes=10)
STATE_VERSION = 1

_Word = TypeVar("_Word", bound=str)


def as_utc(moment: datetime, what: str = "time") -> datetime:
    """Return an aware datetime in UTC; refuse naive ones, whose zone is a guess."""
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise StateError(f"{what} must be a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Recipient:
    """An analyst a step resolved to, with the numbers to page (None = no such channel)."""

    analyst: str
    sms: str | None = None
    voice: str | None = None
    sms_stopped: bool = False  # the analyst texted STOP, so Twilio will refuse our SMS

    def __post_init__(self) -> None:
        if not isinstance(self.analyst, str) or not self.analyst:
            raise StateError("a recipient needs an analyst code")

    def number(self, channel: Channel) -> str | None:
        """Return the number to page on a channel, or None when there is none."""
        return self.sms if channel == "sms" else self.voice


@dataclass(frozen=True)
class Page:
    """One analyst paged on one channel in one round, at its current attempt."""

    purpose: Purpose
    pass_no: int
    step: int
    analyst: str
    channel: Channel
    to: str
    attempt: int = 1
    status: PageStatus = "sending"
    retry_at: datetime | None = None

    @property
    def key(self) -> str:
        """Return the idempotency key of this attempt."""
        prefix = f"{self.pass_no}.{self.step}" if self.purpose == "page" else self.purpose
        return f"{prefix}.{self.analyst}.{self.channel}.{self.attempt}"

    @property
    def is_live(self) -> bool:
        """Return True while the page may still reach the analyst."""
        return self.status in LIVE_PAGE_STATUSES


@dataclass(frozen=True)
class EscalationState:
    """Where one incident's escalation stands; see ``escalation.engine.next``."""

    policy: Policy
    status: Status = "pending"
    pass_no: int = 0
    step: int = 0
    step_due_at: datetime | None = None
    round_from: int = 0  # the ``position`` of the round's first step
    pages: tuple[Page, ...] = ()
    contacts: tuple[Recipient, ...] = ()
    sms_stopped: frozenset[str] = field(default_factory=frozenset)
    opened_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    callback_by: str | None = None
    callback_at: datetime | None = None
    sla_deadline: datetime | None = None
    remind_before: timedelta = DEFAULT_REMIND_BEFORE
    reminder_sent: bool = False

    @property
    def is_final(self) -> bool:
        """Return True once nothing more will be sent for this incident."""
        return self.status in FINAL_STATUSES

    @property
    def reminder_at(self) -> datetime | None:
        """Return when the acknowledger is reminded, or None when no reminder is pending."""
        if self.status != "acknowledged" or self.reminder_sent or self.sla_deadline is None:
            return None
        at = self.sla_deadline - self.remind_before
        # An ack that lands after the reminder point needs no reminder: it is fresh news.
        if self.acknowledged_at is not None and at <= self.acknowledged_at:
            return None
        return at

    @property
    def wake_at(self) -> datetime | None:
        """Return when the runner must deliver the next TimerFired, or None for never."""
        times = [page.retry_at for page in self.pages if page.status == "retry_wait"]
        if self.status == "paging":
            times.append(self.step_due_at)
        times.append(self.reminder_at)
        present = [moment for moment in times if moment is not None]
        return min(present) if present else None

    def position(self, pass_no: int, step: int) -> int:
        """Return a step's place in the escalation, counting pass by pass, step by step."""
        return pass_no * len(self.policy.steps) + step

    def in_round(self, page: Page) -> bool:
        """Return True if the page pages for a step of the current round."""
        at = self.position(page.pass_no, page.step)
        last = self.position(self.pass_no, self.step)
        return page.purpose == "page" and self.round_from <= at <= last

    def find_page(self, key: str) -> Page | None:
        """Return the page whose current attempt has this key."""
        return next((page for page in self.pages if page.key == key), None)

    def contact(self, analyst: str) -> Recipient | None:
        """Return the last known numbers of an analyst paged in this incident."""
        return next((item for item in self.contacts if item.analyst == analyst), None)

    def was_paged(self, analyst: str) -> bool:
        """Return True if any page (of any purpose) went to the analyst."""
        return any(page.analyst == analyst for page in self.pages)

    def analyst_for_number(self, number: str) -> str | None:
        """Return the analyst paged at this number in this incident, or None."""
        return next((page.analyst for page in self.pages if page.to == number), None)


# Who each of the policy's targets resolves to right now; a missing target is logged.
Roster = Mapping[Target, Sequence[Recipient]]


def new_state(
    policy: Policy,
    *,
    sla_deadline: datetime | None = None,
    remind_before: timedelta = DEFAULT_REMIND_BEFORE,
) -> EscalationState:
    """Return the pending state of a new incident; the Opened event starts paging."""
    if remind_before < timedelta(0):
        raise StateError("remind_before must not be negative")
    deadline = None if sla_deadline is None else as_utc(sla_deadline, "sla_deadline")
    return EscalationState(policy=policy, sla_deadline=deadline, remind_before=remind_before)


def state_to_dict(state: EscalationState) -> dict[str, Any]:
    """Return the JSON-safe form of a state, for the incident row."""
    return {
        "version": STATE_VERSION,
        "policy": policy_to_dict(state.policy),
        "status": state.status,
        "pass_no": state.pass_no,
        "step": state.step,
        "step_due_at": _time_out(state.step_due_at),
        "round_from": state.round_from,
        "pages": [
            {
                "purpose": page.purpose,
                "pass_no": page.pass_no,
                "step": page.step,
                "analyst": page.analyst,
                "channel": page.channel,
                "to": page.to,
                "attempt": page.attempt,
                "status": page.status,
                "retry_at": _time_out(page.retry_at),
            }
            for page in state.pages
        ],
        "contacts": [
            {"analyst": c.analyst, "sms": c.sms, "voice": c.voice, "sms_stopped": c.sms_stopped}
            for c in state.contacts
        ],
        "sms_stopped": sorted(state.sms_stopped),
        "opened_at": _time_out(state.opened_at),
        "acknowledged_by": state.acknowledged_by,
        "acknowledged_at": _time_out(state.acknowledged_at),
        "callback_by": state.callback_by,
        "callback_at": _time_out(state.callback_at),
        "sla_deadline": _time_out(state.sla_deadline),
        "remind_before_seconds": int(state.remind_before.total_seconds()),
        "reminder_sent": state.reminder_sent,
    }


def state_from_dict(data: Mapping[str, Any]) -> EscalationState:
    """Return the state stored by ``state_to_dict``; raise StateError if it is damaged."""
    try:
        if data.get("version") != STATE_VERSION:
            raise StateError(f"unsupported escalation state version {data.get('version')!r}")
        status = _choice(data["status"], STATUSES, "status")
        policy = policy_from_dict(data["policy"])
        pass_no, step = _int(data["pass_no"], "pass_no"), _int(data["step"], "step")
        # A state stored before rounds were kept had one step per round.
        round_from = data.get("round_from", pass_no * len(policy.steps) + step)
        return EscalationState(
            policy=policy,
            status=status,
            pass_no=pass_no,
            step=step,
            step_due_at=_time_in(data["step_due_at"]),
            round_from=_int(round_from, "round_from"),
            pages=tuple(_page_in(item) for item in data["pages"]),
            contacts=tuple(
                Recipient(
                    analyst=item["analyst"],
                    sms=_optional_text(item["sms"]),
                    voice=_optional_text(item["voice"]),
                    sms_stopped=bool(item["sms_stopped"]),
                )
                for item in data["contacts"]
            ),
            sms_stopped=frozenset(str(code) for code in data["sms_stopped"]),
            opened_at=_time_in(data["opened_at"]),
            acknowledged_by=_optional_text(data["acknowledged_by"]),
            acknowledged_at=_time_in(data["acknowledged_at"]),
            callback_by=_optional_text(data["callback_by"]),
            callback_at=_time_in(data["callback_at"]),
            sla_deadline=_time_in(data["sla_deadline"]),
            remind_before=timedelta(seconds=_int(data["remind_before_seconds"], "remind_before")),
            reminder_sent=bool(data["reminder_sent"]),
        )
    except PolicyError as exc:
        raise StateError(f"stored policy snapshot is invalid: {exc}") from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise StateError(f"stored escalation state is damaged: {exc!r}") from None


def _page_in(item: Mapping[str, Any]) -> Page:
    """Return a page from its stored form."""
    return Page(
        purpose=_choice(item["purpose"], PURPOSES, "page purpose"),
        pass_no=_int(item["pass_no"], "page pass_no"),
        step=_int(item["step"], "page step"),
        analyst=str(item["analyst"]),
        channel=_choice(item["channel"], ("sms", "voice"), "page channel"),
        to=str(item["to"]),
        attempt=_int(item["attempt"], "page attempt"),
        status=_choice(item["status"], PAGE_STATUSES, "page status"),
        retry_at=_time_in(item["retry_at"]),
    )


def _choice(value: object, allowed: tuple[_Word, ...], what: str) -> _Word:
    """Return value if it is one of the allowed words."""
    if value not in allowed:
        raise StateError(f"stored {what} {value!r} is not one of {allowed}")
    return cast(_Word, value)


def _int(value: object, what: str) -> int:
    """Return value if it is a plain non-negative int."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StateError(f"stored {what} {value!r} is not a whole number")
    return value


def _optional_text(value: object) -> str | None:
    """Return value if it is text or None."""
    if value is not None and not isinstance(value, str):
        raise StateError(f"stored value {value!r} is not text")
    return value


def _time_out(moment: datetime | None) -> str | None:
    """Return an ISO 8601 UTC timestamp, or None."""
    return None if moment is None else as_utc(moment).isoformat()


def _time_in(value: object) -> datetime | None:
    """Return the UTC datetime of a stored timestamp, or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise StateError(f"stored time {value!r} is not text")
    try:
        return as_utc(datetime.fromisoformat(value), "stored time")
    except ValueError as exc:
        raise StateError(f"stored time {value!r}: {exc}") from None
