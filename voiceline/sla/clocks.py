"""SLA clocks: started when an incident opens, stopped at the callback and at restoration.

One ``SlaClock`` row per plan target that applies to the incident (its priority, the
callback and restoration metrics). A clock starts when the caller finished the message
(``incident.clock_started_at``); its target, clock kind (wall or business), the customer's
time zone and the deadline are fixed at start, so a later plan change does not move a
promise already made. The incident row mirrors the callback clock (target and deadline),
which is what the escalation reminders read.

Stopping: ``stop_callback`` is the one function the escalation runner (bridge answered,
SMS ``C``) and the incident page call; ``mark_restored`` stops the restoration clock. The
earliest stop wins, whatever order the reports arrive in, and repeating one changes
nothing. A stop records wall and business elapsed time (minus pauses), met or breached
(voiceline.sla_math), minutes over and the credit the plan's rule gives for that breach
(before the monthly cap, which the report applies).

Pausing: only clocks whose plan target says ``pausable`` (e.g. waiting for the customer to
give access), with a reason in the incident log. Resuming extends the deadline by the
pause: a wall clock's deadline moves by the paused wall time; a business clock's becomes
``add_business_time(resume, target - business time used before the pause)`` on the
customer's calendar. Each pause record keeps the deadline before and after it.

Errors (ValueError): SlaError for bad input; nothing is changed when one is raised.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from voiceline.customers.business_time import BusinessCalendar, CalendarError, add_business_time
from voiceline.customers.models import Customer
from voiceline.customers.services import calendar_for, target_for
from voiceline.errors import InvalidInput
from voiceline.incidents.log import log_event
from voiceline.incidents.models import Incident
from voiceline.sla.models import SlaClock
from voiceline.sla.sla_math import (
    CreditRuleError,
    breach_credit,
    elapsed,
    is_met,
    minutes_in_month,
    minutes_over,
    parse_credit_rule,
    parse_money,
    pause_record,
    pauses_of,
    target_of,
)

log = logging.getLogger(__name__)

METRICS = ("callback", "restoration")
CALLBACK_KINDS = ("bridge", "sms", "web")  # the bridge answered; reported by SMS or on the page
MAX_REASON = 200


class SlaError(InvalidInput):
    """An SLA clock operation that cannot be done as asked."""


def _aware(at: datetime, what: str) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise SlaError(f"{what} must be a timezone-aware datetime, got {at!r}")
    return at.astimezone(UTC)


def clocks_of(session: Session, incident: Incident) -> dict[str, SlaClock]:
    """Return the incident's clocks by metric."""
    rows = session.scalars(select(SlaClock).filter_by(incident_id=incident.id))
    return {row.metric: row for row in rows}


def start_clocks(session: Session, incident: Incident) -> list[SlaClock]:
    """Start one clock per plan target that applies to the incident; return those started.

    A clock whose deadline cannot be computed (a calendar that never opens) is left out and
    logged: the incident itself must never be lost over its SLA.
    """
    customer = incident.customer
    if customer is None:
        return []
    existing = clocks_of(session, incident)
    start = _aware(incident.clock_started_at, "clock_started_at")
    started = []
    for metric in METRICS:
        target = target_for(customer.plan, incident.priority, metric)
        if target is None or metric in existing:
            continue
        try:
            deadline = target.deadline(start, calendar_for(customer))
        except CalendarError as exc:
            log.error("incident %s: no %s clock: %s", incident.id, metric, exc)
            log_event(session, incident, "sla_not_started", start, metric=metric, error=str(exc))
            continue
        clock = SlaClock(
            incident_id=incident.id,
            customer_id=customer.id,
            metric=metric,
            priority=incident.priority,
            target_minutes=target.minutes,
            clock=target.clock,
            time_zone=customer.time_zone,
            started_at=start,
            deadline_at=deadline,
            paused_seconds=0,
            pauses=[],
            credit={},
        )
        session.add(clock)
        started.append(clock)
        if metric == "callback":
            # The incident row carries the callback promise for reminders; keep them one.
            incident.target_minutes = clock.target_minutes
            incident.target_clock = clock.clock
            incident.deadline_at = clock.deadline_at
    session.flush()
    return started


