"""Inbound calls to the emergency line."""

from __future__ import annotations

from flask import Response
from twilio.twiml.voice_response import VoiceResponse

from webhooks import bp


def twiml(response: VoiceResponse) -> Response:
    """Return TwiML with the right content type."""
    return Response(str(response), mimetype="text/xml")


@bp.post("/voice")
def incoming_call() -> Response:
    """Answer a call to the emergency line."""
    response = VoiceResponse()
    response.say("Please leave your message after the tone.")
    response.record(max_length=300)
    return twiml(response)
