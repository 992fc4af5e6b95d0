"""Callers and pages over the simulator: many phones calling at once, and what Twilio sent.

The simulator serialises everything one ``Simulator`` does, so the storm spreads its
callers over several caller-side simulators, each in its own thread, all signing with
the account's token and ringing the same line; the app's REST calls (the pages) go to
one more simulator, which a pump thread keeps delivering (SMS status callbacks, ringing
phones) as Twilio would.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.directories import LINE, Caller
from simulator.engine import Simulator
from simulator.webhooks import HttpTransport
from tests.e2e_stack import ACCOUNT_SID, AUTH_TOKEN

MESSAGE = "The server room is flooded and nobody can log in"
PROMISE = "will call you back within"
_INCIDENT_IN_SMS = re.compile(r"#(\d+)\b")
_INCIDENT_IN_URL = re.compile(r"/twilio/page/(\d+)/")  # a voice page's TwiML URL


@dataclass(frozen=True)
class CallOutcome:
    """One caller's call: did they hear the promise, and any problem on the way."""

    number: str
    heard_promise: bool
    problem: str | None
    seconds: float


@dataclass(frozen=True)
class SentPage:
    """An SMS or call the app asked Twilio for: to whom, when, and which incidents it names."""

    channel: str
    to: str
    at: float  # POSIX seconds, when the fake Twilio received the request
    incidents: frozenset[int]
    words: str = ""  # an SMS's first words, to tell a page from a reminder in the results
    sid: str = ""
    row_sent_at: float | None = None  # the page row's send time: when the app saw Twilio take it


def new_simulator() -> Simulator:
    """Return a started simulator of the bench's account."""
    return Simulator(
        transport=HttpTransport(), account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN
    ).start()


class Pump:
    """Keep a simulator delivering (SMS to phones, status callbacks) from a thread."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pages-pump", daemon=True)

    def __enter__(self) -> Pump:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def settle(self, timeout: float) -> bool:
        """Wait until nothing is left to deliver (twice in a row); False if time ran out."""
        deadline = time.monotonic() + timeout
        quiet_checks = 0
        while time.monotonic() < deadline:
            with self.sim.lock:
                idle = not self.sim.api.has_events.is_set() and not self.sim.courier.pending
            quiet_checks = quiet_checks + 1 if idle else 0
            if quiet_checks >= 2:
                return True
            time.sleep(0.25)
        return False

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sim.pump()
            self.sim.api.has_events.wait(0.05)


def leave_message(sim: Simulator, caller: Caller) -> CallOutcome:
    """Call the line, press 1, leave a message and wait out the silence, as a caller does."""
    started = time.perf_counter()
    try:
        leg = sim.phone(caller.number, caller.name).dial(LINE)
        leg.press("1").say(MESSAGE).wait_out()
        heard = PROMISE in leg.transcript.lower()
        problem = None if heard else f"heard instead: {leg.transcript[-200:]!r}"
    except Exception as exc:  # a caller whose call broke is counted, not fatal to the bench
        heard, problem = False, f"{type(exc).__name__}: {exc}"
    return CallOutcome(caller.number, heard, problem, time.perf_counter() - started)


@contextmanager
def caller_simulators(count: int, app_url: str) -> Iterator[list[Simulator]]:
    """Yield ``count`` caller-side simulators whose line rings ``app_url``; stop them after."""
    with ExitStack() as stack:
        sims = []
        for _ in range(count):
            sim = new_simulator()
            stack.callback(sim.stop)
            sim.add_line(LINE, app_url, call_status=True)
            sims.append(sim)
        yield sims


def storm(sims: list[Simulator], callers: list[Caller], seconds: float) -> list[CallOutcome]:
    """Start ``callers`` evenly over ``seconds``, each on the next free simulator."""
    gap = seconds / max(1, len(callers) - 1) if len(callers) > 1 else 0.0
    start = time.monotonic() + 0.2

    def lane(k: int) -> list[CallOutcome]:
        outcomes = []
        for i in range(k, len(callers), len(sims)):
            delay = start + i * gap - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            outcomes.append(leave_message(sims[k], callers[i]))
        return outcomes

    with ThreadPoolExecutor(max_workers=len(sims), thread_name_prefix="caller") as pool:
        lanes = list(pool.map(lane, range(len(sims))))
    return [outcome for outcomes in lanes for outcome in outcomes]


def webhook_errors(sims: list[Simulator]) -> list[str]:
    """Return what Twilio's debugger would show across ``sims``: failed webhooks, bad TwiML."""
    return [error for sim in sims for error in sim.errors]


def sent_pages(sim: Simulator, page_incidents: dict[str, int]) -> list[SentPage]:
    """Return every SMS and call the app created on ``sim``'s REST API, oldest first.

    An SMS names the incidents whose ``#N`` it carries; a call, the incident in its URL;
    either also names the incident its page row records (``page_incidents`` by SID).
    """
    found = []
    for record in list(sim.api.messages.values()):
        if record.direction != "outbound-api":
            continue
        named = {int(n) for n in _INCIDENT_IN_SMS.findall(record.body)}
        if record.sid in page_incidents:
            named.add(page_incidents[record.sid])
        found.append(
            SentPage("sms", record.to, record.created_at.timestamp(), frozenset(named),
                     record.body[:60], record.sid)
        )  # fmt: skip
    for call in list(sim.api.calls.values()):
        if call.direction != "outbound-api":
            continue
        named = {int(n) for n in _INCIDENT_IN_URL.findall(urlsplit(call.url or "").path)}
        if call.sid in page_incidents:
            named.add(page_incidents[call.sid])
        found.append(SentPage("voice", call.to, call.created_at.timestamp(), frozenset(named)))
    return sorted(found, key=lambda page: page.at)
