"""What the handset page offers a phone in each state: ``actions`` in ``/state.json``, the
list the page shows controls for, follows the call from idle to ended."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from handset_line import ANALYST, CUSTOMER, LINE, line_app

from simulator.engine import Simulator
from simulator.web import create_handset_app

pytest_plugins = ["simulator.testing"]

IDLE = ["dial", "sms"]
RINGING = ["answer", "voicemail", "decline", "sms"]
GATHERING_KEYS = ["press", "silence", "hang-up", "sms"]
RECORDING = ["press", "say", "silence", "hang-up", "sms"]
TALKING = ["press", "say", "hang-up", "sms"]


@pytest.fixture
def client(make_sim: Callable[..., Simulator]) -> FlaskClient:
    sim = make_sim(line_app(), line=LINE)
    sim.phone(CUSTOMER, "Pat Jones (Acme Dental)", "customer")
    sim.phone(ANALYST, "Alex Rivera", "analyst")
    return create_handset_app(sim).test_client()


def actions(client: FlaskClient, number: str, action: str | None = None, **payload: str) -> Any:
    """Do ``action`` on the phone (if given); return what its card may offer next."""
    if action is None:
        state = client.get("/state.json").get_json()
    else:
        answer = client.post(f"/phones/{number}/{action}", json=payload)
        assert answer.status_code == 200, answer.get_json()
        state = answer.get_json()
    return next(phone for phone in state["phones"] if phone["number"] == number)["actions"]


def test_an_idle_phone_can_only_call_and_text(client: FlaskClient) -> None:
    assert actions(client, CUSTOMER) == IDLE
    assert actions(client, ANALYST) == IDLE


def test_a_message_left_goes_menu_recording_ended(client: FlaskClient) -> None:
    assert actions(client, CUSTOMER, "dial", to=LINE) == GATHERING_KEYS
    assert actions(client, CUSTOMER, "press", digits="1") == RECORDING
    assert actions(client, CUSTOMER, "say", text="the server room is flooded") == RECORDING
    assert actions(client, CUSTOMER, "silence") == IDLE  # "Thank you", and the call ended


def test_a_speech_question_takes_words_not_keys(client: FlaskClient) -> None:
    actions(client, CUSTOMER, "dial", to=LINE)
    assert actions(client, CUSTOMER, "press", digits="3") == ["say", "silence", "hang-up", "sms"]
    assert actions(client, CUSTOMER, "say", text="Pat Jones") == IDLE


def test_a_dialled_analyst_rings_answers_and_both_talk(client: FlaskClient) -> None:
    actions(client, CUSTOMER, "dial", to=LINE)
    assert actions(client, CUSTOMER, "press", digits="2") == ["silence", "hang-up", "sms"]
    assert actions(client, ANALYST) == RINGING
    assert actions(client, ANALYST, "answer") == TALKING
    assert actions(client, CUSTOMER) == TALKING
    assert actions(client, ANALYST, "hang-up") == IDLE
    assert actions(client, CUSTOMER) == IDLE


def test_a_declined_call_leaves_the_phone_idle(client: FlaskClient) -> None:
    actions(client, CUSTOMER, "dial", to=LINE)
    actions(client, CUSTOMER, "press", digits="2")
    assert actions(client, ANALYST, "decline") == IDLE


def test_mark_all_read_is_offered_only_while_a_text_is_unread(client: FlaskClient) -> None:
    assert actions(client, ANALYST, "sms", to=LINE, body="A") == [*IDLE, "read"]
    assert actions(client, ANALYST, "read") == IDLE
