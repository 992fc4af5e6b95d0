"""Counting what went in and what came out of a drill, from outside the product.

What went in: callers (``Caller``), each leaving one message from a number of their own,
and the rounds of paging each caller's incident should cause by a deadline (``Expect``).
What came out: incidents in the database, texts and calls the fake Twilio accepted for a
page (each carries its incident and page key in its status-callback URL), admin notices,
and what ``/healthz`` said while the drill watched it (``AlarmWatch``).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests
from sqlalchemy import func, select

from escalation.models import Page
from simulator.engine import Simulator
from simulator.phones import CallLeg, Phone
from simulator.resources import SimulatorError
from tests.drills.drill_table import DrillRow, record
from tests.drills.drill_twilio import page_of
from tests.e2e_stack import LINE
from voiceline.admin.models import AdminNotice
from voiceline.db import Database
from voiceline.incidents.models import Incident, IncidentEvent

MESSAGE = "The server room is flooded and nobody can log in"


def now() -> datetime:
    """Return the real time (the fake Twilio's clock), whatever the app's clock says."""
    return datetime.now(UTC)


@dataclass
class Caller:
    """One customer who called the line and spoke a message."""

    index: int
    number: str
    call_sid: str | None
    finished: datetime
    heard: str = ""


def leave_message(phone: Phone, index: int) -> Caller:
    """Call the line, press 1 for an emergency, speak and stay silent; never raise."""
    call: CallLeg | None = None
    try:
        call = phone.dial(LINE)
        if not call.is_ended:
            call.press("1")
        if not call.is_ended:
            call.say(f"{MESSAGE} (caller {index})")
        if not call.is_ended:
            call.wait_out()
    except SimulatorError:
        pass  # the call ended under the caller (an application error): counted later
    return Caller(
        index,
        phone.number,
        call.sid if call is not None else None,
        now(),
        call.transcript if call is not None else "",
    )


@dataclass(frozen=True)
class Expect:
    """A round of paging that must reach ``analyst`` for caller ``caller``'s incident."""

    caller: int
    round: str  # "0.0" is pass 0, step 0
    analyst: str
    by: datetime


@dataclass(frozen=True)
class Reach:
    """A text delivered, or a call rung, for one page of one incident."""

    incident: int
    round: str
    analyst: str
    channel: str
    at: datetime


def split_key(key: str) -> tuple[str, str, str]:
    """Return the round, analyst and channel of a page key."""
    parts = key.split(".")
    if parts[0] in ("reminder", "warning"):
        return parts[0], parts[1], parts[2]
    return f"{parts[0]}.{parts[1]}", parts[2], parts[3]


def reaches(sims: Iterable[Simulator]) -> list[Reach]:
    """Return every page that reached a phone: texts delivered and calls that rang."""
    found = []
    for sim in sims:
        with sim.lock:
            records = [
                (m.status_callback, m.status == "delivered", m.created_at, "sms")
                for m in sim.api.messages.values()
                if m.direction == "outbound-api"
            ] + [
                (c.status_callback, c.status != "failed", c.created_at, "call")
                for c in sim.api.calls.values()
                if c.direction == "outbound-api"
            ]
        for callback, reached, at, _ in records:
            page = page_of(callback)
            if page is None or not reached:
                continue
            round_, analyst, channel = split_key(page[1])
            found.append(Reach(page[0], round_, analyst, channel, at))
    return found


@dataclass
class AlarmWatch:
    """Poll ``/healthz`` during a drill and count admin notices written meanwhile."""

    app_url: str
    database_url: str
    every: float = 2.0  # a load balancer's health-check interval
    degraded: int = 0
    polls: int = 0
    _before: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> AlarmWatch:
        """Note the notices already there and start polling."""
        self._before = self.notices()
        self._thread = threading.Thread(target=self._poll, name="healthz", daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                body = requests.get(f"{self.app_url}/healthz", timeout=3).text
                self.polls += 1
                if "degraded" in body:
                    self.degraded += 1
            except requests.RequestException:
                pass  # no answer is not an alarm anyone receives
            self._stop.wait(self.every)

    def notices(self) -> int:
        """Return how many admin notices the database holds."""
        database = Database(self.database_url)
        try:
            with database.session() as session:
                return int(session.scalar(select(func.count(AdminNotice.id))) or 0)
        finally:
            database.dispose()

    def stop(self) -> int:
        """Stop polling; return the alarms: new notices, plus one if healthz degraded."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        return self.notices() - self._before + (1 if self.degraded else 0)


def explain(database_url: str, incidents: list[int]) -> None:
    """Print the pages and the event log of incidents, to show where a page stopped."""
    database = Database(database_url)
    try:
        with database.session() as session:
            for incident_id in incidents:
                for page in session.scalars(select(Page).filter_by(incident_id=incident_id)):
                    print(f"    page {page.page_key} {page.status} sent_at={page.sent_at}")
                for event in session.scalars(
                    select(IncidentEvent)
                    .filter_by(incident_id=incident_id)
                    .order_by(IncidentEvent.id)
                ):
                    print(f"    {event.at.isoformat()} {event.kind} {event.detail}")
    finally:
        database.dispose()


def incidents_by_number(database_url: str) -> dict[str, list[int]]:
    """Return the incidents of each caller number."""
    database = Database(database_url)
    try:
        with database.session() as session:
            rows = session.execute(select(Incident.caller_number, Incident.id)).all()
    finally:
        database.dispose()
    found: dict[str, list[int]] = {}
    for number, incident_id in rows:
        found.setdefault(number or "", []).append(incident_id)
    return found


def tally(
    drill: str,
    faults: int,
    callers: list[Caller],
    expects: list[Expect],
    database_url: str,
    sims: Iterable[Simulator],
    alarms: int,
    doubled_elsewhere: int = 0,
) -> DrillRow:
    """Count a drill, record its row for the table and return it.

    ``doubled_elsewhere`` adds doubles the drill counted itself (two acknowledgements).
    """
    by_number = incidents_by_number(database_url)
    incident_of = {c.index: sorted(by_number.get(c.number, []))[:1] for c in callers}
    found = sum(1 for c in callers if by_number.get(c.number))
    doubled_incidents = sum(max(0, len(by_number.get(c.number, [])) - 1) for c in callers)
    reached = reaches(sims)
    sent = 0
    for expect in expects:
        incident = incident_of.get(expect.caller) or []
        if any(
            r.incident in incident
            and r.round == expect.round
            and r.analyst == expect.analyst
            and r.at <= expect.by
            for r in reached
        ):
            sent += 1
        else:
            late = [
                r.at.isoformat()
                for r in reached
                if r.incident in incident and r.round == expect.round
            ]
            print(
                f"  not reached by {expect.by.isoformat()}: {expect} incident {incident} late: {late}"
            )
            explain(database_url, incident)
    per_channel = Counter((r.incident, r.round, r.analyst, r.channel) for r in reached)
    doubled_pages = sum(count - 1 for count in per_channel.values() if count > 1)
    row = DrillRow(
        drill=drill,
        faults=faults,
        incidents_expected=len(callers),
        incidents_found=found,
        pages_expected=len(expects),
        pages_sent=sent,
        alarms=alarms,
        lost=(len(callers) - found) + (len(expects) - sent),
        doubled=doubled_incidents + doubled_pages + doubled_elsewhere,
    )
    print(f"drill {drill}: {row}")
    for (incident_id, round_, analyst, channel), count in per_channel.items():
        if count > 1:
            print(f"  doubled: incident {incident_id} round {round_} {analyst} {channel} x{count}")
    return record(row)
