"""A step of the wall clock moves the pending escalation timers with it, and only those
armed before the step: the tier-2 page then goes when it would have by real time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from escalation.clock_steps import StepWatch
from escalation.due import run_due
from escalation.wiring import paging_for
from simulator.clock import ManualClock
from simulator.engine import Simulator
from tests.conftest import LINE_NUMBER, PUBLIC_URL, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, app_config
from tests.escalation.test_escalation_story import Story
from tests.escalation_helpers import CASEY, incident, load_example, quiet, sent, state
from voiceline import extensions
from voiceline.app import create_app

pytest_plugins = ["simulator.testing"]


@pytest.fixture
def story(make_sim: Callable[..., Simulator], database_url: str, tmp_path: Path) -> Iterator[Story]:
    """The app and the simulator on one hand-moved wall clock (the escalation story's)."""
    clock = ManualClock(datetime(2026, 11, 22, 10, 0, tzinfo=UTC))  # Sun 02:00 in Oregon
    holder: dict[str, Any] = {}

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return holder["app"](environ, start_response)

    sim = make_sim(wsgi, app_url=PUBLIC_URL, line=LINE_NUMBER, account_sid=TEST_ACCOUNT_SID,
                   auth_token=TEST_AUTH_TOKEN, clock=clock)  # fmt: skip
    config = app_config(database_url, sim.base_url, VOICELINE_SPOOL_DIR=str(tmp_path / "spool"))
    holder["app"] = app = create_app(config, clock=clock)
    load_example(app)
    yield Story(sim, app, clock)
    quiet(app)


class Monotonic:
    """A monotonic clock the test moves: a wall-clock step leaves it where it is."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


def watch_of(story: Story, monotonic: Monotonic) -> StepWatch:
    story.sim.allow_unexpected()  # pages are counted at the fake Twilio API, not answered
    watch = StepWatch(extensions.database(story.app), story.clock, monotonic, host="test")
    assert watch.check() == 0.0  # the first look records the offset and moves nothing
    return watch


def real_time_passes(story: Story, monotonic: Monotonic, seconds: float) -> None:
    """Both clocks move together, then the worker's tick runs."""
    quiet(story.app)
    story.clock.advance(timedelta(seconds=seconds))
    monotonic.seconds += seconds
    run_due(paging_for(story.app))
    quiet(story.app)


def step_due(story: Story, incident_id: int) -> datetime:
    due = state(story.app, incident_id).step_due_at
    assert due is not None
    return due


def test_a_step_forward_does_not_fire_the_next_tier_early(story: Story) -> None:
    monotonic = Monotonic()
    incident_id = story.leave_emergency()
    watch = watch_of(story, monotonic)
    due = step_due(story, incident_id)
    story.clock.advance(timedelta(seconds=120))  # NTP steps the wall clock forward

    assert watch.check() == 120.0
    assert step_due(story, incident_id) == due + timedelta(seconds=120)
    assert incident(story.app, incident_id).next_due_at == due + timedelta(seconds=120)
    run_due(paging_for(story.app))
    assert sent(story.sim.api, "Messages", CASEY) == []  # tier 2 is not due by real time

    left = (due - story.clock.now()).total_seconds() + 120
    real_time_passes(story, monotonic, left - 1)
    assert sent(story.sim.api, "Messages", CASEY) == []
    real_time_passes(story, monotonic, 1)
    assert len(sent(story.sim.api, "Messages", CASEY)) == 1


def test_a_step_back_does_not_hold_the_next_tier(story: Story) -> None:
    monotonic = Monotonic()
    incident_id = story.leave_emergency()
    watch = watch_of(story, monotonic)
    due = step_due(story, incident_id)
    real_time_passes(story, monotonic, 130)
    assert watch.check() == 0.0
    # The wall clock was 120 s ahead when the timer was armed and is stepped back: the
    # offset between the clocks falls by 120 s (the simulator's clock only goes forward,
    # so the monotonic clock is what moves here; the watch sees the same step).
    monotonic.seconds += 120

    assert watch.check() == -120.0
    assert step_due(story, incident_id) == due - timedelta(seconds=120)
    left = (step_due(story, incident_id) - story.clock.now()).total_seconds()
    real_time_passes(story, monotonic, left)
    assert len(sent(story.sim.api, "Messages", CASEY)) == 1


def test_a_timer_armed_after_the_step_stays_as_it_is(story: Story) -> None:
    monotonic = Monotonic()
    first = story.leave_emergency()
    watch = watch_of(story, monotonic)
    before = step_due(story, first)
    story.clock.advance(timedelta(seconds=120))
    monotonic.seconds += 0.5
    second = story.leave_emergency("+14155550144")  # armed from the new clock
    after = step_due(story, second)

    assert watch.check() == 119.5
    assert step_due(story, first) == before + timedelta(seconds=119.5)
    assert step_due(story, second) == after


def test_no_step_moves_nothing(story: Story) -> None:
    monotonic = Monotonic()
    incident_id = story.leave_emergency()
    watch = watch_of(story, monotonic)
    due = step_due(story, incident_id)
    story.clock.advance(timedelta(seconds=30.4))
    monotonic.seconds += 30  # a slewing clock gains less than the tolerance

    assert watch.check() == 0.0
    assert step_due(story, incident_id) == due
