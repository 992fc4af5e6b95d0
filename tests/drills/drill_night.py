"""One drill's night: the desk loaded, the fake Twilio up, the app and workers running.

``night(...)`` is the context every drill runs in; on the way out it stops the
processes, then the fake Twilio, and prints the tail of every process log (pytest shows
it when the drill fails).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from simulator.engine import Simulator
from simulator.webhooks import HttpTransport
from tests.drills.drill_count import AlarmWatch, Caller, Expect, leave_message, now
from tests.drills.drill_stack import (
    Processes,
    Step,
    analyst_code,
    caller_number,
    environment,
    load_desk,
    write_desk,
)
from tests.drills.drill_twilio import FallbackTransport, TwilioSide, caller_side
from tests.e2e_stack import process_environment


@dataclass
class Night:
    """What a drill drives and looks at."""

    database_url: str
    processes: Processes
    twilio: TwilioSide
    steps: list[Step]
    watch: AlarmWatch
    callers: list[Caller] = field(default_factory=list)

    @property
    def sim(self) -> Simulator:
        """Return the simulator the app pages through."""
        return self.twilio.sim

    def call(self, index: int, sim: Simulator | None = None) -> Caller:
        """Have customer ``index``'s contact leave an emergency message."""
        caller = leave_message((sim or self.sim).phone(caller_number(index)), index)
        self.callers.append(caller)
        return caller

    def callers_sims(self, count: int) -> list[Simulator]:
        """Return ``count`` more simulators of the account for callers in parallel threads."""
        app_url = self.processes.app_url
        return [
            caller_side(app_url, FallbackTransport(HttpTransport(), app_url)) for _ in range(count)
        ]

    def expect(self, caller: Caller, steps: int, grace: float, late: float = 0.0) -> list[Expect]:
        """Return the rounds caller's incident must reach: the first ``steps`` steps.

        Step ``j`` is due the sum of the earlier steps' delays after the message (plus
        ``late``, when the drill knows the product could not have paged sooner), and
        must have reached its analyst ``grace`` seconds after that.
        """
        found, offset = [], 0.0
        for number in range(steps):
            by = caller.finished + timedelta(seconds=offset + late + grace)
            found.append(
                Expect(caller.index, f"0.{number}", analyst_code(number, caller.index), by)
            )
            offset += seconds_of(self.steps[number].delay)
        return found

    def wait_for(self, expects: list[Expect], extra: float = 0.0) -> None:
        """Wait until the last deadline (plus ``extra``) so late and doubled pages show."""
        if not expects:
            return
        last = max(e.by for e in expects) + timedelta(seconds=extra)
        while now() < last:
            time.sleep(min(0.5, max(0.0, (last - now()).total_seconds())))


def seconds_of(delay: str) -> float:
    """Return the seconds of a drill step delay written as ``90s`` or ``10m``."""
    unit = {"s": 1, "m": 60, "h": 3600}[delay[-1]]
    return float(delay[:-1]) * unit


@contextmanager
def night(
    tmp: Path,
    database_url: str,
    customers: int,
    steps: list[Step],
    *,
    nobody: int = 0,
    workers: tuple[str, ...] = ("worker",),
    web_workers: int = 2,
    env: dict[str, str | None] | None = None,
    process_database_url: str | None = None,
    **twilio: Any,
) -> Iterator[Night]:
    """Run a drill's processes against a fake Twilio; stop everything at the end."""
    load_desk(database_url, write_desk(tmp / "desk.yaml", customers, steps, nobody=nobody))
    processes = Processes(env={}, tmp=tmp)
    # The number's Voice fallback URL is set, as the README's Twilio console section says.
    transport = FallbackTransport(
        twilio.pop("transport", None) or HttpTransport(), processes.app_url
    )
    side = TwilioSide.start(processes.app_url, transport=transport, **twilio)
    try:
        base = process_environment(database_url, side.sim, processes.app_url, tmp)
        processes.env = environment(
            base, process_database_url or database_url, side.api_url, **(env or {})
        )
        processes.start_web(web_workers, wait=False)  # it boots while the workers start
        for name in workers:
            status = processes.start_worker(name)
            assert status is None, f"{name} refused to start ({status}):\n{processes.tails()}"
        processes.wait_for_web()
        watch = AlarmWatch(processes.app_url, database_url).start()
        yield Night(database_url, processes, side, steps, watch)
    finally:
        processes.stop()
        side.stop()
        print(processes.tails())


def concurrently(jobs: list[Callable[[], Any]], threads: int) -> list[Any]:
    """Run ``jobs`` on ``threads`` threads; return their results in order."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="caller") as pool:
        return list(pool.map(lambda job: job(), jobs))
