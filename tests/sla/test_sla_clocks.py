"""SLA clocks on a real database: start, stop at the callback, restore, pause and resume.

The example directory is loaded: Acme Dental (Diamond: emergency callback 30 min wall,
standard 4 business hours, 10% of 1500.00 credited per breach), Harbor Law (Pro, New York,
standard 4 business hours), Thames Print (Cat2, London: emergency callback 4 h wall,
restoration 12 h wall and pausable).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import EXAMPLE_DIRECTORY
from voiceline.customers.models import Plan, PlanTarget
from voiceline.customers.services import find_caller
from voiceline.db import Database
from voiceline.directory.checker import read_directory_file
from voiceline.directory.loader import load_directory
from voiceline.incidents.models import Incident, IncidentEvent
from voiceline.line.incidents import open_incident
from voiceline.sla.clocks import (
    SlaError,
    clocks_of,
    mark_restored,
    pause,
    resume,
    start_clocks,
    stop_callback,
)
from voiceline.sla.live import live_clocks
from voiceline.sla.models import SlaClock

PAT = "+15035550111"  # Acme Dental
LEE = "+12125550131"  # Harbor Law
ALICE = "+442079460321"  # Thames Print
STRANGER = "+15035559999"
LA = ZoneInfo("America/Los_Angeles")
NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # Sunday 02:00 PST


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    with database.session() as session:
        load_directory(session, read_directory_file(EXAMPLE_DIRECTORY))
        session.flush()
        yield session


_calls = iter(range(1, 10_000))


def open_for(session: Session, number: str, priority: str, at: datetime) -> Incident:
    incident, created = open_incident(
        session,
        call_sid=f"CA{next(_calls):032x}",
        caller=find_caller(session, number),
        priority=priority,
        clock_started_at=at,
        now=at + timedelta(seconds=2),
    )
    assert created
    return incident


def event_kinds(session: Session, incident: Incident) -> list[str]:
    session.flush()
    return list(
        session.scalars(
            select(IncidentEvent.kind).filter_by(incident_id=incident.id).order_by(IncidentEvent.id)
        )
    )


def m(minutes: float) -> timedelta:
    return timedelta(minutes=minutes)


# --- starting ---------------------------------------------------------------------------


def test_an_emergency_on_diamond_starts_one_wall_clock(session) -> None:
    incident = open_for(session, PAT, "emergency", T0)
    [clock] = clocks_of(session, incident).values()
    assert (clock.metric, clock.priority, clock.target_minutes, clock.clock) == (
        "callback",
        "emergency",
        30,
        "wall",
    )
    assert clock.time_zone == "America/Los_Angeles"
    # the customer's, copied from the incident for the monthly report
    assert clock.customer_id == incident.customer_id is not None
    assert clock.started_at == T0
    assert clock.deadline_at == T0 + m(30)
    # the incident row carries the same promise
    assert (incident.target_minutes, incident.target_clock, incident.deadline_at) == (
        30,
        "wall",
        clock.deadline_at,
    )
    assert clock.stopped_at is None and clock.is_met is None


def test_cat2_starts_callback_and_restoration_clocks(session) -> None:
    incident = open_for(session, ALICE, "emergency", T0)
    clocks = clocks_of(session, incident)
    assert sorted(clocks) == ["callback", "restoration"]
    assert clocks["callback"].deadline_at == T0 + timedelta(hours=4)
    assert clocks["restoration"].deadline_at == T0 + timedelta(hours=12)
    assert clocks["restoration"].time_zone == "Europe/London"


def test_a_business_hours_target_is_due_in_the_customers_zone(session) -> None:
    # Friday 16:00 New York, 4 business hours of Mon-Fri 08:00-16:30: due Monday 11:30
    incident = open_for(session, LEE, "standard", datetime(2026, 11, 20, 16, 0, tzinfo=NY))
    clock = clocks_of(session, incident)["callback"]
    assert clock.clock == "business"
    assert clock.deadline_at == datetime(2026, 11, 23, 11, 30, tzinfo=NY)
    assert incident.deadline_at == clock.deadline_at


def test_no_clock_without_a_customer_target(session) -> None:
    unknown = open_for(session, STRANGER, "unverified", T0)
    assert clocks_of(session, unknown) == {}
    assert start_clocks(session, unknown) == []


def test_starting_twice_starts_nothing_more(session) -> None:
    incident = open_for(session, ALICE, "emergency", T0)
    assert start_clocks(session, incident) == []
    session.flush()
    count = session.scalars(select(SlaClock).filter_by(incident_id=incident.id)).all()
    assert len(count) == 2


# --- stopping at the callback -----------------------------------------------------------


def test_a_callback_at_29_minutes_is_met(session) -> None:
    incident = open_for(session, PAT, "emergency", T0)
    clock = stop_callback(session, incident, T0 + m(29), "sms", True, actor="alex")
    assert clock is not None
    assert clock.is_met is True and clock.minutes_over == 0
    assert (clock.wall_seconds, clock.business_seconds) == (29 * 60, 0)  # a Sunday
    assert clock.stop_kind == "sms" and clock.is_reported is True
    assert clock.credit == {}
    assert (incident.callback_at, incident.callback_kind) == (T0 + m(29), "sms")
    assert event_kinds(session, incident)[-1] == "callback_recorded"


def test_a_callback_at_31_minutes_is_breached_with_the_plans_credit(session) -> None:
    incident = open_for(session, PAT, "emergency", T0)
    clock = stop_callback(session, incident, T0 + m(31), "bridge", False)
    assert clock is not None
    assert clock.is_met is False and clock.minutes_over == 1
    # Diamond: 10% of the 1500.00 monthly fee per breach = 150.00 (the 50% cap is monthly)
    assert clock.credit["amount"] == "150.00"
    assert clock.credit["cap_percent"] == "50"


def test_the_first_callback_wins_whatever_order_reports_arrive_in(session) -> None:
    incident = open_for(session, PAT, "emergency", T0)
    stop_callback(session, incident, T0 + m(40), "sms", True)
    before = event_kinds(session, incident)
    # the same report again, and a later one, change nothing
    stop_callback(session, incident, T0 + m(40), "sms", True)
    stop_callback(session, incident, T0 + m(50), "web", True)
    assert event_kinds(session, incident) == before
    clock = clocks_of(session, incident)["callback"]
    assert (clock.stopped_at, clock.stop_kind, clock.is_met) == (T0 + m(40), "sms", False)
    # an earlier callback reported late (the bridge, at 25 min) takes its place
    stop_callback(session, incident, T0 + m(25), "bridge", False)
    assert (clock.stopped_at, clock.stop_kind, clock.is_met, clock.credit) == (
        T0 + m(25),
        "bridge",
        True,
        {},
    )
    assert incident.callback_at == T0 + m(25)
    last = session.scalars(
        select(IncidentEvent).filter_by(incident_id=incident.id).order_by(IncidentEvent.id.desc())
    ).first()
    assert last is not None and last.detail["replaces"] == (T0 + m(40)).isoformat()


def test_the_original_target_stands_when_the_plan_changes(session) -> None:
    incident = open_for(session, PAT, "emergency", T0)
    target = session.scalars(
        select(PlanTarget)
        .join(Plan)
        .where(Plan.code == "diamond", PlanTarget.priority == "emergency")
    ).one()
    target.minutes = 60
    clock = stop_callback(session, incident, T0 + m(45), "sms", True)
    assert clock is not None and clock.target_minutes == 30 and clock.is_met is False
    assert clock.minutes_over == 15


def test_bad_callbacks_are_refused_and_change_nothing(session) -> None:
    incident = open_for(session, PAT, "emergency", T0)
    with pytest.raises(SlaError, match="callback kind"):
        stop_callback(session, incident, T0 + m(5), "pigeon", True)
    with pytest.raises(SlaError, match="before the incident"):
        stop_callback(session, incident, T0 - m(5), "sms", True)
    with pytest.raises(SlaError, match="timezone-aware"):
        stop_callback(session, incident, datetime(2026, 11, 22, 10, 5), "sms", True)
    assert incident.callback_at is None
    assert clocks_of(session, incident)["callback"].stopped_at is None


def test_a_callback_without_a_target_is_still_recorded(session) -> None:
    incident = open_for(session, STRANGER, "unverified", T0)
    assert stop_callback(session, incident, T0 + m(10), "web", True) is None
    assert incident.callback_at == T0 + m(10)
    assert "callback_recorded" in event_kinds(session, incident)


def test_a_broken_credit_rule_never_loses_the_stop(session) -> None:
    incident = open_for(session, PAT, "emergency", T0)
    session.scalars(select(Plan).filter_by(code="diamond")).one().credit_rule = {"kind": "bonus"}
    clock = stop_callback(session, incident, T0 + m(45), "sms", True)
    assert clock is not None and clock.is_met is False
    assert "credit kind" in clock.credit["error"]


# --- restoration, pauses ----------------------------------------------------------------


def test_restoration_stops_its_own_clock(session) -> None:
    incident = open_for(session, ALICE, "emergency", T0)
    stop_callback(session, incident, T0 + m(20), "bridge", False)
    clock = mark_restored(session, incident, T0 + timedelta(hours=13), "admin")
    assert clock is not None and clock.metric == "restoration"
    assert clock.is_met is False and clock.minutes_over == 60
    assert clock.stop_kind == "restored" and incident.restored_at == T0 + timedelta(hours=13)
    assert clock.credit == {}  # Cat2 has no credit rule
    assert clocks_of(session, incident)["callback"].is_met is True


def test_pausing_restoration_waits_for_the_customer_and_moves_the_deadline(session) -> None:
    incident = open_for(session, ALICE, "emergency", T0)
    with pytest.raises(SlaError, match="needs a reason"):
        pause(session, incident, "  ", T0 + m(60), "sam")
    [paused] = pause(session, incident, "waiting for customer access", T0 + m(60), "sam")
    assert paused.metric == "restoration"  # the callback target is not pausable
    with pytest.raises(SlaError, match="already paused"):
        pause(session, incident, "again", T0 + m(70), "sam")
    assert live_clocks(session, T0 + m(100))[-1].is_paused  # paused clocks sort last
    [resumed] = resume(session, incident, T0 + m(180), "sam")
    assert resumed.deadline_at == T0 + timedelta(hours=14)  # 12 h + 2 h paused
    assert resumed.paused_seconds == 2 * 3600
    assert resumed.pauses[0]["deadline_before"] == (T0 + timedelta(hours=12)).isoformat()
    clock = mark_restored(session, incident, T0 + timedelta(hours=13), "admin")
    assert clock is not None and clock.is_met is True
    assert clock.wall_seconds == 11 * 3600  # 13 h less the 2 h pause
    kinds = event_kinds(session, incident)
    assert kinds.index("sla_paused") < kinds.index("sla_resumed") < kinds.index("restored")
    paused_event = session.scalars(
        select(IncidentEvent).filter_by(incident_id=incident.id, kind="sla_paused")
    ).one()
    assert paused_event.detail["reason"] == "waiting for customer access"
    assert paused_event.actor == "sam"


def test_a_stop_while_paused_ends_the_pause(session) -> None:
    incident = open_for(session, ALICE, "emergency", T0)
    pause(session, incident, "waiting for customer access", T0 + m(60), "sam")
    clock = mark_restored(session, incident, T0 + m(120), "admin")
    assert clock is not None and clock.paused_since is None
    assert clock.wall_seconds == 60 * 60 and clock.paused_seconds == 60 * 60


def test_only_plans_that_say_so_may_pause(session) -> None:
    incident = open_for(session, PAT, "emergency", T0)
    with pytest.raises(SlaError, match="may be paused"):
        pause(session, incident, "waiting for customer access", T0 + m(5), "sam")
    with pytest.raises(SlaError, match="is paused"):
        resume(session, incident, T0 + m(6), "sam")
    assert clocks_of(session, incident)["callback"].pauses == []


def test_resuming_a_business_clock_adds_the_business_time_left(session) -> None:
    # Make Pro's standard target pausable: Harbor Law, Monday 08:00 New York, 4 business hours
    target = session.scalars(select(PlanTarget).join(Plan).where(Plan.code == "pro")).one()
    target.pausable = True
    start = datetime(2026, 11, 23, 8, 0, tzinfo=NY)
    incident = open_for(session, LEE, "standard", start)
    assert incident.deadline_at == datetime(2026, 11, 23, 12, 0, tzinfo=NY)
    pause(session, incident, "waiting for customer access", start + m(60), "sam")
    # resumed Tuesday 09:00: 3 business hours left -> Tuesday 12:00
    [clock] = resume(session, incident, datetime(2026, 11, 24, 9, 0, tzinfo=NY), "sam")
    assert clock.deadline_at == datetime(2026, 11, 24, 12, 0, tzinfo=NY)
    assert incident.deadline_at == clock.deadline_at  # reminders follow the moved deadline
    done = stop_callback(session, incident, datetime(2026, 11, 24, 12, 0, tzinfo=NY), "web", True)
    assert done is not None and done.is_met is True
    assert done.business_seconds == 4 * 3600


# --- the live view ----------------------------------------------------------------------


def test_live_clocks_sort_by_deadline_with_warning_levels(session) -> None:
    acme = open_for(session, PAT, "emergency", T0)  # due 02:30 PST
    thames = open_for(session, ALICE, "emergency", T0 - m(200))  # callback due in 40 min
    harbor = open_for(session, LEE, "standard", T0)  # due Monday 12:00 New York
    done = open_for(session, PAT, "emergency", T0 - m(5))
    stop_callback(session, done, T0 + m(1), "sms", True)
    now = T0 + m(20)
    live = live_clocks(session, now)
    assert [(c.incident_id, c.metric) for c in live] == [
        (acme.id, "callback"),
        (thames.id, "callback"),
        (thames.id, "restoration"),
        (harbor.id, "callback"),
    ]
    assert [c.level for c in live] == ["50", "75", "ok", "ok"]  # 20/30; 220/240; 220/720
    assert live[0].time_left == m(10)
    assert live[3].time_left == m(240)  # Sunday: no business time used yet
    incident = session.get(Incident, acme.id)
    assert incident is not None
    incident.closed_at = now  # a closed incident leaves the live view
    assert [c.incident_id for c in live_clocks(session, now)][0] == thames.id


def test_a_clock_that_cannot_start_never_loses_the_incident(session) -> None:
    # Diamond gains a restoration target on business time; Acme's calendar never opens.
    plan = session.scalars(select(Plan).filter_by(code="diamond")).one()
    plan.targets.append(
        PlanTarget(metric="restoration", priority="emergency", minutes=240, clock="business")
    )
    acme = find_caller(session, PAT).customer
    assert acme is not None
    acme.business_hours = "none"
    incident = open_for(session, PAT, "emergency", T0)
    assert sorted(clocks_of(session, incident)) == ["callback"]  # the wall clock still runs
    logged = session.scalars(
        select(IncidentEvent).filter_by(incident_id=incident.id, kind="sla_not_started")
    ).one()
    assert logged.detail["metric"] == "restoration" and "no business time" in logged.detail["error"]
