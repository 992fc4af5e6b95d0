"""The rota pages under /admin: rotations, members, overrides, analysts and calendar feeds."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("oncall", __name__, url_prefix="/admin", template_folder="../templates")

# The views register themselves on ``bp``; import them for that side effect.
from oncall.views import analysts as _analysts  # noqa: E402,F401
from oncall.views import rotations as _rotations  # noqa: E402,F401
