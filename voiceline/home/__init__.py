"""The admin home at ``/admin/``: what needs attention now, kept current in the open page.

It reads every area (incidents, paging, SLA clocks, rotas, alarms), so it sits beside
the app factory, above them all.
"""

from __future__ import annotations

from voiceline.home import service  # noqa: F401  (offers the service's zone and currency)
from voiceline.home.views import bp

__all__ = ["bp"]
