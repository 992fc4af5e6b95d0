"""The storm: many authorized callers at once against the real web app and worker.

First a quiet spell: callers one at a time, each paging an analyst of their own, for
message-to-first-page latency without a storm. Then the storm: every caller of the
``standard`` policy leaves a message within ``storm_seconds``, all paging Tier 1. The
message time is the incident's ``opened_at`` (when the app took the recorded message);
a page's time is when the fake Twilio received the request for it. Memory is read from
/proc after the storm, before the processes stop.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.callers import (
    CallOutcome,
    Pump,
    SentPage,
    caller_simulators,
    leave_message,
    new_simulator,
    sent_pages,
    storm,
    webhook_errors,
)
from bench.databases import open_database, scratch_database
from bench.directories import TIER1, Caller, analyst_number, bench_directory, load
from bench.figures import Figure
from bench.processes import peak_rss_mib, voiceline_stack
from bench.sizes import Size
from bench.stats import max_in_window, min_gap, percentile
from escalation.models import Page
from escalation.throttle import SMS_LIMITS, VOICE_LIMITS
from simulator.engine import Simulator
from voiceline.db import Database
from voiceline.incidents.models import Incident, Recording

Log = Callable[[str], None]
NAMED_WITHIN = 30.0  # how long after the last message the bench waits for pages


def _incidents(database: Database) -> list[Incident]:
    with database.session() as session:
        rows = list(session.scalars(select(Incident).order_by(Incident.id)))
        session.expunge_all()
        return rows


def _page_incidents(database: Database) -> dict[str, int]:
    """Return the incident of every page row that Twilio accepted, by the SID it got."""
    with database.session() as session:
        rows = session.execute(select(Page.provider_sid, Page.incident_id))
        return {sid: incident for sid, incident in rows if sid}


def _row_sent_at(database: Database) -> dict[str, float]:
    """Return each sent page row's send time (when the app saw Twilio take it), by SID."""
    with database.session() as session:
        rows = session.execute(select(Page.provider_sid, Page.sent_at))
        return {sid: at.timestamp() for sid, at in rows if sid and at}


def _recorded_calls(database: Database) -> set[str]:
    with database.session() as session:
        rows = session.scalars(select(Recording.call_sid).where(Recording.incident_id.is_not(None)))
        return set(rows)


def _first_named(pages: list[SentPage], to: str, incident_id: int) -> float | None:
    return next((p.at for p in pages if p.to == to and incident_id in p.incidents), None)


def _quiet(
    database: Database, sims: list[Simulator], callers: list[Caller], pages_sim: Simulator, log: Log
) -> list[float]:
    """Leave one message at a time; return each one's message-to-first-page seconds."""
    latencies = []
    for n, caller in enumerate(callers):
        outcome = leave_message(sims[0], caller)
        if outcome.problem:
            log(f"    quiet caller {caller.number}: {outcome.problem}")
        analyst = analyst_number(n)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
            p.to == analyst for p in sent_pages(pages_sim, {})
        ):
            time.sleep(0.05)
        mine = [i for i in _incidents(database) if i.caller_number == caller.number]
        first = next((p.at for p in sent_pages(pages_sim, {}) if p.to == analyst), None)
        if mine and first is not None:
            latencies.append(first - mine[0].opened_at.timestamp())
        else:
            latencies.append(math.inf)
        time.sleep(0.3)
    return latencies


