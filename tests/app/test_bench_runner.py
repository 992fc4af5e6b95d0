"""The benchmark runner's own parts: statistics, verdicts, data generators, signed calls.

The runner is exercised end to end by ``make bench-smoke`` (CI); these check that what
it measures is what it says: generated history is what the report counts, generated
rotas resolve, and the pre-signed requests wrk sends are ones Twilio's validator accepts.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator

from bench.directories import bench_directory, load
from bench.figures import INFO, MET, MISSED, NOT_MEASURED, Figure, table
from bench.history import add_incident_history, add_rotas
from bench.stats import max_in_window, median, min_gap, percentile
from bench.wrk import write_signed_requests
from escalation.policy import Target
from escalation.roster import resolve_targets
from voiceline.customers.services import find_caller
from voiceline.db import Database
from voiceline.sla.reports import monthly_report

MONTH = date(2026, 10, 1)


def test_percentiles_use_the_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert percentile(samples, 99) == 99.0
    assert percentile(samples, 50) == 50.0
    assert percentile([3.0], 99) == 3.0
    assert percentile([], 99) is None
    assert median([1.0, 5.0, 2.0]) == 2.0


def test_window_counts_and_gaps() -> None:
    times = [0.0, 0.5, 0.99, 2.0, 3.5]
    assert max_in_window(times, 1.0) == 3
    assert max_in_window(times, 0.4) == 1
    assert min_gap(times) == 0.49
    assert min_gap([1.0]) is None


def test_verdicts_follow_the_median_of_the_runs() -> None:
    assert Figure("a", "a", "ms", "<=", 50).add(40).add(70).add(45).verdict == MET
    assert Figure("b", "b", "ms", "<=", 50).add(60).add(40).add(55).verdict == MISSED
    assert Figure("c", "c", "%", ">=", 25).add(7.5).verdict == MISSED
    assert Figure("d", "d", "MiB").add(120).verdict == INFO
    broken = Figure("e", "e", "", problem="no PostgreSQL")
    assert broken.verdict == NOT_MEASURED and "no PostgreSQL" in table([broken])


def test_never_is_a_miss_and_stays_valid_json() -> None:
    figure = Figure("p", "page named", "s", "<=", 5).add(math.inf)
    assert figure.verdict == MISSED
    assert "never" in figure.measured_text
    assert json.loads(json.dumps(figure.as_json()))["measured"] == "never"


def test_storm_callers_are_authorized_contacts_of_distinct_customers(database: Database) -> None:
    data, storm, quiet = bench_directory(12, 1, quiet=3, lateness=2)
    with database.session() as session:
        load(session, data)
        callers = [find_caller(session, c.number) for c in storm + quiet]
    assert all(c.is_authorized and c.customer is not None for c in callers)
    assert len({c.customer.id for c in callers if c.customer}) == 15


def test_the_report_counts_every_generated_incident(database: Database) -> None:
    data, _, _ = bench_directory(8, 2)
    with database.session() as session:
        load(session, data)
    add_incident_history(database, 300, MONTH)
    with database.session() as session:
        report = monthly_report(session, MONTH, as_of=datetime(2026, 12, 1, tzinfo=UTC))
    assert sum(c.incidents for c in report.customers) == 300
    lines = [t for c in report.customers for t in c.targets]
    assert sum(t.met + t.breached for t in lines) == 300
    assert 0 < sum(t.breached for t in lines) < 100  # about one in ten late


def test_generated_rotas_resolve_without_problems(database: Database) -> None:
    data, _, _ = bench_directory(1, 1)
    with database.session() as session:
        load(session, data)
    now = datetime(2026, 11, 25, 3, tzinfo=UTC)
    counts = add_rotas(database, 6, 0.5, now)
    assert counts["rotations"] == 6 and counts["overrides"] == 6 * 30
    with database.session() as session:
        targets = [Target("on_call", f"rota-{r:04d}") for r in range(6)]
        roster = resolve_targets(session, targets, now)
    assert roster.problems == []
    assert all(len(roster.recipients[t]) == 1 for t in targets)


def test_signed_requests_validate_as_twilio_would(tmp_path: Path) -> None:
    url, token = "http://127.0.0.1:5000", "made-up-token"
    path = write_signed_requests(tmp_path / "calls.tsv", url, token, "AC" + "1" * 32,
                                 "+15035552000", "+15035550100", 5)  # fmt: skip
    lines = path.read_text().splitlines()
    assert len(lines) == 5
    validator = RequestValidator(token)
    sids = set()
    for line in lines:
        signature, body = line.split("\t")
        form = dict(parse_qsl(body))
        assert validator.validate(f"{url}/twilio/voice", form, signature)
        assert not validator.validate(f"{url}/twilio/voice", {**form, "From": "+1"}, signature)
        sids.add(form["CallSid"])
    assert len(sids) == 5  # every request is a new call
