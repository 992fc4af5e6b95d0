"""The ``oncall`` blueprint: the rota pages under /admin, with their templates."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("oncall", __name__, url_prefix="/admin", template_folder="../templates")
