"""Twilio's error codes, one table for every caller, whichever form Twilio answers in.

Twilio reports a failure as a REST error (legacy ``{code, message, status}`` body, raised
by twilio-python as ``TwilioRestException``; or an RFC 9457 problem-details body, raised
as ``TwilioServiceException``) or later as a status callback's ``ErrorCode``. The same
code must mean the same thing on every path.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.wrappers import Response

from escalation.due import run_due
from escalation.failures import is_temporary_failure
from escalation.wiring import paging_for
from simulator.rest import FakeTwilioApi
from tests.conftest import LINE_NUMBER, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, post_signed
from tests.escalation_helpers import (
    SAM,
    desk,
    emergency,
    kinds,
    load_example,
    load_text,
    notices,
    pages,
    quiet,
    sent,
    state,
)
from voiceline.clock import ManualClock
from voiceline.telephony import OutboundCall, TelephonyError, TwilioTelephony
from voiceline.twilio_errors import CODES, OPTED_OUT_CODE, Failure, classify, meaning_of

# What Twilio's error dictionary says each code calls for: True when trying again on
# the same channel can work. Each of these was classified differently by two tables
# (or not at all) before there was one.
DOCUMENTED = [
    pytest.param(20003, False, id="20003 permission denied: credentials or account"),
    pytest.param(21211, False, id="21211 invalid To number"),
    pytest.param(21610, False, id="21610 the recipient texted STOP"),
    pytest.param(30003, True, id="30003 handset switched off or out of signal"),
    pytest.param(30032, False, id="30032 toll-free number not verified"),
    pytest.param(30034, False, id="30034 unregistered A2P 10DLC number"),
    pytest.param(21401, False, id="21401 sender is not an SMS-enabled number of ours"),
    pytest.param(30002, False, id="30002 account suspended"),
    pytest.param(30004, False, id="30004 message blocked"),
    pytest.param(30005, False, id="30005 unknown destination handset"),
    pytest.param(30006, False, id="30006 landline or unreachable carrier"),
    pytest.param(30007, False, id="30007 message filtered"),
    pytest.param(30008, True, id="30008 unknown error"),
    pytest.param(30017, True, id="30017 carrier network congestion"),
    pytest.param(13223, False, id="13223 dial: invalid number format"),
    pytest.param(13224, False, id="13224 dial: invalid number"),
    pytest.param(13225, False, id="13225 dial: forbidden number"),
    pytest.param(13226, False, id="13226 dial: invalid country code"),
    pytest.param(13227, False, id="13227 dial: no international authorization"),
]
# The same codes, with what exactly each calls for.
DOCUMENTED_FAILURES = {
    20003: Failure.PERMANENT_ACCOUNT,
    21211: Failure.PERMANENT_NUMBER,
    21610: Failure.OPTED_OUT,
    30003: Failure.TEMPORARY,
    30032: Failure.PERMANENT_ACCOUNT,
    30034: Failure.PERMANENT_ACCOUNT,
    21401: Failure.PERMANENT_ACCOUNT,
    30002: Failure.PERMANENT_ACCOUNT,
    30004: Failure.PERMANENT_NUMBER,
    30005: Failure.PERMANENT_NUMBER,
    30006: Failure.PERMANENT_NUMBER,
    30007: Failure.PERMANENT_ACCOUNT,
    30008: Failure.TEMPORARY,
    30017: Failure.TEMPORARY,
    13223: Failure.PERMANENT_NUMBER,
    13224: Failure.PERMANENT_NUMBER,
    13225: Failure.PERMANENT_NUMBER,
    13226: Failure.PERMANENT_NUMBER,
    13227: Failure.PERMANENT_ACCOUNT,
}


@dataclass
class _Problem:
    """A scripted RFC 9457 answer to the next requests of a collection to one number."""

    collection: str
    to: str
    status: int
    code: int
    title: str
    times: int
    as_text: bool


class ProblemDetailsApi(FakeTwilioApi):
    """The fake Twilio API, able to answer in RFC 9457 problem details as newer APIs do."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._problems: list[_Problem] = []
        self._problem_lock = threading.Lock()
        #: (collection, To) of every request answered with problem details.
        self.problems_sent: list[tuple[str, str]] = []

    def problem_next(
        self,
        collection: str,
        *,
        to: str,
        status: int,
        code: int,
        title: str,
        times: int = 1,
        as_text: bool = False,
    ) -> None:
        """Answer the next ``times`` POSTs to ``collection`` for ``to`` with a problem."""
        with self._problem_lock:
            self._problems.append(_Problem(collection, to, status, code, title, times, as_text))

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # the fake API reads the form again
        problem = self._take_problem(environ["REQUEST_METHOD"], environ["PATH_INFO"], body)
        if problem is None:
            return super().wsgi(environ, start_response)
        document = {
            "type": f"https://www.twilio.com/docs/api/errors/{problem.code}",
            "title": problem.title,
            "status": str(problem.status) if problem.as_text else problem.status,
            "code": str(problem.code) if problem.as_text else problem.code,
            "detail": f"{problem.title} ({problem.to})",
            "instance": environ["PATH_INFO"],
        }
        response = Response(
            json.dumps(document), status=problem.status, content_type="application/problem+json"
        )
        return response(environ, start_response)

    def _take_problem(self, method: str, path: str, body: bytes) -> _Problem | None:
        if method != "POST":
            return None
        to = parse_qs(body.decode()).get("To", [""])[0]
        with self._problem_lock:
            for problem in self._problems:
                if path.endswith("/" + problem.collection) and problem.to == to:
                    problem.times -= 1
                    if problem.times == 0:
                        self._problems.remove(problem)
                    self.problems_sent.append((problem.collection, to))
                    return problem
        return None


