"""Drill: the wall clock stepped forward, then back, during escalations.

The app and the worker read the time from the system; nothing lets a test hand a real
process another clock. So they run under libfaketime (Debian's ``faketime``, which
``make drills`` installs), preloaded at the process boundary, reading their offset from
a file the drill rewrites: +120 s in the middle of a first batch's escalations (an NTP
step forward), then back to 0 (the step back) while a second batch's run. Steps must
still reach their analysts on time by the real clock, once each.

A real step leaves monotonic time alone; libfaketime 0.9.10 (Debian 12) can be told to
(``FAKETIME_DONT_FAKE_MONOTONIC``) but then breaks Python 3.11's ``time.sleep``
(``clock_nanosleep`` fails with EINVAL), so here monotonic time steps too: a harsher
step than NTP's.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.drills.drill_count import tally
from tests.drills.drill_night import night
from tests.drills.drill_stack import Step, scaled, sqlite_database

pytestmark = pytest.mark.drill

LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
STEP_SECONDS = 120
STEPS = [
    Step(channels=("sms",), delay="6s"),
    Step(channels=("sms",), delay="6s"),
    Step(delay="10m"),
]
GRACE_SECONDS = 10.0


def faketime_env(offset_file: Path) -> dict[str, str | None]:
    """Return the environment that makes a process read its clock offset from a file."""
    library = os.environ.get("DRILL_LIBFAKETIME") or str(LIBFAKETIME)
    if not Path(library).exists():
        message = f"libfaketime not found at {library}: apt-get install faketime"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return {
        "LD_PRELOAD": library,
        "FAKETIME_TIMESTAMP_FILE": str(offset_file),
        "FAKETIME_NO_CACHE": "1",  # read the file at every clock call: a step is seen at once
    }


def test_wall_clock_stepped_forward_and_back(tmp_path: Path) -> None:
    database_url = sqlite_database(tmp_path)
    batch = scaled(2)
    offset = tmp_path / "clock-offset"
    offset.write_text("+0\n")
    env = faketime_env(offset)
    with night(tmp_path, database_url, 2 * batch, STEPS, env=env) as drill:
        for index in range(batch):
            drill.call(index)
        time.sleep(3.0)  # mid first step
        offset.write_text(f"+{STEP_SECONDS}\n")
        for index in range(batch, 2 * batch):
            drill.call(index)
        time.sleep(3.0)  # mid first step of the second batch
        offset.write_text("+0\n")
        expects = [e for c in drill.callers for e in drill.expect(c, 3, GRACE_SECONDS)]
        drill.wait_for(expects, extra=5)
        row = tally(
            f"wall clock +{STEP_SECONDS} s then back",
            2,
            drill.callers,
            expects,
            database_url,
            [drill.sim],
            drill.watch.stop(),
        )
    assert row.lost == 0, row
    assert row.doubled == 0, row