def measure(kind: str, size: Size, workdir: Path, log: Log) -> list[Figure]:
    """Return the storm, quiet-latency and memory figures for one database kind."""
    with scratch_database(kind, workdir, "storm") as url:
        database = open_database(url)
        # One caller per customer: a second contact of a customer whose emergency is open
        # adds to that incident (the line's repeat-caller rule) instead of opening one.
        data, callers, quiet_callers = bench_directory(
            size.storm_callers, 1, quiet=size.quiet_callers + 1
        )
        with database.session() as session:
            load(session, data)
        pages_sim = new_simulator()
        try:
            with voiceline_stack(url, pages_sim, workdir, workers=1) as app:
                pages_sim.add_line("+15035550100", app.url, call_status=True)
                with Pump(pages_sim) as pump:
                    # Twilio rings every caller's call on its own: one simulator per caller,
                    # so a slow app makes calls longer, never fewer or later.
                    with caller_simulators(len(callers), app.url) as sims:
                        log(f"  [{kind}] quiet: {len(quiet_callers)} messages one at a time")
                        # The first message after a start pays for connections and imports: it
                        # is kept in the detail, not in the figure.
                        quiet = _quiet(database, sims, quiet_callers, pages_sim, log)
                        warm_up, quiet = quiet[0], quiet[1:]
                        quiet_ids = {i.id for i in _incidents(database)}
                        log(
                            f"  [{kind}] storm: {len(callers)} callers over {size.storm_seconds:g} s"
                        )
                        outcomes = storm(sims, callers, size.storm_seconds)
                        errors = webhook_errors(sims)
                    wanted = {i.id for i in _incidents(database) if i.id not in quiet_ids}
                    last = max((i.opened_at.timestamp() for i in _incidents(database)), default=0.0)
                    while time.time() < last + NAMED_WITHIN:
                        tier1 = [p for p in sent_pages(pages_sim, {}) if p.to == TIER1]
                        if wanted <= {n for p in tier1 for n in p.incidents}:
                            break
                        time.sleep(0.2)
                    # Status callbacks of the last pages still reach the app before it stops.
                    pump.settle(timeout=30)
                    errors += pages_sim.errors
                memory = {
                    "web_workers": [peak_rss_mib(pid) for pid in app.pids("web")[1:]],
                    "worker": peak_rss_mib(app.pids("worker1")[0]),
                }
                fallbacks = app.log_text("web").count("caller gets the fallback")
            sent_at = _row_sent_at(database)
            pages = [
                replace(page, row_sent_at=sent_at.get(page.sid))
                for page in sent_pages(pages_sim, _page_incidents(database))
            ]
            recorded = _recorded_calls(database)
            storm_rows = [i for i in _incidents(database) if i.id not in quiet_ids]
        finally:
            pages_sim.stop()
            database.dispose()
    return _figures(
        kind,
        callers,
        outcomes,
        storm_rows,
        recorded,
        pages,
        errors,
        quiet,
        memory,
        fallbacks,
        warm_up,
    )


def _figures(kind: str, callers: list[Caller], outcomes: list[CallOutcome], rows: list[Incident],
             recorded: set[str], pages: list[SentPage], errors: list[str], quiet: list[float],
             memory: dict[str, Any], fallbacks: int, warm_up: float) -> list[Figure]:  # fmt: skip
    """Turn what the storm left into table lines."""
    return _storm_figures(kind, callers, outcomes, rows, recorded, pages, errors, memory,
                          fallbacks) + [_quiet_figure(kind, quiet, warm_up)]  # fmt: skip


def _quiet_figure(kind: str, quiet: list[float], warm_up: float) -> Figure:
    """Return the no-storm latency line (its first message is the warm-up)."""
    figure = Figure(f"quiet.{kind}.first_page_p99",
                    f"no storm: message to first page, p99 [{kind}]", "ms", "<=", 250,
                    detail={"messages": len(quiet), "warm_up_ms": round(warm_up * 1000, 1),
                            "samples_ms": [round(q * 1000, 1) for q in quiet]})  # fmt: skip
    return figure.add((percentile(quiet, 99) or math.inf) * 1000)


