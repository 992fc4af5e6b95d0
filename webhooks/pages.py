"""Voice pages and page status callbacks: thin views over ``escalation``.

Every URL carries the incident and the page key, put there when the page was sent::

    POST /twilio/page/<incident>/<key>               the answered page call's TwiML
    POST /twilio/page/<incident>/<key>/keys          the key the analyst pressed
    POST /twilio/page/<incident>/<key>/amd           the answering-machine result
    POST /twilio/page/<incident>/<key>/bridge        the end of the bridge to the caller
    POST /twilio/page/<incident>/<key>/bundle-bridge the end of one bridge of a bundled
                                                     page's key 2 (``?after=`` its incident)
    POST /twilio/status/page/<incident>/<key>        SMS and call status callbacks
    POST /twilio/status/bridge/<incident>/<key>      the bridge's dialled leg (the callback)
    POST /twilio/test-page, /twilio/status/test-page  a test call from the admin page

An analyst being paged gets the caller's guarantee: each view answers within the same
deadline (``webhooks.deadline``). A page call that cannot be read out in time says so and
offers to try again; a status report that cannot be stored in time is kept in the spool
(``escalation.page_reports``) and replayed once the database answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from escalation import callbacks, voice_bundles, voice_pages
from escalation.page_reports import keep_report
from escalation.wiring import paging_for, voice_setup_for
from voiceline import extensions
from voiceline import twilio_forms as forms
from voiceline.urls import rule
from webhooks.blueprint import bp
from webhooks.deadline import page_spool_of, within_deadline

log = logging.getLogger(__name__)

UNAVAILABLE = (
    "This is Voiceline with an emergency page, but its details cannot be loaded right now."
)
NOT_CONFIRMED = "Voiceline could not confirm your choice right now."
RETRY = "To try again, press any key."
BRIDGE_FAILED = (
    "Voiceline could not connect the next caller right now. The incidents are yours: "
    "please call the callers back from your texts or the incident list. Goodbye."
)
GIVE_UP = "Please check your text messages, or call the emergency line. Goodbye."


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def _round() -> int:
    """Return how often this page has been read out (our own ``round`` query value)."""
    return forms.whole_number(request.args.get("round")) or 1


def unavailable_twiml(incident_id: int, page_key: str, rounds: int, lead: str) -> VoiceResponse:
    """Say the page cannot be handled now; offer to try again while rounds are left."""
    response = VoiceResponse()
    if rounds < voice_pages.MAX_ROUNDS:
        again = extensions.services().callback_url(  # type: ignore[attr-defined]
            "twilio.page_call", incident_id=incident_id, page_key=page_key, round=rounds + 1
        )
        gather = response.gather(
            num_digits=1, timeout=voice_pages.GATHER_SECONDS, action=again, method="POST"
        )
        gather.say(f"{lead} {RETRY}")
        response.say(GIVE_UP)
    else:
        response.say(f"{lead} {GIVE_UP}")
    response.hangup()
    return response


def _voice(build: Callable[[], VoiceResponse], fallback: Callable[[], VoiceResponse]) -> Response:
    """Return the page's TwiML if it is ready within the deadline, else ``fallback``'s."""
    try:
        return _twiml(within_deadline(build, _app()))
    except TimeoutError:
        log.error("voice page %s missed its deadline; the analyst gets the fallback", request.path)
    except Exception:
        log.exception("voice page %s failed; the analyst gets the fallback", request.path)
    return _twiml(fallback())


def _report(kind: str, incident_id: int, page_key: str, apply: Callable[[], None]) -> Response:
    """Apply a status report within the deadline; otherwise keep it for replay."""
    app = _app()
    try:
        within_deadline(apply, app)
        return Response(status=204)
    except TimeoutError:
        log.error("%s missed its deadline; the report is kept for replay", request.path)
    except Exception:
        log.exception("%s failed; the report is kept for replay", request.path)
    now = extensions.clock(app).now()
    keep_report(page_spool_of(app), kind, incident_id, page_key, request.form, now)
    return Response(status=204)


@bp.post(rule("twilio.page_call"))
def page_call(incident_id: int, page_key: str) -> Response:
    """Read the incident to whoever answered a page call (a machine gets a short message)."""
    app = _app()
    rounds = _round()
    answer = forms.page_answered(request.form)
    return _voice(
        lambda: voice_pages.answered(
            paging_for(app), voice_setup_for(app), incident_id, page_key, answer, rounds
        ),
        lambda: unavailable_twiml(incident_id, page_key, rounds, UNAVAILABLE),
    )


@bp.post(rule("twilio.page_keys"))
def page_keys(incident_id: int, page_key: str) -> Response:
    """Act on 1 (ack), 2 (ack and connect), 3 (escalate) or * (repeat)."""
    app = _app()
    pressed = forms.key_pressed(request.form)
    return _voice(
        lambda: voice_pages.key_pressed(
            paging_for(app), voice_setup_for(app), incident_id, page_key, pressed
        ),
        lambda: unavailable_twiml(incident_id, page_key, 1, NOT_CONFIRMED),
    )


def _hang_up() -> VoiceResponse:
    # The bridge is over either way; end the analyst's call cleanly, not with Twilio's
    # application error. The callback itself is kept by the bridge status.
    response = VoiceResponse()
    response.hangup()
    return response


@bp.post(rule("twilio.page_bridge"))
def page_bridge(incident_id: int, page_key: str) -> Response:
    """The bridge to the caller ended (or never connected)."""
    app = _app()
    ended = forms.dial_ended(request.form)
    return _voice(
        lambda: voice_pages.bridge_finished(paging_for(app), incident_id, page_key, ended),
        _hang_up,
    )


def _bundle_bridge_failed() -> VoiceResponse:
    # The analyst has the incidents (key 2 acknowledged them first): say so, end cleanly.
    response = VoiceResponse()
    response.say(BRIDGE_FAILED)
    response.hangup()
    return response


@bp.post(rule("twilio.page_bundle_bridge"))
def page_bundle_bridge(incident_id: int, page_key: str) -> Response:
    """One bridge of a bundled page's key 2 ended: connect the next caller."""
    app = _app()
    ended = forms.dial_ended(request.form)
    after = forms.whole_number(request.args.get("after")) or 0
    return _voice(
        lambda: voice_bundles.bridge_ended(
            paging_for(app), voice_setup_for(app), incident_id, page_key, after, ended
        ),
        _bundle_bridge_failed,
    )


