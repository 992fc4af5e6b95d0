"""What needs an admin's attention now: open incidents by urgency, alarms, and who is on call.

Open incidents come first, most urgent first: an escalation that ran out of steps, then
one still paging (or about to), then acknowledged ones waiting for their callback, then
messages nobody is paged for; within each, the SLA clock with least time left first.
Each says where its escalation stands (step, who is being paged on which channel) from
the state stored on the incident, and its SLA countdown from the live clocks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from escalation.errors import StateError
from escalation.state import EscalationState, Page, state_from_dict
from oncall.models import Analyst
from oncall.views.formatting import duration_text
from voiceline.admin.formatting import when
from voiceline.admin.models import AdminNotice
from voiceline.incidents.log import OPEN_STATUSES
from voiceline.incidents.models import Incident
from voiceline.sla.live import LiveClock, live_clocks

Standing = Literal["unreadable", "exhausted", "paging", "acknowledged", "not_paged", "closing"]
# Lower is more urgent; the first three mean nobody has taken the incident yet.
URGENCY: dict[Standing, int] = {
    "unreadable": 0,
    "exhausted": 0,
    "paging": 1,
    "acknowledged": 2,
    "not_paged": 3,
    "closing": 4,
}
MAX_LISTED = 100  # open incidents shown; more than this is a flood, counted not listed
NOTICE_LABELS = {
    "unpageable": "Cannot page",
    "spool_parked": "Message parked in the spool",
}
_CHANNELS = {"sms": "SMS", "voice": "call"}
_PAGE_STATUS = {
    "sending": "sending",
    "retry_wait": "retrying",
    "delivered": "delivered",
    "no_answer": "no answer",
    "failed": "failed",
    "cancelled": "cancelled",
}


@dataclass(frozen=True)
class OpenIncident:
    """One open incident as the home page lists it."""

    incident: Incident
    standing: Standing
    standing_text: str
    paging: tuple[str, ...]
    clock: LiveClock | None
    countdown: str
    opened_text: str
    age_text: str

    @property
    def is_unacknowledged(self) -> bool:
        """Return True while nobody has taken the incident on."""
        return URGENCY[self.standing] <= URGENCY["paging"]

    def sort_key(self) -> tuple[int, float, datetime, int]:
        """Return the urgency order: standing, then least SLA time left, then oldest."""
        left = self.clock.time_left.total_seconds() if self.clock else float("inf")
        return (URGENCY[self.standing], left, self.incident.opened_at, self.incident.id)


@dataclass(frozen=True)
class Alarm:
    """An unresolved admin notice."""

    notice: AdminNotice
    label: str
    age_text: str


@dataclass
class Attention:
    """Everything the home page shows above the rota."""

    incidents: list[OpenIncident] = field(default_factory=list)
    more_incidents: int = 0
    alarms: list[Alarm] = field(default_factory=list)

    @property
    def unacknowledged(self) -> int:
        """Return how many open incidents nobody has taken on yet."""
        return sum(1 for item in self.incidents if item.is_unacknowledged)


def _current_pages(state: EscalationState) -> list[Page]:
    """Return the pages of the step now running (of this pass)."""
    return [
        p
        for p in state.pages
        if p.purpose == "page" and p.pass_no == state.pass_no and p.step == state.step
    ]


def _paging(state: EscalationState, names: dict[str, str]) -> tuple[str, ...]:
    """Say who the running step pages, each with their channels and how the pages stand."""
    channels: dict[str, list[str]] = defaultdict(list)
    for page in _current_pages(state):
        channels[page.analyst].append(
            f"{_CHANNELS.get(page.channel, page.channel)} {_PAGE_STATUS[page.status]}"
        )
    return tuple(f"{names.get(code, code)} ({', '.join(ways)})" for code, ways in channels.items())


def _standing(incident: Incident, names: dict[str, str]) -> tuple[Standing, str, tuple[str, ...]]:
    """Return where the incident's escalation stands, in words, and who it is paging."""
    if incident.escalation_state is None:
        if incident.next_due_at is not None:
            return "paging", "Paging is starting", ()
        return "not_paged", "Nobody is paged (a message to call back)", ()
    try:
        state = state_from_dict(incident.escalation_state)
    except StateError as exc:
        return "unreadable", f"Escalation cannot be read: {exc}", ()
    steps = len(state.policy.steps)
    if state.status == "exhausted":
        return "exhausted", f"Nobody acknowledged: all {steps} steps tried", ()
    if state.status == "acknowledged":
        who = names.get(state.acknowledged_by or "", state.acknowledged_by or "somebody")
        return "acknowledged", f"Acknowledged by {who}, callback to come", ()
    if state.is_final:
        return "closing", state.status.replace("_", " ").capitalize(), ()
    if state.status == "pending":
        return "paging", "Paging is starting", ()
    text = f"Escalating: step {state.step + 1} of {steps}"
    if state.policy.repeat:
        text += f", pass {state.pass_no + 1} of {state.policy.repeat + 1}"
    return "paging", text, _paging(state, names) or ("nobody: this step found no one",)


def countdown_text(clock: LiveClock | None) -> str:
    """Say how long the SLA clock has left, e.g. "callback: 25 min left"."""
    if clock is None:
        return "no SLA clock"
    left = clock.time_left
    if left < timedelta(0):
        text = f"{clock.metric}: overdue by {duration_text(-left)}"
    else:
        text = f"{clock.metric}: {duration_text(left)} left"
    return text + (" (paused)" if clock.is_paused else "")


def _local(moment: datetime, incident: Incident) -> str:
    return when(moment, incident.customer.time_zone if incident.customer else "UTC")


def open_incidents(session: Session, now: datetime) -> tuple[list[OpenIncident], int]:
    """Return the open incidents, most urgent first, and how many more were left out."""
    rows = list(
        session.scalars(
            select(Incident)
            .where(Incident.status.in_(OPEN_STATUSES), Incident.closed_at.is_(None))
            .options(selectinload(Incident.customer))
        )
    )
    names = {code: name for code, name in session.execute(select(Analyst.code, Analyst.name))}
    clocks: dict[int, LiveClock] = {}
    for running in live_clocks(session, now):  # soonest deadline first, paused ones last
        clocks.setdefault(running.incident_id, running)
    listed = []
    for row in rows:
        standing, text, paging = _standing(row, names)
        clock = clocks.get(row.id)
        listed.append(
            OpenIncident(
                incident=row,
                standing=standing,
                standing_text=text,
                paging=paging,
                clock=clock,
                countdown=countdown_text(clock),
                opened_text=_local(row.opened_at, row),
                age_text=duration_text(max(now - row.opened_at, timedelta(0))),
            )
        )
    listed.sort(key=OpenIncident.sort_key)
    return listed[:MAX_LISTED], max(0, len(listed) - MAX_LISTED)


def alarms(session: Session, now: datetime) -> list[Alarm]:
    """Return the unresolved admin notices, newest first."""
    notices = session.scalars(
        select(AdminNotice)
        .where(AdminNotice.resolved_at.is_(None))
        .order_by(AdminNotice.at.desc(), AdminNotice.id.desc())
    )
    return [
        Alarm(
            notice=n,
            label=NOTICE_LABELS.get(n.kind, n.kind.replace("_", " ").capitalize()),
            age_text=duration_text(max(now - n.at, timedelta(0))),
        )
        for n in notices
    ]


def attention(session: Session, now: datetime) -> Attention:
    """Return the open incidents and the alarms at ``now``."""
    incidents, more = open_incidents(session, now)
    return Attention(incidents=incidents, more_incidents=more, alarms=alarms(session, now))
