"""Health check for load balancers and the PaaS router."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from voiceline import extensions

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Report whether the database answers."""
    if extensions.database().ping():
        return jsonify(status="ok", database="ok")
    return jsonify(status="degraded", database="unreachable"), 503
