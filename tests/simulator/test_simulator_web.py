"""The handset page and the demo launcher: what a person clicking phones gets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask, request
from flask.testing import FlaskClient
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from simulator.__main__ import build, parse_arguments
from simulator.directory import DirectoryError, read_directory_phones
from simulator.engine import Simulator
from simulator.web import create_handset_app, snapshot

pytest_plugins = ["simulator.testing"]

LINE = "+15035550100"
CUSTOMER = "+15035550111"
ANALYST = "+15035550201"
EXAMPLE_DIRECTORY = Path(__file__).resolve().parents[2] / "examples" / "directory.yaml"


def demo_app() -> Flask:
    """A two-step line: a menu, then a recording; SMS are echoed."""
    app = Flask("stand_in_demo")

    @app.post("/twilio/voice")
    def voice() -> Any:
        reply = VoiceResponse()
        reply.gather(num_digits=1, action="/record").say("Press 1 to leave a message.")
        return str(reply)

    @app.post("/record")
    def record() -> Any:
        reply = VoiceResponse()
        reply.record(action="/thanks")
        return str(reply)

    @app.post("/thanks")
    def thanks() -> Any:
        reply = VoiceResponse()
        reply.say("Thank you.")
        return str(reply)

    @app.post("/twilio/sms")
    def sms() -> Any:
        reply = MessagingResponse()
        reply.message(f"You said {request.form['Body']}")
        return str(reply)

    return app


@pytest.fixture
def page(make_sim: Callable[..., Simulator]) -> tuple[Simulator, FlaskClient]:
    sim = make_sim(demo_app(), line=LINE)
    sim.phone(CUSTOMER, "Pat Jones (Acme Dental)", "customer")
    sim.phone(ANALYST, "Alex Rivera", "analyst")
    return sim, create_handset_app(sim).test_client()


def post(client: FlaskClient, number: str, action: str, **payload: str) -> Any:
    return client.post(f"/phones/{number}/{action}", json=payload)


def screen(state: dict[str, Any], number: str) -> dict[str, Any]:
    return next(phone for phone in state["phones"] if phone["number"] == number)


def test_the_page_lists_every_phone(page: tuple[Simulator, FlaskClient]) -> None:
    _, client = page
    html = client.get("/").get_data(as_text=True)
    assert "Voiceline simulator" in html and '<script src="/static/handsets.js">' in html
    assert "/state.json" in client.get("/static/handsets.js").get_data(as_text=True)
    assert client.get("/static/handsets.css").status_code == 200
    state = client.get("/state.json").get_json()
    assert state["lines"] == [LINE]
    assert screen(state, ANALYST) == {
        "number": ANALYST,
        "name": "Alex Rivera",
        "group": "analyst",
        "inbox": [],
        "call": None,
        "actions": ["dial", "sms"],
    }


def test_a_customer_calls_presses_speaks_and_the_screen_follows(
    page: tuple[Simulator, FlaskClient],
) -> None:
    sim, client = page
    state = post(client, CUSTOMER, "dial", to=LINE).get_json()
    call = screen(state, CUSTOMER)["call"]
    assert call["waiting_for"] == "gathering" and call["is_outgoing"]
    assert call["heard"][-1] == {"kind": "say", "text": "Press 1 to leave a message."}
    post(client, CUSTOMER, "press", digits="1")
    post(client, CUSTOMER, "say", text="the server room is flooded")
    state = post(client, CUSTOMER, "silence").get_json()
    call = screen(state, CUSTOMER)["call"]
    assert call["waiting_for"] == "ended" and call["heard"][-1]["text"] == "Thank you."
    [recording] = sim.api.recordings.values()
    assert recording.text == "the server room is flooded"


def test_a_ringing_analyst_answers_from_the_page(page: tuple[Simulator, FlaskClient]) -> None:
    sim, client = page
    sim.rest_client().calls.create(
        to=ANALYST, from_=LINE, twiml="<Response><Say>Incident 12.</Say></Response>"
    )
    sim.pump()
    call = screen(client.get("/state.json").get_json(), ANALYST)["call"]
    assert call["waiting_for"] == "ringing" and call["other_party"] == LINE
    state = post(client, ANALYST, "answer").get_json()
    assert "Incident 12." in [line["text"] for line in screen(state, ANALYST)["call"]["heard"]]
    assert sim.unexpected() == []


def test_texts_go_out_and_replies_come_back(page: tuple[Simulator, FlaskClient]) -> None:
    _, client = page
    state = post(client, ANALYST, "sms", to=LINE, body="A").get_json()
    assert screen(state, ANALYST)["inbox"] == [
        {"sid": screen(state, ANALYST)["inbox"][0]["sid"], "from": LINE, "body": "You said A",
         "is_read": False},
    ]  # fmt: skip
    state = post(client, ANALYST, "read").get_json()
    assert screen(state, ANALYST)["inbox"][0]["is_read"] is True


def test_mistakes_get_clear_answers_and_change_nothing(
    page: tuple[Simulator, FlaskClient],
) -> None:
    sim, client = page
    before = snapshot(sim)
    assert post(client, ANALYST, "answer").get_json() == {
        "error": "Alex Rivera (+15035550201) is not ringing"
    }
    assert post(client, ANALYST, "press", digits="").status_code == 400
    assert post(client, "+15035550999", "answer").status_code == 404
    assert post(client, ANALYST, "explode").status_code == 404
    form_post = client.post(f"/phones/{ANALYST}/dial", data={"to": LINE})
    assert form_post.status_code == 400
    assert snapshot(sim) == before


def test_the_directory_gives_every_contact_and_analyst_a_phone() -> None:
    found = read_directory_phones(EXAMPLE_DIRECTORY)
    assert found.line == "+15035550100"
    numbers = {handset.number: handset for handset in found.handsets}
    assert numbers["+15035550111"].name == "Pat Jones (Acme Dental)"
    assert numbers["+442079460321"].group == "customer"
    assert numbers["+15035550201"].group == "analyst"
    assert numbers["+15035550199"].name == "Support desk"


def test_a_directory_with_a_bad_number_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "directory.yaml"
    broken.write_text("service: {emergency_number: 'call me maybe'}\n", encoding="utf-8")
    with pytest.raises(DirectoryError, match="call me maybe"):
        read_directory_phones(broken)
    broken.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(DirectoryError, match="not a directory file"):
        read_directory_phones(broken)


def test_the_launcher_wires_line_phones_and_page_on_one_port() -> None:
    arguments = parse_arguments(
        ["--port", "0", "--app-url", "http://127.0.0.1:5999", "--directory", str(EXAMPLE_DIRECTORY)]
    )
    sim = build(arguments)
    with sim:
        assert sim.numbers[LINE].voice_url == "http://127.0.0.1:5999/twilio/voice"
        assert sim.phones["+15035550202"].name == "Sam Okafor"
        client = sim.rest_client()
        assert client.messages.create(to=ANALYST, from_=LINE, body="hi").status == "queued"
        assert "Voiceline simulator" in requests.get(f"{sim.base_url}/", timeout=5).text
