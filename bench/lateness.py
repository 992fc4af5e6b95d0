"""Escalation lateness: how long after its due time a step's page reaches Twilio.

Incidents are opened with the product's own functions and handed to paging with due
times spread evenly over ``lateness_seconds`` (the timer of each escalation's first
step); the worker processes fire them. Each policy pages one analyst by SMS, then a
second analyst a few seconds later, so both the hand-over timer and a step timer are
measured. Policies are spread so no analyst is paged faster than the SMS throttle
allows: a throttled page would measure the throttle, not the timers.

Lateness of the first step: its page's arrival at the fake Twilio minus the due time
set here. Of the second: its page's arrival minus (the first step's start, as recorded
on its page row, plus the step delay).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import Table, bindparam, select

from bench.callers import Pump, new_simulator, sent_pages
from bench.databases import open_database, scratch_database
from bench.directories import analyst_number, bench_directory, contact_number, load
from bench.figures import Figure
from bench.processes import voiceline_stack
from bench.sizes import Size
from bench.stats import percentile
from escalation.models import Page
from voiceline.customers.services import find_caller
from voiceline.db import Database
from voiceline.incidents.handover import mark_for_paging
from voiceline.incidents.models import Incident
from voiceline.line.incidents import open_incident

Log = Callable[[str], None]
STEP_SECONDS = 3  # the delay between the two steps of every lateness policy
PER_ANALYST = 5  # within the SMS throttle's 10 per 5 minutes
MIN_SPACING = 2.0  # seconds between two pages to one analyst (throttle gap: 1 s)
LEAD_SECONDS = 2.0


def _policies(size: Size) -> int:
    n = size.lateness_incidents
    return max(math.ceil(n / PER_ANALYST), math.ceil(MIN_SPACING * n / size.lateness_seconds))


def _open(
    database: Database, size: Size, policies: int, tag: str
) -> dict[int, tuple[int, datetime]]:
    """Open and hand over the incidents, then give them staggered due times.

    Opening takes a while on a busy machine, so the incidents wait with no due time
    until every one is open; the due times then go in with one short UPDATE, counted
    from its start: none is due before it commits. Returns {incident id: (policy, due)}.
    """
    now = datetime.now(UTC)
    ids: list[tuple[int, int]] = []
    with database.session() as session:
        for i in range(size.lateness_incidents):
            policy = i % policies
            caller = find_caller(session, contact_number(7000 + policy))
            incident, _ = open_incident(session, call_sid=f"CA{tag}{i:030d}", caller=caller,
                                        priority="emergency", clock_started_at=now, now=now)  # fmt: skip
            mark_for_paging(session, incident, now)
            incident.next_due_at = None  # not yet: the worker would start it now
            ids.append((incident.id, policy))
    gap = size.lateness_seconds / max(1, size.lateness_incidents)
    first = datetime.now(UTC) + timedelta(seconds=LEAD_SECONDS)
    due = {
        incident_id: first + timedelta(seconds=i * gap) for i, (incident_id, _) in enumerate(ids)
    }
    table = cast(Table, Incident.__table__)
    with database.engine.begin() as conn:
        conn.execute(
            table.update()
            .where(table.c.id == bindparam("incident"))
            .values(next_due_at=bindparam("due")),
            [{"incident": incident_id, "due": at} for incident_id, at in due.items()],
        )
    if datetime.now(UTC) > first:
        raise RuntimeError("handing the incidents over took longer than the lead time")
    return {incident_id: (policy, due[incident_id]) for incident_id, policy in ids}


def _step_started(database: Database) -> dict[tuple[int, str], float]:
    """Return when each incident first queued a page to each number (its step's start)."""
    with database.session() as session:
        rows = session.execute(select(Page.incident_id, Page.to_number, Page.created_at))
        started: dict[tuple[int, str], float] = {}
        for incident_id, to, at in rows:
            key = (incident_id, to)
            started[key] = min(started.get(key, math.inf), at.timestamp())
        return started


def _run(kind: str, workers: int, size: Size, workdir: Path, log: Log) -> Figure:
    policies = _policies(size)
    with scratch_database(kind, workdir, f"late{workers}") as url:
        database = open_database(url)
        data, _, _ = bench_directory(1, 1, lateness=policies, lateness_delay=f"{STEP_SECONDS}s")
        with database.session() as session:
            load(session, data)
        sim = new_simulator()
        try:
            with voiceline_stack(url, sim, workdir, workers=workers) as app, Pump(sim):
                sim.add_line("+15035550100", app.url, call_status=True)
                opened = _open(database, size, policies, f"{workers}")
                last_due = max(due for _, due in opened.values()).timestamp()
                # Long enough to see how late a backlog gets, not just that there is one.
                deadline = last_due + STEP_SECONDS + 15 + 6 * size.lateness_seconds
                wanted = {(i, analyst_number(2001 + 2 * p)) for i, (p, _) in opened.items()}
                while time.time() < deadline:
                    seen = {(n, page.to) for page in sent_pages(sim, {}) for n in page.incidents}
                    if wanted <= seen:
                        break
                    time.sleep(0.2)
                pages = sent_pages(sim, {})
            started = _step_started(database)
        finally:
            sim.stop()
            database.dispose()
    first_step, second_step = [], []
    for incident_id, (policy, due) in opened.items():
        a, b = analyst_number(2000 + 2 * policy), analyst_number(2001 + 2 * policy)
        at_a = next((p.at for p in pages if p.to == a and incident_id in p.incidents), math.inf)
        at_b = next((p.at for p in pages if p.to == b and incident_id in p.incidents), math.inf)
        first_step.append(at_a - due.timestamp())
        step_due = started.get((incident_id, a), math.inf) + STEP_SECONDS
        second_step.append(at_b - step_due if math.isfinite(step_due) else math.inf)
    both = first_step + second_step
    label = "worker" if workers == 1 else "workers"
    figure = Figure(
        f"lateness.{kind}.workers{workers}",
        f"escalation lateness p99, {size.lateness_incidents} staggered, {workers} {label} [{kind}]",
        "s", "<=", 1.0,
        detail={"first_step": {"p50": percentile(first_step, 50), "p99": percentile(first_step, 99),
                               "max": max(first_step)},
                "second_step": {"p50": percentile(second_step, 50), "p99": percentile(second_step, 99),
                                "max": max(second_step)},
                "never_paged": sum(math.isinf(x) for x in both), "policies": policies},
    )  # fmt: skip
    figure.add(percentile(both, 99) or math.inf)
    log(f"    {workers} {label}: p99 {figure.runs[-1]:.3f} s")
    return figure


def measure(kind: str, size: Size, workdir: Path, log: Log) -> list[Figure]:
    """Return escalation lateness with one worker and with two."""
    return [_run(kind, workers, size, workdir, log) for workers in (1, 2)]