@pytest.fixture
def twilio_api() -> Iterator[ProblemDetailsApi]:
    """Run the fake Twilio API (both error forms) on loopback for this test."""
    api = ProblemDetailsApi(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN)
    with api:
        yield api


@pytest.fixture
def telephony(twilio_api: ProblemDetailsApi) -> TwilioTelephony:
    return TwilioTelephony(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, twilio_api.base_url, LINE_NUMBER)


# -- the table -----------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(DOCUMENTED_FAILURES))
def test_each_disputed_code_calls_for_what_twilio_documents(code: int) -> None:
    assert classify(None, code) is DOCUMENTED_FAILURES[code]
    assert meaning_of(code)


def test_every_listed_code_has_a_meaning_and_a_known_failure() -> None:
    assert len(CODES) >= 30
    for code, entry in CODES.items():
        assert entry.code == code and 10000 <= code <= 99999
        assert entry.meaning.strip() and entry.meaning == meaning_of(code)
        assert isinstance(entry.failure, Failure)


def test_stop_is_its_own_failure() -> None:
    assert classify(400, OPTED_OUT_CODE) is Failure.OPTED_OUT
    assert not Failure.OPTED_OUT.is_temporary
    assert [c for c, e in CODES.items() if e.failure is Failure.OPTED_OUT] == [OPTED_OUT_CODE]


@pytest.mark.parametrize(
    ("http_status", "failure"),
    [
        pytest.param(None, Failure.TEMPORARY, id="no answer at all"),
        pytest.param(429, Failure.TEMPORARY, id="429"),
        pytest.param(500, Failure.TEMPORARY, id="500"),
        pytest.param(503, Failure.TEMPORARY, id="503"),
        pytest.param(401, Failure.PERMANENT_ACCOUNT, id="401"),
        pytest.param(403, Failure.PERMANENT_ACCOUNT, id="403"),
        pytest.param(400, Failure.PERMANENT_REQUEST, id="400"),
        pytest.param(404, Failure.PERMANENT_REQUEST, id="404"),
    ],
)
def test_an_unlisted_code_is_read_from_the_http_status(
    http_status: int | None, failure: Failure
) -> None:
    assert classify(http_status, None) is failure
    assert classify(http_status, 99999) is failure
    assert meaning_of(99999) is None and meaning_of(None) is None


def test_a_listed_code_wins_over_the_http_status() -> None:
    assert classify(500, 21211) is Failure.PERMANENT_NUMBER
    assert classify(400, 20429) is Failure.TEMPORARY


# -- every caller reads a code the same way ---------------------------------------------


def test_the_adapter_and_paging_agree_on_every_listed_code(
    telephony: TwilioTelephony, twilio_api: ProblemDetailsApi
) -> None:
    for code, entry in CODES.items():
        twilio_api.fail_next("sms", status=400, code=code)
        with pytest.raises(TelephonyError) as caught:
            telephony.send_sms("+15035550201", "x")
        assert caught.value.is_temporary is entry.failure.is_temporary, code
        assert is_temporary_failure(400, code) is entry.failure.is_temporary, code
        assert is_temporary_failure(None, code) is entry.failure.is_temporary, code
        assert f"Twilio error {code} ({entry.meaning})" in str(caught.value)


@pytest.mark.parametrize(("code", "temporary"), DOCUMENTED)
def test_a_rest_error_is_classified_as_twilio_documents_it(
    telephony: TwilioTelephony, twilio_api: ProblemDetailsApi, code: int, temporary: bool
) -> None:
    twilio_api.fail_next("sms", status=400, code=code)
    with pytest.raises(TelephonyError) as caught:
        telephony.send_sms("+15035550201", "x")
    assert (caught.value.code, caught.value.status) == (code, 400)
    assert caught.value.is_temporary is temporary


@pytest.mark.parametrize(("code", "temporary"), DOCUMENTED)
def test_a_status_callback_error_code_is_classified_as_twilio_documents_it(
    code: int, temporary: bool
) -> None:
    assert is_temporary_failure(None, code) is temporary
    assert is_temporary_failure(400, code) is temporary


# -- RFC 9457 problem details keep their code and status ------------------------------


