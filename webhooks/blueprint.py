"""The ``twilio`` blueprint: every route under /twilio/ is signed by Twilio, or refused."""

from __future__ import annotations

from flask import Blueprint

from webhooks.security import require_twilio_signature

bp = Blueprint("twilio", __name__, url_prefix="/twilio")
bp.before_request(require_twilio_signature)
