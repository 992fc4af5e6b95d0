"""``voiceline demo``, what ``make run`` starts, driven through its handset page over HTTP:
the newcomer's story from the call to the met SLA, then Ctrl-C."""

from __future__ import annotations

import re
import socket
from typing import Any

import pytest
import requests
from sqlalchemy import select

from tests.e2e_stack import (  # noqa: F401  (demo_fixture, demo_ports_fixture: fixtures)
    ALEX,
    LINE,
    PAT,
    DemoRun,
    demo_fixture,
    demo_ports_fixture,
)
from voiceline.sla.models import SlaClock

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def heard(screen: dict[str, Any]) -> str:
    """Return what the phone on ``screen`` heard on its current call."""
    return "\n".join(line["text"] for line in (screen["call"] or {}).get("heard", []))


def is_ringing(screen: dict[str, Any]) -> bool:
    """Tell whether the phone shows an incoming call ringing."""
    call = screen["call"]
    return bool(call) and call["waiting_for"] == "ringing" and not call["is_outgoing"]


def logged_in(demo: DemoRun) -> requests.Session:
    """Log in to the admin pages with the password the demo printed."""
    browser = requests.Session()
    form = browser.get(f"{demo.app_url}/admin/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, form
    answer = browser.post(
        f"{demo.app_url}/admin/login",
        data={"csrf_token": token.group(1), "username": "demo", "password": demo.admin_password},
        timeout=10,
    )
    assert answer.status_code == 200 and "Log out" in answer.text, answer.text[:2000]
    return browser


def is_listening(url: str) -> bool:
    """Tell whether something accepts connections at the URL's port."""
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_the_demo_takes_a_call_pages_bridges_and_meets_the_sla(demo: DemoRun) -> None:
    page = requests.get(f"{demo.handsets_url}/", timeout=10).text
    assert f'href="{demo.app_url}/admin"' in page
    assert "Try this" in page and "Pat Jones (Acme Dental)" in page

    demo.act(PAT, "dial", to=LINE)
    assert "If your business is down" in heard(demo.phone(PAT))
    demo.act(PAT, "press", digits="1")
    demo.act(PAT, "say", text="Our server room is flooded and the phones are dead")
    demo.act(PAT, "silence")
    assert "will call you back within 30 minutes" in heard(demo.phone(PAT))

    alex = demo.wait_for_phone(
        ALEX, lambda s: bool(s["inbox"]) and is_ringing(s), "the SMS and voice page"
    )
    assert "EMERGENCY Acme Dental" in alex["inbox"][0]["body"]
    demo.act(ALEX, "answer")
    assert "Our server room is flooded" in heard(demo.phone(ALEX))
    demo.act(ALEX, "press", digits="2")
    demo.wait_for_phone(PAT, is_ringing, "the analyst's callback ringing")
    demo.act(PAT, "answer")
    demo.act(PAT, "say", text="Thank you for calling back")
    assert "Thank you for calling back" in heard(demo.phone(ALEX))
    demo.act(ALEX, "hang-up")

    with demo.database.session() as session:
        clock = session.scalars(select(SlaClock)).one()
        assert clock.stopped_at is not None and clock.is_met is True

    admin = logged_in(demo)
    incident = admin.get(f"{demo.app_url}/admin/incidents/1", timeout=10).text
    assert "Acknowledged by Alex Rivera" in incident and "Called back at" in incident

    assert demo.interrupt() == 0  # Ctrl-C stops all three processes cleanly
    assert not is_listening(demo.app_url) and not is_listening(demo.handsets_url)
