"""The rota pages under /admin: rotations, members, overrides, analysts and calendar feeds.

Importing the package registers every view on ``bp``.
"""

from __future__ import annotations

from oncall.views import analysts, rotations  # noqa: F401  (registers routes on bp)
from oncall.views.blueprint import bp

__all__ = ["bp"]