def _credit(customer: Customer, clock: SlaClock, over: int) -> dict[str, Any]:
    """Return the credit one breach earns under the customer's plan (before the monthly cap)."""
    plan = customer.plan
    try:
        rule = parse_credit_rule(plan.credit_rule)
        if rule is None or over <= 0:
            return {}
        fee = parse_money(plan.monthly_fee)
        local = clock.started_at.astimezone(ZoneInfo(clock.time_zone))
        month_minutes = minutes_in_month(local.year, local.month, clock.time_zone)
        amount = breach_credit(rule, fee, clock.metric, over, month_minutes)
    except CreditRuleError as exc:
        # A stop must be recorded even when the plan's rule is broken; the report shows it.
        log.warning("plan %s credit rule unusable: %s", plan.code, exc)
        return {"error": str(exc)}
    return {
        "amount": str(amount),
        "per": rule.per,
        "percent_of_monthly_fee": str(rule.percent),
        "monthly_fee": str(fee),
        "cap_percent": None if rule.cap_percent is None else str(rule.cap_percent),
    }


def _close_pause(clock: SlaClock, at: datetime) -> dict[str, Any] | None:
    """End the clock's open pause at ``at``; return the closed record, or None."""
    if clock.paused_since is None:
        return None
    records = [dict(p) for p in clock.pauses]
    record = records[-1]
    record["to"] = at.isoformat()
    clock.pauses = records  # a new list, so the JSON column is written
    clock.paused_seconds = int(
        sum(((p.end or at) - p.start for p in pauses_of(records)), timedelta(0)).total_seconds()
    )
    clock.paused_since = None
    return record


def _stop(clock: SlaClock, customer: Customer, at: datetime, kind: str, is_reported: bool) -> None:
    """Stop ``clock`` at ``at`` and record elapsed time, met or breached, and credit."""
    if at < clock.started_at:
        raise SlaError(
            f"a stop at {at.isoformat()} is before the clock started ({clock.started_at.isoformat()})"
        )
    if clock.paused_since is not None:
        _close_pause(clock, max(at, clock.paused_since))
    spent = elapsed(clock.started_at, at, pauses_of(clock.pauses), calendar_for(customer))
    measured = spent.on(clock.clock)
    over = minutes_over(measured, target_of(clock))
    assert spent.business is not None  # a calendar was given
    clock.stopped_at = at
    clock.stop_kind = kind
    clock.is_reported = is_reported
    clock.wall_seconds = int(spent.wall.total_seconds())
    clock.business_seconds = int(spent.business.total_seconds())
    clock.is_met = is_met(measured, target_of(clock))
    clock.minutes_over = over
    clock.credit = _credit(customer, clock, over)


def _record_stop(
    session: Session,
    incident: Incident,
    metric: str,
    at: datetime,
    kind: str,
    is_reported: bool,
) -> SlaClock | None:
    """Stop the incident's ``metric`` clock unless an earlier stop is already recorded."""
    clock = clocks_of(session, incident).get(metric)
    if clock is None:
        return None
    if clock.stopped_at is not None and clock.stopped_at <= at:
        return clock
    assert incident.customer is not None  # clocks only start for customers
    _stop(clock, incident.customer, at, kind, is_reported)
    return clock


def stop_callback(
    session: Session,
    incident: Incident,
    at: datetime,
    kind: str,
    is_reported: bool,
    *,
    actor: str | None = None,
) -> SlaClock | None:
    """Record the callback at ``at`` and stop the callback clock; the earliest callback wins.

    ``kind`` is "bridge" (the page's bridge to the caller was answered), "sms" (the analyst
    replied C) or "web" (reported on the incident page); ``is_reported`` is True when a
    person reported it rather than the line observing it. Returns the callback clock, or
    None when the incident has no callback target.
    """
    if kind not in CALLBACK_KINDS:
        raise SlaError(f"callback kind must be one of {CALLBACK_KINDS}, got {kind!r}")
    at = _aware(at, "at")
    if at < incident.clock_started_at:
        raise SlaError(f"a callback at {at.isoformat()} is before the incident's message")
    clock = clocks_of(session, incident).get("callback")
    recorded = clock.stopped_at if clock is not None else incident.callback_at
    if recorded is not None and recorded <= at:
        return clock  # the same report again, or a later one: the first callback stands
    clock = _record_stop(session, incident, "callback", at, kind, is_reported)
    previous = incident.callback_at
    incident.callback_at = at
    incident.callback_kind = kind
    log_event(
        session,
        incident,
        "callback_recorded",
        at,
        actor=actor,
        via=kind,
        is_reported=is_reported,
        **_outcome(clock),
        **({"replaces": previous.isoformat()} if previous is not None else {}),
    )
    return clock


