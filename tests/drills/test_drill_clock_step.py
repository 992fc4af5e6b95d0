"""Drill: the wall clock stepped forward, then back, during escalations.

The app and the worker read the time from the system; nothing lets a test hand a real
process another clock. So they run with a small preloaded library
(``wall_clock_step.c``, compiled here with the system's C compiler) that adds the
seconds written in a file to the wall clock (``CLOCK_REALTIME``, ``gettimeofday``,
``time``) and leaves the monotonic clock, sleeps and timed waits alone: exactly what an
NTP step does to a host. The drill rewrites the file: +120 s in the middle of a first
batch's escalations (a step forward), then back to 0 (the step back) while a second
batch's run. Steps must still reach their analysts on time by the real clock, once each.

Why not libfaketime (Debian's ``faketime``): it steps the monotonic clock with the wall
clock, which no NTP step does and no process can then measure against, and it breaks
Python's timed waits doing so (``threading.Event.wait`` never returns: the deadline
comes from the faked monotonic clock, the kernel waits on the real one); told to leave
monotonic time alone (``FAKETIME_DONT_FAKE_MONOTONIC``), 0.9.10 makes ``time.sleep``
fail with EINVAL (``clock_nanosleep`` with an absolute monotonic deadline).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.drills.drill_count import tally
from tests.drills.drill_night import night
from tests.drills.drill_stack import Step, scaled, sqlite_database

pytestmark = pytest.mark.drill

SHIM_SOURCE = Path(__file__).with_name("wall_clock_step.c")
STEP_SECONDS = 120
STEPS = [
    Step(channels=("sms",), delay="6s"),
    Step(channels=("sms",), delay="6s"),
    Step(delay="10m"),
]
GRACE_SECONDS = 10.0


def wall_clock_env(tmp: Path, offset_file: Path) -> dict[str, str | None]:
    """Return the environment that makes a process add the file's seconds to its wall clock."""
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        message = "no C compiler to build the wall-clock step library: apt-get install gcc"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    library = tmp / "wall_clock_step.so"
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-O2", "-o", str(library), str(SHIM_SOURCE), "-ldl"],
        check=True,
        capture_output=True,
    )
    return {"LD_PRELOAD": str(library), "WALL_CLOCK_OFFSET_FILE": str(offset_file)}


def step_clock(offset_file: Path, seconds: int) -> None:
    """Set the wall clock's offset at once (a reader never sees a half-written file)."""
    draft = offset_file.with_suffix(".draft")
    draft.write_text(f"{seconds:+d}\n")
    os.replace(draft, offset_file)


def test_wall_clock_stepped_forward_and_back(tmp_path: Path) -> None:
    database_url = sqlite_database(tmp_path)
    batch = scaled(2)
    offset = tmp_path / "clock-offset"
    step_clock(offset, 0)
    env = wall_clock_env(tmp_path, offset)
    with night(tmp_path, database_url, 2 * batch, STEPS, env=env) as drill:
        for index in range(batch):
            drill.call(index)
        time.sleep(3.0)  # mid first step
        step_clock(offset, STEP_SECONDS)
        for index in range(batch, 2 * batch):
            drill.call(index)
        time.sleep(3.0)  # mid first step of the second batch
        step_clock(offset, 0)
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