def _storm_figures(kind: str, callers: list[Caller], outcomes: list[CallOutcome], rows: list[Incident],
             recorded: set[str], pages: list[SentPage], errors: list[str],
             memory: dict[str, Any], fallbacks: int) -> list[Figure]:  # fmt: skip
    """Return the storm's and memory's table lines."""
    n = len(callers)
    per_caller = Counter(i.caller_number for i in rows)
    lost = [c.number for c in callers if per_caller[c.number] == 0]
    doubled = [number for number, count in per_caller.items() if count > 1]
    recorded_callers = {i.caller_number for i in rows if i.call_sid in recorded}
    opened = {i.id: i.opened_at.timestamp() for i in rows}
    first_message = min(opened.values(), default=math.nan)
    tier1 = [p for p in pages if p.to == TIER1]
    first_page = tier1[0].at - first_message if tier1 and opened else math.inf
    named = [(_first_named(tier1, TIER1, i) or math.inf) - at for i, at in opened.items()]
    over, gaps = _limits(pages)
    spread = max(opened.values()) - first_message if opened else 0.0
    problems = [o.problem for o in outcomes if o.problem][:5]
    tag = f"[{kind}]"
    return [
        Figure(f"storm.{kind}.spread", f"storm: first to last message {tag}", "s",
               detail={"callers": n, "call_seconds_p50": percentile([o.seconds for o in outcomes], 50)}).add(spread),
        Figure(f"storm.{kind}.recorded", f"storm: callers recorded {tag}", "", "==", n,
               detail={"heard_promise": sum(o.heard_promise for o in outcomes), "problems": problems}).add(len(recorded_callers)),
        Figure(f"storm.{kind}.webhook_errors", f"storm: webhook errors {tag}", "", "==", 0,
               detail={"errors": errors[:10], "fallbacks": fallbacks}).add(len(errors)),
        Figure(f"storm.{kind}.lost", f"storm: incidents lost {tag}", "", "==", 0, detail={"numbers": lost[:10]}).add(len(lost)),
        Figure(f"storm.{kind}.doubled", f"storm: incidents doubled {tag}", "", "==", 0, detail={"numbers": doubled[:10]}).add(len(doubled)),
        Figure(f"storm.{kind}.first_page", f"storm: first message to Tier 1's first page {tag}", "ms", "<=", 250)
        .add(first_page * 1000),
        Figure(f"storm.{kind}.named_p99", f"storm: message to incident named in a Tier 1 page, p99 {tag}", "s", "<=", 5,
               detail={"p50": percentile(named, 50), "never_named": sum(math.isinf(x) for x in named),
                       "tier1_sms": sum(p.channel == "sms" for p in tier1),
                       "tier1_calls": sum(p.channel == "voice" for p in tier1)}).add(percentile(named, 99) or math.inf),
        Figure(f"storm.{kind}.over_limit", f"storm: phones over their throttle limit {tag}", "", "==", 0, detail=over).add(len(over)),
        Figure(f"storm.{kind}.sms_gap", f"storm: shortest gap between SMS to one phone {tag}", "s", ">=", 0.9,
               detail={"max_sms_in_1s": gaps[1], "closest": _closest_sms(pages)}).add(gaps[0]),
        Figure(f"memory.{kind}.web", f"peak RSS of a web worker after the storm {tag}", "MiB",
               detail={"workers": memory["web_workers"]}).add(max(m or 0 for m in memory["web_workers"] or [0])),
        Figure(f"memory.{kind}.worker", f"peak RSS of the worker after the storm {tag}", "MiB").add(memory["worker"] or 0),
    ]  # fmt: skip


def _closest_sms(pages: list[SentPage]) -> dict[str, Any]:
    """Return the two SMS to one phone closest in time: the phone, when, and what each named."""
    best: tuple[float, SentPage, SentPage] | None = None
    by_phone: dict[str, list[SentPage]] = {}
    for page in pages:
        if page.channel == "sms":
            by_phone.setdefault(page.to, []).append(page)
    for texts in by_phone.values():
        texts.sort(key=lambda page: page.at)
        for a, b in zip(texts, texts[1:], strict=False):
            if best is None or b.at - a.at < best[0]:
                best = (b.at - a.at, a, b)
    if best is None:
        return {}
    gap, a, b = best
    return {"phone": a.to, "gap_s": round(gap, 4), "first_at": a.at,
            "incidents": [sorted(a.incidents), sorted(b.incidents)], "words": [a.words, b.words],
            "twilio_s_after_row": [None if p.row_sent_at is None else round(p.at - p.row_sent_at, 3)
                                 for p in (a, b)]}  # fmt: skip


def _limits(pages: list[SentPage]) -> tuple[dict[str, str], tuple[float, int]]:
    """Return the phones over a throttle limit, and the shortest SMS gap and 1-s peak."""
    over: dict[str, str] = {}
    shortest, peak = math.inf, 0
    for channel, limits in (("sms", SMS_LIMITS), ("voice", VOICE_LIMITS)):
        times: dict[str, list[float]] = {}
        for page in pages:
            if page.channel == channel:
                times.setdefault(page.to, []).append(page.at)
        for phone, moments in times.items():
            most = max_in_window(moments, limits.window.total_seconds())
            if most > limits.max_per_window:
                over[f"{phone} {channel}"] = (
                    f"{most} in {limits.window} (limit {limits.max_per_window})"
                )
            if channel == "sms":
                shortest = min(shortest, min_gap(moments) or math.inf)
                peak = max(peak, max_in_window(moments, 1.0))
    return over, (shortest, peak)
