"""The baseline: a bare Flask app that answers ``POST /twilio/voice`` with constant TwiML.

Served by the same gunicorn settings as the product, it shows what the machine, gunicorn
and Flask cost on their own, so the webhook figures read as a share of that.
"""

from __future__ import annotations

from flask import Flask, Response

TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Thank you for calling.</Say>'
    '<Gather action="https://example.test/menu" numDigits="1"><Say>Press 1.</Say></Gather>'
    "</Response>"
)

app = Flask(__name__)


@app.post("/twilio/voice")
def voice() -> Response:
    """Answer every call with the same TwiML."""
    return Response(TWIML, mimetype="text/xml")


@app.get("/healthz")
def healthz() -> str:
    """Say the app is up."""
    return "ok"
