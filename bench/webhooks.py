"""Webhooks and the scale figures that need a big history, on one database of each kind.

Phase one, empty database: the bare Flask app and ``voiceline serve`` side by side, wrk
at concurrency 16 (runs interleaved bare/app, so drift on a shared machine hits both),
then the app alone at 64. Phase two adds the history (100,000 incidents at full size)
and repeats, with a copy of the database as it was before the history served beside it
in the same rounds (the history's cost is read from those), then times the admin
incident list, the admin SLA report page and the ``voiceline report`` process over that
history.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from twilio.request_validator import RequestValidator

from bench import pages
from bench.databases import analyze, copied_database, open_database, scratch_database
from bench.directories import LINE, bench_directory, load
from bench.figures import Figure
from bench.history import add_incident_history
from bench.processes import Running, bare_stack, voiceline_stack
from bench.sizes import Size
from bench.stats import median
from bench.wrk import WrkResult, call_form, run_wrk, write_signed_requests
from simulator.engine import Simulator
from simulator.webhooks import HttpTransport
from tests.e2e_stack import ACCOUNT_SID, AUTH_TOKEN

Log = Callable[[str], None]
FALLBACK_LOG = "caller gets the fallback"


def report_month(today: date) -> date:
    """Return last month, the one an operator reports on."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


@dataclass
class Phase:
    """What one phase measured: runs of each app at each concurrency."""

    bare16: list[WrkResult] = field(default_factory=list)
    app16: list[WrkResult] = field(default_factory=list)
    twin16: list[WrkResult] = field(default_factory=list)  # the app on the copy, if any
    app64: list[WrkResult] = field(default_factory=list)
    fallbacks16: int = 0
    fallbacks64: int = 0


def _check_answers(app: Running, bare: Running, caller: str) -> None:
    """Fail unless a signed call gets the emergency menu from the app and 200 from bare."""
    form = call_form(ACCOUNT_SID, caller, LINE)
    signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{app.url}/twilio/voice", form)
    headers = {"X-Twilio-Signature": signature}
    answer = requests.post(f"{app.url}/twilio/voice", data=form, headers=headers, timeout=30)
    if (
        answer.status_code != 200
        or "<Gather" not in answer.text
        or "kind=emergency" not in answer.text
    ):
        raise RuntimeError(
            f"the app did not offer the emergency menu: {answer.status_code} {answer.text[:300]}"
        )
    if (
        requests.post(
            f"{bare.url}/twilio/voice", data=form, headers=headers, timeout=30
        ).status_code
        != 200
    ):
        raise RuntimeError("the bare app did not answer 200")  # fmt: skip


def _phase(
    size: Size,
    app: Running,
    bare: Running,
    caller: str,
    workdir: Path,
    log: Log,
    twin: Running | None = None,
) -> Phase:
    """Measure one phase; every app run gets calls it has never seen.

    A ``twin`` (the app on another database) runs at c16 in the same rounds, the two
    taking turns at running first after the bare app.
    """
    _check_answers(app, bare, caller)
    if twin is not None:
        _check_answers(twin, bare, caller)
    per_run = 6_000 * size.wrk_seconds  # above any rate two workers reach on two cores

    def fresh(tag: str, target: Running = app) -> Path:
        path = workdir / f"calls-{tag}.tsv"
        return write_signed_requests(
            path, target.url, AUTH_TOKEN, ACCOUNT_SID, caller, LINE, per_run
        )

    def fallbacks() -> int:
        return app.log_text("web").count(FALLBACK_LOG)

    phase = Phase()
    bare_calls = fresh("bare")
    warm_up = min(2, size.wrk_seconds)  # first requests pay for imports and connections
    run_wrk(bare.url, bare_calls, 16, warm_up)
    run_wrk(app.url, fresh("warm"), 16, warm_up)
    if twin is not None:
        run_wrk(twin.url, fresh("twin-warm", twin), 16, warm_up)
    before = fallbacks()
    for n in range(size.runs):
        phase.bare16.append(run_wrk(bare.url, bare_calls, 16, size.wrk_seconds))
        turns = [(app, phase.app16, f"16-{n}")]
        if twin is not None:  # the app and its twin take turns at going first
            turns.insert(1 - n % 2, (twin, phase.twin16, f"twin-{n}"))
        for target, runs, tag in turns:
            runs.append(run_wrk(target.url, fresh(tag, target), 16, size.wrk_seconds))
        said = f", before the history {phase.twin16[-1].throughput:.0f} req/s" if twin else ""
        log(f"    run {n + 1}: bare {phase.bare16[-1].throughput:.0f} req/s, "
            f"app {phase.app16[-1].throughput:.0f} req/s p99 {phase.app16[-1].p99_ms:.0f} ms"
            f"{said}")  # fmt: skip
    phase.fallbacks16 = fallbacks() - before
    before = fallbacks()
    phase.app64.append(run_wrk(app.url, fresh("64"), 64, size.wrk_seconds))
    phase.fallbacks64 = fallbacks() - before
    log(f"    c64: {phase.app64[-1].throughput:.0f} req/s, errors {phase.app64[-1].errors}, "
        f"fallbacks {phase.fallbacks64}")  # fmt: skip
    return phase


