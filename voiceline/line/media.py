"""Recordings served through an authenticated URL of ours.

Twilio media may require the account credentials ("Enforce HTTP Auth on Media URLs"),
so neither admins' browsers nor voice pages fetch Twilio directly: they get a link
to /media/recordings/<id> carrying a signed, expiring token, and this app fetches the
audio with the credentials through the telephony adapter.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, abort, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from voiceline import extensions
from voiceline.db import request_session
from voiceline.incidents.models import Recording
from voiceline.telephony import TelephonyError
from voiceline.urls import public_url, rule

log = logging.getLogger(__name__)
bp = Blueprint("media", __name__, url_prefix="/media")

TOKEN_MAX_AGE_SECONDS = 7 * 24 * 3600


def _serializer(app: Flask) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="voiceline.recording")


def recording_url(app: Flask, recording_id: int) -> str:
    """Return a public, signed, expiring URL for a recording's audio."""
    token = _serializer(app).dumps(recording_id)
    return public_url("media.recording", app, recording_id=recording_id, token=token)


@bp.get(rule("media.recording"))
def recording(recording_id: int) -> Response:
    """Stream a recording to whoever holds a valid token for it."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        signed_id = _serializer(app).loads(
            request.args.get("token", ""), max_age=TOKEN_MAX_AGE_SECONDS
        )
    except BadSignature:
        abort(403)
    if signed_id != recording_id:
        abort(403)
    row = request_session().get(Recording, recording_id)
    if row is None or not row.url:
        abort(404)
    try:
        audio, content_type = extensions.telephony(app).fetch_recording(row.url)
    except TelephonyError as exc:
        log.warning("could not fetch recording %s: %s", recording_id, exc)
        abort(502)
    response = Response(audio, mimetype=content_type)
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
