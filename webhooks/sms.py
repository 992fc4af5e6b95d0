"""Texts to our number (the Messaging URL): a thin view over ``escalation.replies``."""

from __future__ import annotations

from flask import Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from escalation.replies import reply_to_sms
from escalation.wiring import paging_for
from voiceline import twilio_forms as forms
from webhooks import bp


@bp.post("/sms")
def incoming_sms() -> Response:
    """Act on an analyst's reply and answer with a short text, or with nothing."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    text = reply_to_sms(paging_for(app), forms.sms_received(request.form))
    response = MessagingResponse()
    if text:
        response.message(text)
    return Response(str(response), mimetype="text/xml")
