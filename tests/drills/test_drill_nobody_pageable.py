"""Drills: configurations under which nobody can be paged, and one that only looks fine.

- Customers whose policy pages a rotation with nobody on it: nobody can be paged, and
  the admins must hear of it.
- Every analyst's number refused by Twilio (21211): the same, found only by trying.
- ``TWILIO_FROM_NUMBER`` unset: README, "the number pages come from (defaults to the
  directory's ``service.emergency_number``)", so pages must still go out.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.drills.drill_count import tally
from tests.drills.drill_night import night
from tests.drills.drill_stack import Step, scaled, sqlite_database

pytestmark = pytest.mark.drill

SETTLE_SECONDS = 8.0  # a first step, its fallbacks and the notices they leave
GRACE_SECONDS = 10.0


def test_nobody_on_call(tmp_path: Path) -> None:
    database_url = sqlite_database(tmp_path)
    callers = scaled(3)
    with night(tmp_path, database_url, 0, [Step()], nobody=callers) as drill:
        for index in range(callers):
            drill.call(index)
        time.sleep(SETTLE_SECONDS)
        row = tally(
            "policy pages an empty rotation",
            1,
            drill.callers,
            [],
            database_url,
            [drill.sim],
            drill.watch.stop(),
        )
    assert row.lost == 0, row
    assert row.doubled == 0, row
    assert row.alarms >= 1, f"nobody could be paged and nobody was told: {row}"


def test_every_number_refused(tmp_path: Path) -> None:
    database_url = sqlite_database(tmp_path)
    callers = scaled(3)
    with night(
        tmp_path, database_url, callers, [Step()], choose=lambda kind, form: "21211"
    ) as drill:
        for index in range(callers):
            drill.call(index)
        time.sleep(SETTLE_SECONDS)
        assert drill.twilio.proxy is not None
        row = tally(
            "every analyst number refused (21211)",
            len(drill.twilio.proxy.injected),
            drill.callers,
            [],
            database_url,
            [drill.sim],
            drill.watch.stop(),
        )
    assert row.lost == 0, row
    assert row.doubled == 0, row
    assert row.alarms >= 1, f"nobody could be paged and nobody was told: {row}"


def test_no_twilio_from_number(tmp_path: Path) -> None:
    database_url = sqlite_database(tmp_path)
    callers = scaled(3)
    env: dict[str, str | None] = {"TWILIO_FROM_NUMBER": None}
    with night(tmp_path, database_url, callers, [Step()], env=env) as drill:
        for index in range(callers):
            drill.call(index)
        expects = [e for c in drill.callers for e in drill.expect(c, 1, GRACE_SECONDS)]
        drill.wait_for(expects)
        row = tally(
            "TWILIO_FROM_NUMBER unset",
            1,
            drill.callers,
            expects,
            database_url,
            [drill.sim],
            drill.watch.stop(),
        )
    assert row.lost == 0, row
    assert row.doubled == 0, row
    if row.pages_sent < row.pages_expected:
        assert row.alarms >= 1, f"pages stopped and nobody was told: {row}"
