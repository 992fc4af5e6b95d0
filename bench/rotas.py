"""Who is on call, at scale: ``escalation.roster.resolve_targets`` over a big rota.

The database gets ``rotations`` weekly rotations with one override a week for
``override_years`` (``bench.history.add_rotas``). Each sample resolves one rotation's
on-call target in a new session at the present moment, as a step of an escalation
does; the figure is the mean time per target over the samples of a run. A step has read
and locked its incident before it asks who is on call, so its transaction is open (the
pooled connection checked out, PostgreSQL's BEGIN sent): the sample opens it the same
way, with one statement, before the clock starts.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import literal, select

from bench.databases import analyze, open_database, scratch_database
from bench.directories import bench_directory, load
from bench.figures import Figure
from bench.history import add_rotas
from bench.sizes import Size
from bench.stats import percentile
from escalation.policy import Target
from escalation.roster import resolve_targets
from voiceline.db import Database

Log = Callable[[str], None]


def measure(kind: str, size: Size, workdir: Path, log: Log) -> list[Figure]:
    """Return the per-target resolution time for one database kind."""
    now = datetime.now(UTC)
    with scratch_database(kind, workdir, "rotas") as url:
        database = open_database(url)
        try:
            data, _, _ = bench_directory(customers=1, contacts_per_customer=1)
            with database.session() as session:
                load(session, data)
            started = time.monotonic()
            counts = add_rotas(database, size.rotations, size.override_years, now)
            analyze(database)
            log(f"  [{kind}] {counts['rotations']:,} rotations, {counts['overrides']:,} overrides "
                f"({time.monotonic() - started:.0f} s to fill)")  # fmt: skip
            rng = random.Random(5)
            codes = [
                f"rota-{rng.randrange(size.rotations):04d}" for _ in range(size.resolve_samples)
            ]
            figure = Figure(f"rotas.{kind}.resolve_ms", f"resolve_targets per target, {size.rotations:,} "
                            f"rotations, {size.override_years:g} y overrides [{kind}]", "ms", "<=", 1.0,
                            detail={"rows": counts})  # fmt: skip
            _resolve(database, codes[:5], now)  # warm the pool and the statement cache
            for run in range(size.runs):
                samples = _resolve(database, codes, now)
                figure.add(sum(samples) / len(samples))
                figure.detail[f"run{run + 1}"] = {
                    "p50": percentile(samples, 50),
                    "p99": percentile(samples, 99),
                }
                log(f"    run {run + 1}: {figure.runs[-1]:.2f} ms per target")
        finally:
            database.dispose()
    return [figure]


def _resolve(database: Database, codes: list[str], now: datetime) -> list[float]:
    """Resolve each code's on-call target in a session of its own; return ms per call."""
    samples = []
    for code in codes:
        with database.session() as session:
            session.execute(select(literal(1)))  # the step's own read of its incident
            started = time.perf_counter()
            roster = resolve_targets(session, [Target("on_call", code)], now)
            samples.append((time.perf_counter() - started) * 1000)
            if roster.problems or not roster.recipients:
                raise RuntimeError(f"{code} did not resolve: {roster.problems}")
    return samples
