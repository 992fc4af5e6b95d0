"""Fuzz every ``/twilio/*`` endpoint with signed, Twilio-like requests.

The routes come from the URL map (the ``twilio`` blueprint, checked against the app's
map), so a new webhook is fuzzed without editing this file. Each example posts a form of
Twilio's field names with real and hostile values (unicode digits, huge numbers, empty,
very long, percent-encoded, E.164 and garbage numbers), a query string like the line's own
URLs carry, and path arguments (real incidents and page keys, and huge integers), signed
over the URL and the parameters the way Twilio signs. Every route must answer below 500,
log no exception, and spool nothing.

The caller's routes are those under ``/twilio/voice``. What they answer must *record*:

- the TwiML, read in order as Twilio runs it, reaches a ``<Record>`` before anything ends
  the call; a ``<Gather>`` that gets no digits falls through to the next verb, a
  ``<Redirect>`` is followed (posted, as Twilio would), and a ``<Dial>`` to the desk is
  followed to its action as a desk that did not answer; at most three hops;
- or the call may end (``<Hangup>``) only where it is deliberate: the routes Twilio calls
  once a message is over (the ``<Record>`` action and the ``<Redirect>`` after an empty
  recording, found from the line's own TwiML), and the desk's result when the desk
  answered (``DialCallStatus=completed``).

A caller who presses nothing still hears a beep: that is the promise checked here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.routing import IntegerConverter, Rule
from werkzeug.test import TestResponse

import webhooks
from escalation.models import Page
from escalation.wiring import settle
from tests.conftest import post_signed
from tests.escalation_helpers import PAT, STRANGER, load_example
from tests.fuzz.fuzz_support import (
    COUNTS,
    fuzz_settings,
    located,
    logged_errors,
    path_int,
    path_text,
    twilio_form,
    twilio_query,
)
from tests.line_helpers import CallDriver, TwiML, path_of
from voiceline import extensions
from voiceline.line.spool import Spool

CALLER_PREFIX = "/twilio/voice"
FALLBACK_URL = "twilio.voice_fallback"
MAX_HOPS = 3


def _twilio_rules() -> dict[str, Rule]:
    """Return the ``twilio`` blueprint's rules by endpoint, as the app routes them."""
    probe = Flask("fuzz-url-map")
    probe.register_blueprint(webhooks.bp)
    return {r.endpoint: r for r in probe.url_map.iter_rules() if r.endpoint.startswith("twilio.")}


RULES = _twilio_rules()


@dataclass
class Night:
    """The app after one real emergency: a loaded directory, an incident, its pages."""

    app: Flask
    client: FlaskClient
    pages: list[tuple[int, str]]
    after_record: set[str]
    spool: Spool

    def endpoint_of(self, path: str) -> str:
        adapter = self.app.url_map.bind("localhost")
        endpoint, _ = adapter.match(path.split("?", 1)[0], method="POST")
        return str(endpoint)


@pytest.fixture
def night(app: Flask, client: FlaskClient) -> Night:
    load_example(app)
    client.get("/healthz")  # a first connection, as a running server has
    # The line's own TwiML says which routes follow a message: the <Record> action and
    # the <Redirect> Twilio takes after an empty recording.
    stranger = CallDriver(client, STRANGER).dial()
    verbs = list(stranger.root)
    record = next(i for i, v in enumerate(verbs) if v.tag == "Record")
    after = [verbs[record].get("action", ""), verbs[record + 1].text or ""]
    call = CallDriver(client, PAT)
    call.dial()
    call.press("1")
    call.leave_message()
    settle(app)
    with extensions.database(app).session() as session:
        pages = [(p.incident_id, p.page_key) for p in session.scalars(select(Page))]
    assert pages, "the emergency paged nobody: the fuzz would miss the page routes"
    night = Night(app, client, pages, set(), Spool(app.config["VOICELINE"].spool_dir))
    night.after_record = {night.endpoint_of(path_of(url)) for url in after}
    return night


