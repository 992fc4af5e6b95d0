"""Pytest fixtures and helpers for driving the product through the simulator.

Load with ``pytest_plugins = ["simulator.testing"]`` (root ``conftest.py`` or a test
module). Fixtures:

- ``sim_clock``: a ``simulator.clock.ManualClock`` the simulator and the product can share;
- ``make_sim``: a factory, ``make_sim(app=None, *, app_url=None, line=None, ...)``, that
  starts a ``Simulator`` wired to a WSGI app in-process (or to ``app_url`` over HTTP) and,
  at teardown, fails the test if any SMS or call reached a phone without the test looking
  at it, or if a webhook failed — unless the test is marked ``allow_unexpected`` or called
  ``sim.allow_unexpected()``;
- ``sim``: ``make_sim()`` with no app: the fake REST API and phones only.

A test then reads like the story it checks::

    caller.dial(line).press("1").say("server room flooded").hang_up()
    analyst.expect_sms(contains="Acme").reply("A")
    analyst.expect_call().answer().press("2")
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from simulator.clock import ManualClock
from simulator.engine import Simulator
from simulator.webhooks import WsgiTransport

DEFAULT_APP_URL = "http://voiceline.test"


def pytest_configure(config: pytest.Config) -> None:
    """Register the simulator's marker."""
    config.addinivalue_line(
        "markers", "allow_unexpected: do not fail when phones got SMS or calls nobody expected"
    )


@pytest.fixture
def sim_clock() -> ManualClock:
    """Return a manual clock starting on a Monday at 02:00 UTC."""
    return ManualClock()


@pytest.fixture
def make_sim(request: pytest.FixtureRequest) -> Iterator[Callable[..., Simulator]]:
    """Yield a factory of started simulators that check for surprises at teardown."""
    started: list[Simulator] = []

    def factory(
        app: Callable[..., Any] | None = None,
        *,
        app_url: str | None = None,
        line: str | None = None,
        **options: Any,
    ) -> Simulator:
        """Start a simulator for ``app`` (in-process) or ``app_url`` (over HTTP)."""
        if app is not None:
            options.setdefault("transport", WsgiTransport(app))
        url = app_url or DEFAULT_APP_URL
        sim = Simulator(**options).start()
        started.append(sim)
        if line is not None:
            sim.add_line(line, url)
        return sim

    yield factory
    problems: list[str] = []
    for sim in started:
        try:
            if sim.is_strict:
                problems += sim.unexpected()
        finally:
            sim.stop()
    if problems and request.node.get_closest_marker("allow_unexpected") is None:
        pytest.fail("the simulator saw what no test expected:\n" + "\n".join(problems))


@pytest.fixture
def sim(make_sim: Callable[..., Simulator]) -> Simulator:
    """Return a started simulator with no app: the REST API and phones only."""
    return make_sim()
