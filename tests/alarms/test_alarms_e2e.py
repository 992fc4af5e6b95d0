"""End to end with the README's configuration: real gunicorn and worker processes, no
TWILIO_FROM_NUMBER, and the directory's emergency number as the pages' caller ID.

The processes are started exactly as ``tests/e2e_stack.py`` starts them, with the same
environment less ``TWILIO_FROM_NUMBER`` (the README says it defaults to the directory's
``service.emergency_number``, which ``tests/e2e_directory.yaml`` sets to the line).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from simulator.engine import Simulator
from simulator.webhooks import HttpTransport
from tests.e2e_stack import (
    ACCOUNT_SID,
    ALEX,
    AUTH_TOKEN,
    E2E_DIRECTORY,
    LINE,
    PAGE_SECONDS,
    PAT,
    STARTUP_SECONDS,
    EndToEnd,
    free_port,
    process_environment,
    wait_for_log,
)
from voiceline.db import Database
from voiceline.demo import Stack, web_command, worker_command
from voiceline.directory.checker import read_directory_file
from voiceline.directory.loader import load_directory

pytest_plugins = ["simulator.testing"]
pytestmark = pytest.mark.e2e


@pytest.fixture
def readme_e2e(
    database_url: str, make_sim: Callable[..., Simulator], tmp_path: Path
) -> Iterator[EndToEnd]:
    """Run the app and the worker as processes, configured without TWILIO_FROM_NUMBER."""
    database = Database(database_url)
    with database.session() as session:
        load_directory(session, read_directory_file(E2E_DIRECTORY), actor="e2e")
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    sim = make_sim(
        transport=HttpTransport(),
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        wait_timeout=PAGE_SECONDS,
    )
    sim.add_line(LINE, app_url, call_status=True)
    env = process_environment(database_url, sim, app_url, tmp_path)
    del env["TWILIO_FROM_NUMBER"]
    stack = Stack()
    logs = {name: tmp_path / f"{name}.log" for name in ("web", "worker")}
    try:
        with logs["web"].open("wb") as web_log, logs["worker"].open("wb") as worker_log:
            stack.start("web", web_command(port, workers=2), env, output=web_log)
            stack.start("worker", worker_command(), env, output=worker_log)
        stack.wait_until_serving(f"{app_url}/healthz", timeout=STARTUP_SECONDS)
        wait_for_log(stack, logs["worker"], "started with", STARTUP_SECONDS)
        yield EndToEnd(sim, database, app_url, stack, logs)
    finally:
        stack.stop()
        print(EndToEnd(sim, database, app_url, stack, logs).log_tails())
        database.dispose()


def test_pages_come_from_the_emergency_number_without_twilio_from_number(
    readme_e2e: EndToEnd,
) -> None:
    sim = readme_e2e.sim
    call = sim.phone(PAT, "Pat Jones").dial(LINE)
    call.press("1").say("The server room is flooded").wait_out()
    call.expect_heard("will call you back within 30 minutes")

    alex = sim.phone(ALEX, "Alex Rivera")
    text = alex.expect_sms("#1 EMERGENCY Acme Dental", from_=LINE)
    ringing = alex.expect_call(from_=LINE)
    text.reply("1A")
    alex.expect_sms("is yours", from_=LINE)
    ringing.decline()

    deadline = time.monotonic() + PAGE_SECONDS
    while True:
        sim.pump()
        body = requests.get(f"{readme_e2e.app_url}/healthz", timeout=5).json()
        if body == {"status": "ok", "database": "ok"} or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert body == {"status": "ok", "database": "ok"}, readme_e2e.log_tails()