@bp.post(rule("twilio.page_amd"))
def page_amd(incident_id: int, page_key: str) -> Response:
    """Twilio's answering-machine detection finished."""
    paging = paging_for(_app())
    answered = forms.page_answered(request.form)
    return _report(
        "page_amd",
        incident_id,
        page_key,
        lambda: callbacks.amd_result(paging, incident_id, page_key, answered),
    )


@bp.post(rule("twilio.page_status"))
def page_status(incident_id: int, page_key: str) -> Response:
    """An SMS or call page changed status."""
    paging = paging_for(_app())
    report = forms.page_status(request.form)
    return _report(
        "page_status",
        incident_id,
        page_key,
        lambda: callbacks.page_status(paging, incident_id, page_key, report),
    )


@bp.post(rule("twilio.bridge_status"))
def bridge_status(incident_id: int, page_key: str) -> Response:
    """The caller answered (or left) the bridge: the answer is the SLA callback."""
    paging = paging_for(_app())
    progress = forms.call_progress(request.form)
    return _report(
        "bridge_status",
        incident_id,
        page_key,
        lambda: voice_pages.bridge_status(paging, incident_id, page_key, progress),
    )


@bp.post(rule("twilio.test_page_call"))
def test_page_call() -> Response:
    """The TwiML of a test call an admin sent to an analyst."""
    response = VoiceResponse()
    response.say("This is a Voiceline test page. Voice pages reach this phone. Goodbye.")
    response.hangup()
    return _twiml(response)


@bp.post(rule("twilio.test_page_status"))
def test_page_status() -> Response:
    """A test call's status; nothing depends on it."""
    return Response(status=204)
