"""A stand-in line for the handset page's tests: every call state a phone can be in.

The menu takes one key: 1 records a message, 2 dials the analyst (who may answer and talk
to the caller), 3 asks for the caller's name by speech. Texts are echoed back.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

LINE = "+15035550100"
ANALYST = "+15035550201"  # Alex Rivera in examples/demo.yaml
CUSTOMER = "+15035550111"  # Pat Jones (Acme Dental)
MENU = "Press 1 to leave a message, 2 to reach the analyst, 3 to say your name."


def line_app() -> Flask:
    """Return the stand-in line's WSGI app."""
    app = Flask("handset_test_line")

    @app.post("/twilio/voice")
    def voice() -> Any:
        reply = VoiceResponse()
        reply.gather(num_digits=1, action="/menu").say(MENU)
        return str(reply)

    @app.post("/menu")
    def menu() -> Any:
        reply = VoiceResponse()
        choice = request.form.get("Digits")
        if choice == "1":
            reply.say("Leave your message after the tone.")
            reply.record(action="/thanks")
        elif choice == "2":
            reply.dial(ANALYST, timeout=20, caller_id=LINE)
        else:
            reply.gather(input="speech", action="/thanks").say("Say your name.")
        return str(reply)

    @app.post("/thanks")
    def thanks() -> Any:
        reply = VoiceResponse()
        reply.say("Thank you. Goodbye.")
        return str(reply)

    @app.post("/twilio/sms")
    def sms() -> Any:
        reply = MessagingResponse()
        reply.message(f"You said {request.form['Body']}")
        return str(reply)

    return app