@pytest.mark.parametrize(
    ("status", "code", "temporary"),
    [
        pytest.param(400, 21211, False, id="invalid To"),
        pytest.param(400, 21610, False, id="opted out"),
        pytest.param(401, 20003, False, id="bad credentials"),
        pytest.param(429, 20429, True, id="rate limited"),
        pytest.param(503, 20503, True, id="service unavailable"),
    ],
)
@pytest.mark.parametrize("as_text", [False, True], ids=["numbers", "numbers as text"])
def test_a_problem_details_sms_error_keeps_code_and_status(
    telephony: TwilioTelephony,
    twilio_api: ProblemDetailsApi,
    status: int,
    code: int,
    temporary: bool,
    as_text: bool,
) -> None:
    to = "+15035550201"
    twilio_api.problem_next(
        "Messages.json", to=to, status=status, code=code, title="No", as_text=as_text
    )
    with pytest.raises(TelephonyError) as caught:
        telephony.send_sms(to, "x")
    assert (caught.value.code, caught.value.status) == (code, status)
    assert caught.value.is_temporary is temporary
    assert twilio_api.problems_sent == [("Messages.json", to)]


def test_a_problem_details_call_error_keeps_code_and_status(
    telephony: TwilioTelephony, twilio_api: ProblemDetailsApi
) -> None:
    to = "+15035550201"
    twilio_api.problem_next(
        "Calls.json", to=to, status=400, code=21217, title="Phone number does not appear valid"
    )
    with pytest.raises(TelephonyError) as caught:
        telephony.place_call(
            OutboundCall(to=to, url="https://x.test/page", status_callback="https://x.test/s")
        )
    assert (caught.value.code, caught.value.status) == (21217, 400)
    assert not caught.value.is_temporary
    assert "21217" in str(caught.value)


# -- what paging does with them -------------------------------------------------------


def test_a_problem_details_21211_falls_back_to_voice_without_retrying(
    app: Flask, client: FlaskClient, twilio_api: ProblemDetailsApi, clock: ManualClock
) -> None:
    load_text(app, desk("      - {targets: [{on_call: tier1}], channels: sms, delay: 5m}"))
    twilio_api.problem_next(
        "Messages.json", to=SAM, status=400, code=21211, title="Invalid 'To' Phone Number"
    )
    emergency(client, app)
    assert len(sent(twilio_api, "call", SAM)) == 1
    row = pages(app)["0.0.sam.sms.1"]
    assert row.error_code == 21211 and row.status == "error"
    log = kinds(app)
    assert "fallback" in log and "page_retry" not in log
    clock.advance(timedelta(minutes=1))  # past every retry backoff
    run_due(paging_for(app))
    assert twilio_api.problems_sent == [("Messages.json", SAM)]
    assert sent(twilio_api, "sms", SAM) == []


def test_a_problem_details_21610_is_recorded_as_an_opt_out(
    app: Flask, client: FlaskClient, twilio_api: ProblemDetailsApi, clock: ManualClock
) -> None:
    load_example(app)
    twilio_api.problem_next(
        "Messages.json", to=SAM, status=400, code=21610, title="Unsubscribed recipient"
    )
    emergency(client, app)
    assert "sam" in state(app).sms_stopped
    assert any("opted out of SMS" in n for n in notices(app))
    assert pages(app)["0.0.sam.sms.1"].error_code == 21610
    assert "page_retry" not in kinds(app)
    assert len(sent(twilio_api, "call", SAM)) == 1
    clock.advance(timedelta(minutes=1))
    run_due(paging_for(app))
    assert twilio_api.problems_sent == [("Messages.json", SAM)]


@pytest.mark.parametrize("code", [30032, 30034])
def test_an_unregistered_sender_reported_by_callback_calls_at_once_and_never_texts_again(
    app: Flask, client: FlaskClient, twilio_api: ProblemDetailsApi, clock: ManualClock, code: int
) -> None:
    load_text(app, desk("      - {targets: [{on_call: tier1}], channels: sms, delay: 5m}"))
    emergency(client, app)
    due = state(app).step_due_at
    sid = pages(app)["0.0.sam.sms.1"].provider_sid or ""
    clock.advance(timedelta(seconds=3))  # the carrier refuses it a few seconds later
    failed = {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": str(code), "To": SAM}
    response = post_signed(client, "/twilio/status/page/1/0.0.sam.sms.1", failed)
    assert response.status_code == 204
    quiet(app)
    [call] = sent(twilio_api, "call", SAM)  # at once, on the other channel
    assert (call.get("StatusCallback") or "").endswith("/0.0.sam.voice.1")
    assert state(app).step_due_at == due  # the step's timer runs on
    assert pages(app)["0.0.sam.sms.1"].error_code == code
    assert "page_retry" not in kinds(app)
    clock.advance(timedelta(minutes=1))  # past every retry backoff, inside the step
    run_due(paging_for(app))
    quiet(app)
    assert len(sent(twilio_api, "sms", SAM)) == 1  # a sender carriers block is not retried
    [alarm] = [n for n in notices(app) if f"error {code}" in n]
    assert meaning_of(code) in alarm and "check the account" in alarm
