"""The Twilio HTTP surface: thin views that check the signature, parse, and call a service.

Every route under /twilio/ is signed by Twilio; unsigned or forged requests get 403.
"""

from __future__ import annotations

from flask import Blueprint

from webhooks.security import require_twilio_signature

bp = Blueprint("twilio", __name__, url_prefix="/twilio")
bp.before_request(require_twilio_signature)

from webhooks import pages, sms, voice  # noqa: E402,F401  (registers routes on bp)