Attempt = tuple[Any, str | None]


def _attempt(log: Log, what: str, work: Callable[[], Any]) -> Attempt:
    """Run ``work``; return (result, None), or (None, why) when it failed."""
    try:
        return work(), None
    except Exception as exc:  # one failed measurement must not lose the others
        log(f"    {what} failed: {type(exc).__name__}: {exc}")
        return None, f"failed: {type(exc).__name__}: {str(exc)[:100]}"


def measure(kind: str, size: Size, workdir: Path, log: Log) -> list[Figure]:
    """Return the webhook and history-scale figures for one database kind."""
    n = size.history_incidents
    history = f"{n // 1000}k" if n >= 1000 else str(n)
    month = report_month(datetime.now(UTC).date())
    with scratch_database(kind, workdir, "webhooks") as url, ExitStack() as files:
        database = open_database(url)
        data, callers, _ = bench_directory(customers=40, contacts_per_customer=5)
        with database.session() as session:
            load(session, data)
        password = pages.create_admin(database)
        caller = callers[0].number
        sim = Simulator(transport=HttpTransport(), account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
        with sim:
            log(f"  [{kind}] webhooks, empty database")
            with (
                voiceline_stack(url, sim, workdir, workers=0) as app,
                bare_stack(workdir, url) as bare,
            ):
                empty = _attempt(
                    log, "empty", lambda: _phase(size, app, bare, caller, workdir, log)
                )
            log(f"  [{kind}] adding {n:,} incidents of history")
            started = time.monotonic()
            database.dispose()  # a PostgreSQL template must have no connections
            before_history = files.enter_context(copied_database(url, workdir, "empty"))
            add_incident_history(database, n, month)
            analyze(database)
            log(
                f"  [{kind}] webhooks, {history} incidents ({time.monotonic() - started:.0f} s to fill)"
            )
            with (
                voiceline_stack(url, sim, workdir, workers=0) as app,
                voiceline_stack(before_history, sim, workdir, workers=0) as twin,
                bare_stack(workdir, url) as bare,
            ):
                full = _attempt(
                    log, history, lambda: _phase(size, app, bare, caller, workdir, log, twin)
                )
                log(f"  [{kind}] admin pages over {history} incidents")
                browser = pages.log_in(app.url, password)
                listing = _attempt(
                    log,
                    "incident list",
                    lambda: [
                        pages.first_byte_ms(
                            browser, f"{app.url}/admin/incidents", "<h1>Incidents</h1>"
                        )
                        for _ in range(size.admin_requests)
                    ],
                )
                report_url = f"{app.url}/admin/sla/report?month={month:%Y-%m}"
                report_times = _attempt(
                    log,
                    "report page",
                    lambda: [
                        pages.page_times_ms(browser, report_url, "<h1>SLA report, ")
                        for _ in range(size.runs)
                    ],
                )
        log(f"  [{kind}] voiceline report over {history} incidents")
        report = _attempt(
            log, "voiceline report", lambda: _report_runs(url, month, n, size, workdir)
        )
        database.dispose()
    figures = _phase_figures(kind, "empty", empty) + _phase_figures(kind, f"{history}", full)
    figures.insert(4, _kept(kind, history, full))
    tag = f"{history} [{kind}]"
    figures.append(
        _runs(
            Figure(
                f"scale.{kind}.admin_list_ttfb",
                f"admin incident list first byte, {tag}",
                "ms",
                "<=",
                300,
            ),
            listing,
        )
    )
    figures.append(
        _runs(
            Figure(
                f"scale.{kind}.admin_report_ttfb",
                f"admin SLA report first byte, {tag}",
                "ms",
                "<=",
                300,
            ),
            (_column(report_times, 0), report_times[1]),
        )
    )
    figures.append(
        _runs(
            Figure(
                f"scale.{kind}.admin_report_whole",
                f"admin SLA report whole page, {tag}",
                "ms",
            ),
            (_column(report_times, 1), report_times[1]),
        )
    )
    figures.append(
        _runs(
            Figure(
                f"scale.{kind}.report_process", f"voiceline report process, {tag}", "s", "<=", 2
            ),
            report,
        )
    )
    return figures  # fmt: skip


def _report_runs(url: str, month: date, count: int, size: Size, workdir: Path) -> list[float]:
    """Run ``voiceline report`` once to check it counts every incident, then time it."""
    env = pages.report_environment(url)
    check = pages.run_report(env, f"{month:%Y-%m}", workdir, fmt="json")
    if check.incidents != count:
        raise RuntimeError(f"the report counted {check.incidents} incidents, not {count}")
    return [pages.run_report(env, f"{month:%Y-%m}", workdir).seconds for _ in range(size.runs)]


def _column(attempt: Attempt, index: int) -> list[float] | None:
    """Return one member of each run's tuple, None if the attempt failed."""
    runs = attempt[0]
    return None if runs is None else [run[index] for run in runs]


def _runs(figure: Figure, attempt: Attempt) -> Figure:
    """Give ``figure`` the attempt's runs, or its problem."""
    runs, figure.problem = attempt
    figure.runs = list(runs or [])
    return figure


def _kept(kind: str, history: str, full: Attempt) -> Figure:
    """Return the history's throughput as a share of the database's without it.

    Both ran in the same rounds of phase two, the database as it was before the history
    (a copy) beside the one with it, each run's throughput taken as a share of the bare
    app's run of that round: phases minutes apart measured the machine's drift as much
    as the history (a full run read 88.5% one day and 108% another). The raw ratio of
    the medians is kept in the detail.
    """
    figure = Figure(f"webhooks.{kind}.history_vs_empty",
                    f"webhook req/s with {history} vs empty db (each per bare) [{kind}]",
                    "%", ">=", 90)  # fmt: skip
    phase, problem = full
    if phase is None or not phase.twin16:
        figure.problem = problem or "no run beside a copy without the history"
        return figure
    before, after = _share(phase.twin16, phase.bare16), _share(phase.app16, phase.bare16)
    raw_before = median([r.throughput for r in phase.twin16]) or 0.0
    raw_after = median([r.throughput for r in phase.app16]) or 0.0
    figure.detail = {
        "raw_ratio_percent": 100 * raw_after / raw_before if raw_before else None,
        "before_history": [r.as_json() for r in phase.twin16],
    }
    return figure.add(100 * after / before) if before else figure


def _share(app: list[WrkResult], bare: list[WrkResult]) -> float:
    """Return the app's throughput as a share of the bare app's, median over the rounds."""
    shares = [a.throughput / b.throughput for a, b in zip(app, bare, strict=True)
              if b.throughput]  # fmt: skip
    return median(shares) or 0.0


def _phase_figures(kind: str, label: str, attempt: Attempt) -> list[Figure]:
    """Return one phase's table lines (each says why, when the phase failed)."""
    tag = f"{label} db [{kind}]"
    key = f"webhooks.{kind}.{label}"
    p99 = Figure(f"{key}.p99_c16", f"webhook p99, c16, {tag}", "ms", "<=", 50)
    share = Figure(f"{key}.share_c16", f"webhook req/s as % of bare, c16, {tag}", "%", ">=", 25)
    errors = Figure(f"{key}.errors_c64", f"webhook errors, c64, {tag}", "", "==", 0)
    fallbacks = Figure(f"{key}.fallbacks_c64", f"webhook fallbacks, c64, {tag}", "", "==", 0)
    figures = [p99, share, errors, fallbacks]
    phase, problem = attempt
    if phase is None:
        for figure in figures:
            figure.problem = problem
        return figures
    p99.runs = [r.p99_ms for r in phase.app16]
    p99.ratio = f"bare p99 {median([r.p99_ms for r in phase.bare16]) or 0:.1f} ms"
    p99.detail = {"app": [r.as_json() for r in phase.app16],
                  "bare": [r.as_json() for r in phase.bare16]}  # fmt: skip
    share.runs = [100 * a.throughput / b.throughput if b.throughput else 0.0
                  for a, b in zip(phase.app16, phase.bare16, strict=True)]  # fmt: skip
    app_rate = median([r.throughput for r in phase.app16]) or 0.0
    bare_rate = median([r.throughput for r in phase.bare16]) or 0.0
    share.ratio = f"{app_rate:.0f} vs {bare_rate:.0f} req/s"
    c64 = phase.app64[-1]
    errors.add(c64.errors).detail = {"run": c64.as_json()}
    errors.ratio = f"{c64.throughput:.0f} req/s, p99 {c64.p99_ms:.0f} ms"
    fallbacks.add(phase.fallbacks64).detail = {"c16_runs_fallbacks": phase.fallbacks16}
    return figures
