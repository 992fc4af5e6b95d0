"""Texts to our number (the Messaging URL): a thin view over ``escalation.replies``.

The reply is worked out within the webhook deadline; if the database is away the
analyst is told to send it again rather than left without an answer.
"""

from __future__ import annotations

import logging

from flask import Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from escalation.replies import reply_to_sms
from escalation.sms_commands import parse_reply
from escalation.wiring import paging_for
from voiceline import twilio_forms as forms
from voiceline.urls import rule
from webhooks.blueprint import bp
from webhooks.deadline import within_deadline

log = logging.getLogger(__name__)

NOT_PROCESSED = (
    "Voiceline could not process your reply just now. Please send it again in a minute, "
    "or call the emergency line."
)


def _not_processed(body: str) -> str | None:
    """Return what to answer when a reply could not be acted on (nothing to STOP/START)."""
    # Twilio answers the carrier keywords itself and sends nothing more to a STOP.
    return None if parse_reply(body).kind in ("stop", "start") else NOT_PROCESSED


@bp.post(rule("twilio.incoming_sms"))
def incoming_sms() -> Response:
    """Act on an analyst's reply and answer with a short text, or with nothing."""
    paging = paging_for(current_app._get_current_object())  # type: ignore[attr-defined]
    sms = forms.sms_received(request.form)
    try:
        text = within_deadline(
            lambda: reply_to_sms(paging, sms),
            current_app._get_current_object(),  # type: ignore[attr-defined]
        )
    except TimeoutError:
        log.error("reply %s missed its deadline; asked to send it again", sms.sid)
        text = _not_processed(sms.body)
    except Exception:
        log.exception("reply %s failed; asked to send it again", sms.sid)
        text = _not_processed(sms.body)
    response = MessagingResponse()
    if text:
        response.message(text)
    return Response(str(response), mimetype="text/xml")