def test_the_fuzz_covers_every_twilio_route_of_the_app(app: Flask) -> None:
    in_app = {r.endpoint: r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/twilio")}
    assert in_app == {endpoint: rule.rule for endpoint, rule in RULES.items()}
    assert len(in_app) >= 15


def _path(rule: Rule, night: Night, int_arg: int, text_arg: str, page: int | None) -> str:
    values: dict[str, object] = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        values[name] = int_arg if isinstance(converter, IntegerConverter) else text_arg
    if page is not None and {"incident_id", "page_key"} <= set(rule.arguments):
        values["incident_id"], values["page_key"] = night.pages[page % len(night.pages)]
    return str(night.app.url_map.bind("localhost").build(rule.endpoint, values))


def _ends_deliberately(endpoint: str, form: dict[str, str], night: Night) -> bool:
    if endpoint in night.after_record:
        return True  # the message is over: taken, or logged as a missed call
    return endpoint == "twilio.desk_result" and form.get("DialCallStatus") == "completed"


def _twiml(response: TestResponse, what: str) -> TwiML:
    assert response.status_code == 200, f"{what}: {response.status_code} {response.data[:300]!r}"
    assert response.mimetype == "text/xml", f"{what}: {response.mimetype}"
    try:
        return TwiML.parse(response.data)
    except ET.ParseError as exc:  # pragma: no cover - reported as the finding it is
        raise AssertionError(f"{what}: not XML ({exc}): {response.data[:300]!r}") from exc


def _reaches_record(night: Night, doc: TwiML, form: dict[str, str], hops: int) -> str | None:
    """Return how ``doc`` reaches a <Record> for a caller who presses nothing, or None."""
    for verb in doc.root:
        if verb.tag == "Record":
            return "Record"
        if verb.tag in ("Hangup", "Reject") or hops == 0:
            return None
        if verb.tag in ("Redirect", "Dial"):
            url = verb.text if verb.tag == "Redirect" else verb.get("action")
            if not url:
                return None
            params = {k: v for k, v in form.items() if k not in ("Digits", "DialCallStatus")}
            if verb.tag == "Dial":
                params["DialCallStatus"] = "no-answer"
            path = path_of(url)
            nxt = _twiml(post_signed(night.client, path, params), f"following {verb.tag} {path}")
            found = _reaches_record(night, nxt, params, hops - 1)
            return f"{verb.tag} {path} -> {found}" if found else None
        # Say, Play, Pause, and a Gather that got no digits: on to the next verb.
    return None


def _check_caller_twiml(
    endpoint: str, response: TestResponse, form: dict[str, str], night: Night
) -> None:
    doc = _twiml(response, endpoint)
    if _reaches_record(night, doc, form, MAX_HOPS):
        return
    assert _ends_deliberately(endpoint, form, night), (
        f"{endpoint} answered TwiML that never records: {ET.tostring(doc.root)[:600]!r}"
    )
    assert doc.verbs()[-1] == "Hangup", f"{endpoint}: {ET.tostring(doc.root)[:600]!r}"


# Findings, kept as explicit examples (each runs against every route). Twilio sends
# none of these values itself; anyone holding the auth token, a proxy that rewrites, or a
# future Twilio field can. The line's promise does not depend on who sent them.
CALL = {"CallSid": "CA" + "f" * 32, "From": "+15035550111"}
TOO_BIG = str(2**63)  # one past the largest integer SQLite and PostgreSQL store


@pytest.mark.parametrize("endpoint", sorted(RULES))
@fuzz_settings()
# '²'.isdigit() is True but int('²') raises: webhooks/voice.py _optional_int
@example(form=CALL, query={"incident": "²"}, int_arg=1, text_arg="x", page=None)
@example(form=CALL, query={"attempt": "²"}, int_arg=1, text_arg="x", page=None)
# the same test in webhooks/pages.py page_call's ?round=
@example(form=CALL, query={"round": "²"}, int_arg=1, text_arg="x", page=0)
# an incident number in the path no database column can hold
@example(form=CALL, query={}, int_arg=2**63, text_arg="x", page=None)
# an addendum to an incident number no column can hold
@example(
    form=CALL,
    query={"priority": "addendum", "incident": TOO_BIG},
    int_arg=1,
    text_arg="x",
    page=None,
)
# a recording length no column can hold
@example(
    form={
        **CALL,
        "RecordingSid": "RE" + "f" * 32,
        "RecordingStatus": "completed",
        "RecordingDuration": TOO_BIG,
    },
    query={"priority": "emergency"},
    int_arg=1,
    text_arg="x",
    page=None,
)
# a page's status with an error code, or a sequence number, no column can hold
@example(
    form={
        "MessageSid": "SM" + "f" * 32,
        "MessageStatus": "failed",
        "ErrorCode": TOO_BIG,
        "From": "+15035550202",
    },
    query={},
    int_arg=1,
    text_arg="x",
    page=0,
)
@example(
    form={
        "CallSid": "CA" + "e" * 32,
        "CallStatus": "no-answer",
        "SequenceNumber": TOO_BIG,
        "From": "+15035550202",
    },
    query={},
    int_arg=1,
    text_arg="x",
    page=1,
)
# text PostgreSQL cannot store: a NUL byte, and a CallSid longer than its column (64)
@example(
    form={**CALL, "From": "+15035550111\x00", "Body": "A"},
    query={},
    int_arg=1,
    text_arg="x",
    page=None,
)
@example(form={**CALL, "CallSid": "CA" + "f" * 63}, query={}, int_arg=1, text_arg="x", page=None)
@example(
    form={**CALL, "CallSid": "CA\x00", "CallStatus": "completed"},
    query={},
    int_arg=1,
    text_arg="x",
    page=None,
)
# an incident number past PostgreSQL's integer (2**31 - 1)
@example(form=CALL, query={}, int_arg=2**31, text_arg="x", page=None)
@given(
    form=twilio_form,
    query=twilio_query,
    int_arg=path_int,
    text_arg=path_text,
    page=st.none() | st.integers(0, 20),
)
def test_twilio_route_survives_fuzzing(
    endpoint: str,
    night: Night,
    form: dict[str, str],
    query: dict[str, str],
    int_arg: int,
    text_arg: str,
    page: int | None,
) -> None:
    COUNTS[endpoint] += 1
    rule = RULES[endpoint]
    path = _path(rule, night, int_arg, text_arg, page)
    if query:
        path += "?" + urlencode(query)
    spooled = set(night.spool.pending_files())
    with logged_errors() as errors, located(f"POST {path}"):
        response = post_signed(night.client, path, form)
        assert response.status_code < 500, f"POST {path}: {response.status_code}"
        if rule.rule.startswith(CALLER_PREFIX):
            _check_caller_twiml(endpoint, response, form, night)
        elif response.data and response.mimetype == "text/xml":
            _twiml(response, endpoint)
        settle(night.app)
    new = set(night.spool.pending_files()) - spooled
    for entry in new:
        entry.unlink()  # reported here; the app fixture's check would only repeat it
    assert not errors, f"POST {path} logged errors:\n" + "\n".join(errors)
    if endpoint == FALLBACK_URL:
        # Twilio's fallback URL answers without the database: spooling the call is its job.
        assert len(new) == 1, f"POST {path} spooled {len(new)} entries, not the call"
    else:
        assert not new, f"POST {path} fell back to the spool"
