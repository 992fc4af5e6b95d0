"""Drill: the database unreachable for 30 seconds while calls come in and pages are due.

A TCP proxy between PostgreSQL and both the app and the worker swallows all traffic for
30 s. Messages left before the outage have a second step due during it; callers who
ring during it are answered from the spool (README: TwiML within 2 s, replayed once the
database answers). Once it is back, nothing may be missing and nothing doubled, and an
outage that stops paging must raise an alarm.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.drills.drill_count import now, tally
from tests.drills.drill_night import concurrently, night
from tests.drills.drill_stack import Step, postgres_database, scaled
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.drill, pytest.mark.postgres]

OUTAGE_SECONDS = 30.0
STEPS = [Step(delay="10s"), Step(delay="10m")]
GRACE_SECONDS = 10.0
# After the outage: the worker replays the spool every 15 s, then pages at once.
RECOVERY_SECONDS = 25.0


def test_database_unreachable_for_30_seconds(tmp_path: Path) -> None:
    before, during = scaled(2), scaled(3)
    with postgres_database() as database_url:
        url = make_url(database_url)
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        try:
            with night(
                tmp_path, database_url, before + during, STEPS, process_database_url=proxied
            ) as drill:
                for index in range(before):
                    drill.call(index)
                time.sleep(2.0)  # the first pages and their callbacks are through
                proxy.black_hole()
                started = now()
                phones = drill.callers_sims(during)
                concurrently(
                    [partial(drill.call, before + i, phones[i]) for i in range(during)],
                    during,
                )
                time.sleep(max(0.0, OUTAGE_SECONDS - (now() - started).total_seconds()))
                proxy.restore()
                ended = now()
                print(f"outage {started.isoformat()} .. {ended.isoformat()}")
                recovered = ended + timedelta(seconds=RECOVERY_SECONDS)
                expects = []
                for caller in drill.callers[:before]:
                    first, second = drill.expect(caller, 2, GRACE_SECONDS)
                    expects += [first, replace(second, by=max(second.by, recovered))]
                for caller in drill.callers[before:]:
                    [first] = drill.expect(caller, 1, GRACE_SECONDS)
                    expects.append(replace(first, by=max(first.by, recovered)))
                drill.wait_for(expects, extra=2)
                row = tally(
                    "database unreachable 30 s (PostgreSQL)",
                    1,
                    drill.callers,
                    expects,
                    database_url,
                    [drill.sim],
                    drill.watch.stop(),
                )
                for phone in phones:
                    phone.stop()
        finally:
            proxy.close()
    assert row.lost == 0, row
    assert row.doubled == 0, row
    assert row.alarms >= 1, f"30 s without a database stopped paging and nobody was told: {row}"
