"""The ``twilio`` blueprint: every route under /twilio/ is signed by Twilio, or refused."""

from __future__ import annotations

from flask import Blueprint

from voiceline.urls import CONVERTERS
from webhooks.security import require_twilio_signature

bp = Blueprint("twilio", __name__, url_prefix="/twilio")
# The routes name their ids with our converters: install them before the first rule.
bp.record_once(lambda state: state.app.url_map.converters.update(CONVERTERS))
bp.before_request(require_twilio_signature)