def mark_restored(
    session: Session, incident: Incident, at: datetime, actor: str
) -> SlaClock | None:
    """Record that service was restored at ``at``; stop the restoration clock if any."""
    at = _aware(at, "at")
    if at < incident.clock_started_at:
        raise SlaError(f"a restoration at {at.isoformat()} is before the incident's message")
    clock = clocks_of(session, incident).get("restoration")
    recorded = clock.stopped_at if clock is not None else incident.restored_at
    if recorded is not None and recorded <= at:
        return clock
    clock = _record_stop(session, incident, "restoration", at, "restored", True)
    incident.restored_at = at
    log_event(session, incident, "restored", at, actor=actor, **_outcome(clock))
    return clock


def _outcome(clock: SlaClock | None) -> dict[str, Any]:
    if clock is None:
        return {"target": None}
    return {
        "target": f"{clock.target_minutes}m {clock.clock}",
        "is_met": clock.is_met,
        "minutes_over": clock.minutes_over,
        "wall_seconds": clock.wall_seconds,
        "business_seconds": clock.business_seconds,
        "credit": clock.credit.get("amount"),
    }


def pausable_metrics(incident: Incident) -> set[str]:
    assert incident.customer is not None
    plan = incident.customer.plan
    return {t.metric for t in plan.targets if t.priority == incident.priority and t.pausable}


def pause(
    session: Session, incident: Incident, reason: str, at: datetime, actor: str | None
) -> list[SlaClock]:
    """Pause the incident's running clocks whose plan target allows it, for ``reason``."""
    at = _aware(at, "at")
    reason = (reason or "").strip()
    if not reason:
        raise SlaError("a pause needs a reason (e.g. waiting for customer access)")
    if len(reason) > MAX_REASON:
        raise SlaError(f"a pause reason is at most {MAX_REASON} characters")
    running = [c for c in clocks_of(session, incident).values() if c.stopped_at is None]
    allowed = pausable_metrics(incident) if incident.customer is not None else set()
    chosen = [c for c in running if c.metric in allowed]
    if not chosen:
        raise SlaError("no running SLA target of this incident's plan may be paused")
    if all(c.paused_since is not None for c in chosen):
        raise SlaError("the SLA clock is already paused")
    for clock in chosen:
        last_end = max((p.end for p in pauses_of(clock.pauses) if p.end), default=None)
        if at < clock.started_at or (last_end is not None and at < last_end):
            raise SlaError(f"cannot pause at {at.isoformat()}: before the clock last ran")
    paused = [c for c in chosen if c.paused_since is None]
    for clock in paused:
        clock.pauses = [*clock.pauses, pause_record(at, reason, actor)]
        clock.paused_since = at
    log_event(
        session,
        incident,
        "sla_paused",
        at,
        actor=actor,
        reason=reason,
        metrics=[c.metric for c in paused],
    )
    return paused


def resume(session: Session, incident: Incident, at: datetime, actor: str | None) -> list[SlaClock]:
    """Resume the incident's paused clocks and extend their deadlines by the pause."""
    at = _aware(at, "at")
    paused = [c for c in clocks_of(session, incident).values() if c.paused_since is not None]
    if not paused:
        raise SlaError("no SLA clock of this incident is paused")
    for clock in paused:
        since = clock.paused_since
        if since is not None and at < since:
            raise SlaError(f"cannot resume at {at.isoformat()}: before the pause began")
    assert incident.customer is not None
    calendar = calendar_for(incident.customer)
    moved = {}
    for clock in paused:
        before = clock.deadline_at
        clock.deadline_at = _extended_deadline(clock, at, calendar)
        record = _close_pause(clock, at)
        assert record is not None
        record.update(
            deadline_before=before.isoformat(), deadline_after=clock.deadline_at.isoformat()
        )
        clock.pauses = [*clock.pauses[:-1], record]
        moved[clock.metric] = clock.deadline_at.isoformat()
        if clock.metric == "callback":
            incident.deadline_at = clock.deadline_at
    log_event(session, incident, "sla_resumed", at, actor=actor, deadlines=moved)
    return paused


def _extended_deadline(clock: SlaClock, at: datetime, calendar: BusinessCalendar) -> datetime:
    """Return the deadline of ``clock`` once its open pause ends at ``at``."""
    paused_since = clock.paused_since
    assert paused_since is not None
    if clock.clock == "wall":
        return clock.deadline_at + (at - paused_since)
    done = elapsed(clock.started_at, paused_since, pauses_of(clock.pauses), calendar)
    remaining = target_of(clock) - done.on("business")
    if remaining < timedelta(0):
        return clock.deadline_at  # breached before the pause: the deadline has passed
    return add_business_time(at, remaining, calendar)
