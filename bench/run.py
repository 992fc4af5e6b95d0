"""Run the benchmarks, print one table and write ``bench/results/<date>.json``.

Usage: ``python -m bench [--size full|smoke] [--only storm,webhooks,...] [--strict]``.
Every section runs on each database kind it is defined for; one that cannot run (no
PostgreSQL, no wrk) or fails is shown as NOT MEASURED with the reason. Misses are
printed and the exit status is 0, unless ``--strict`` is given.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import directory_load, lateness, rotas, storm, webhooks
from bench.databases import KINDS, postgres_problem
from bench.figures import INFO, MET, NOT_MEASURED, Figure, table
from bench.sizes import SIZES, Size
from bench.wrk import wrk_problem

RESULTS = Path(__file__).resolve().parent / "results"
Section = Callable[[str, Size, Path, Callable[[str], None]], list[Figure]]
# name -> (measure, database kinds it runs on, what it needs beyond a database)
SECTIONS: dict[str, tuple[Section, tuple[str, ...], Callable[[], str | None]]] = {
    "storm": (storm.measure, KINDS, lambda: None),
    "webhooks": (webhooks.measure, KINDS, wrk_problem),
    "rotas": (rotas.measure, KINDS, lambda: None),
    "lateness": (lateness.measure, ("postgresql",), lambda: None),
    "directory": (directory_load.measure, ("sqlite",), lambda: None),
}
LOAD_GENERATOR = (
    "wrk (Debian's wrk 4.1) with bench/webhook.lua; each request's X-Twilio-Signature is "
    "computed in Python with twilio's RequestValidator and passed to wrk in a file, since "
    "wrk's Lua has no HMAC-SHA1"
)


def log(message: str) -> None:
    """Say what the bench is doing, on stderr, with the time."""
    print(f"{datetime.now():%H:%M:%S} {message}", file=sys.stderr, flush=True)


def _stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so every started process is stopped on the way out."""

    def stop(*_: object) -> None:
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, stop)


def _commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
    except OSError:
        return None
    return done.stdout.strip() or None


def run_sections(
    names: list[str], kinds: list[str], size: Size, workdir: Path, timings: list[dict[str, Any]]
) -> list[Figure]:
    """Run each section on each kind; a failure becomes a NOT MEASURED line, never a crash.

    ``timings`` gets each section's duration and the load average it started under.
    """
    figures: list[Figure] = []
    pg_problem = postgres_problem() if "postgresql" in kinds else None
    for name in names:
        measure, section_kinds, needs = SECTIONS[name]
        for kind in [k for k in section_kinds if k in kinds]:
            problem = needs() or (pg_problem if kind == "postgresql" else None)
            started, load = time.monotonic(), os.getloadavg()[0]
            log(f"{name} [{kind}] (load average {load:.2f})")
            if problem is None:
                try:
                    figures += measure(kind, size, workdir, log)
                except Exception as exc:
                    log(traceback.format_exc())
                    problem = f"failed: {type(exc).__name__}: {str(exc)[:120]}"
            if problem is not None:
                figures.append(Figure(f"{name}.{kind}", f"{name} [{kind}]", "", problem=problem))
            seconds = time.monotonic() - started
            timings.append({"section": name, "database": kind, "seconds": round(seconds, 1),
                            "load_average_at_start": load})  # fmt: skip
            log(f"{name} [{kind}] took {seconds:.0f} s")
    return figures


def results_path(size: Size, when: datetime) -> Path:
    """Return where this run's results go: ``<date>.json`` (``<date>-smoke.json``)."""
    suffix = "" if size.name == "full" else f"-{size.name}"
    return RESULTS / f"{when:%Y-%m-%d}{suffix}.json"


def main(argv: list[str] | None = None) -> int:
    """Run the bench; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--size", choices=sorted(SIZES), default=os.environ.get("BENCH_SIZE", "full")
    )
    parser.add_argument("--only", default=",".join(SECTIONS), help="sections, comma-separated")
    parser.add_argument("--databases", default=",".join(KINDS), help="sqlite,postgresql")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a figure is not met")
    parser.add_argument(
        "--require-all",
        action="store_true",
        help="exit 1 when a line could not be measured (CI: the bench itself must keep working)",
    )
    parser.add_argument(
        "--output", type=Path, help="results file (default bench/results/<date>.json)"
    )
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n]
    kinds = [k for k in args.databases.split(",") if k]
    unknown = [n for n in names if n not in SECTIONS] + [k for k in kinds if k not in KINDS]
    if unknown:
        parser.error(f"unknown section or database: {', '.join(unknown)}")
    size = SIZES[args.size]
    _stop_on_sigterm()
    # The simulators' HTTP servers log every request; the bench reports its own progress.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="voiceline-bench-"))
    log(f"bench size {size.name}; scratch files in {workdir}; load average {load_before[0]:.2f}")
    timings: list[dict[str, Any]] = []
    try:
        figures = run_sections(names, kinds, size, workdir, timings)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    load_after = os.getloadavg()
    print(table(figures))
    document: dict[str, Any] = {
        "date": f"{started:%Y-%m-%d}",
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "size": size.name,
        "sizes": size.__dict__,
        "commit": _commit(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": {"before": load_before, "after": load_after},
        "load_generator": LOAD_GENERATOR,
        "sections": timings,
        "figures": [f.as_json() for f in figures],
    }
    output = args.output or results_path(size, started)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    unmet = [f for f in figures if f.verdict not in (MET, INFO)]
    broken = [f for f in figures if f.verdict == NOT_MEASURED]
    print(f"\n{len(figures) - len(unmet)} of {len(figures)} lines met or informational; "
          f"{len(unmet)} missed or not measured. Load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after, on {os.cpu_count()} CPUs. Results: {output}")  # fmt: skip
    if args.require_all and broken:
        print(f"{len(broken)} line(s) could not be measured: {', '.join(f.key for f in broken)}")
        return 1
    return 1 if args.strict and unmet else 0
