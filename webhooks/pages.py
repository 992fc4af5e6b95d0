"""Voice pages and page status callbacks: thin views over ``escalation``.

Every URL carries the incident and the page key, put there when the page was sent::

    POST /twilio/page/<incident>/<key>               the answered page call's TwiML
    POST /twilio/page/<incident>/<key>/keys          the key the analyst pressed
    POST /twilio/page/<incident>/<key>/amd           the answering-machine result
    POST /twilio/page/<incident>/<key>/bridge        the end of the bridge to the caller
    POST /twilio/status/page/<incident>/<key>        SMS and call status callbacks
    POST /twilio/status/bridge/<incident>/<key>      the bridge's dialled leg (the callback)
    POST /twilio/test-page, /twilio/status/test-page  a test call from the admin page
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from escalation import callbacks, voice_pages
from escalation.wiring import paging_for, voice_setup_for
from voiceline import twilio_forms as forms
from webhooks import bp

log = logging.getLogger(__name__)


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def _voice(build: Callable[[], VoiceResponse]) -> Response:
    """Return the page's TwiML; if it cannot be built, still tell the analyst something."""
    try:
        return _twiml(build())
    except Exception:
        log.exception("voice page %s failed", request.path)
        response = VoiceResponse()
        response.say(
            "This is Voiceline with an emergency page, but its details cannot be loaded "
            "right now. Please check your text messages, or call the emergency line. Goodbye."
        )
        response.hangup()
        return _twiml(response)


@bp.post("/page/<int:incident_id>/<page_key>")
def page_call(incident_id: int, page_key: str) -> Response:
    """Read the incident to whoever answered a page call (a machine gets a short message)."""
    app = _app()
    rounds = forms.whole_number(request.args.get("round")) or 1
    answer = forms.page_answered(request.form)
    return _voice(
        lambda: voice_pages.answered(
            paging_for(app), voice_setup_for(app), incident_id, page_key, answer, rounds
        )
    )


@bp.post("/page/<int:incident_id>/<page_key>/keys")
def page_keys(incident_id: int, page_key: str) -> Response:
    """Act on 1 (ack), 2 (ack and connect), 3 (escalate) or * (repeat)."""
    app = _app()
    pressed = forms.key_pressed(request.form)
    return _voice(
        lambda: voice_pages.key_pressed(
            paging_for(app), voice_setup_for(app), incident_id, page_key, pressed
        )
    )


@bp.post("/page/<int:incident_id>/<page_key>/bridge")
def page_bridge(incident_id: int, page_key: str) -> Response:
    """The bridge to the caller ended (or never connected)."""
    app = _app()
    try:
        return _twiml(
            voice_pages.bridge_finished(
                paging_for(app), incident_id, page_key, forms.dial_ended(request.form)
            )
        )
    except Exception:
        # The bridge is over either way; end the analyst's call cleanly, not with
        # Twilio's application error. The callback itself is kept by the bridge status.
        log.exception("bridge end for incident %s failed", incident_id)
        response = VoiceResponse()
        response.hangup()
        return _twiml(response)


@bp.post("/page/<int:incident_id>/<page_key>/amd")
def page_amd(incident_id: int, page_key: str) -> Response:
    """Twilio's answering-machine detection finished."""
    callbacks.amd_result(
        paging_for(_app()), incident_id, page_key, forms.page_answered(request.form)
    )
    return Response(status=204)


@bp.post("/status/page/<int:incident_id>/<page_key>")
def page_status(incident_id: int, page_key: str) -> Response:
    """An SMS or call page changed status."""
    callbacks.page_status(
        paging_for(_app()), incident_id, page_key, forms.page_status(request.form)
    )
    return Response(status=204)


@bp.post("/status/bridge/<int:incident_id>/<page_key>")
def bridge_status(incident_id: int, page_key: str) -> Response:
    """The caller answered (or left) the bridge: the answer is the SLA callback."""
    voice_pages.bridge_status(
        paging_for(_app()), incident_id, page_key, forms.call_progress(request.form)
    )
    return Response(status=204)


@bp.post("/test-page")
def test_page_call() -> Response:
    """The TwiML of a test call an admin sent to an analyst."""
    response = VoiceResponse()
    response.say("This is a Voiceline test page. Voice pages reach this phone. Goodbye.")
    response.hangup()
    return _twiml(response)


@bp.post("/status/test-page")
def test_page_status() -> Response:
    """A test call's status; nothing depends on it."""
    return Response(status=204)
