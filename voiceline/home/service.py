"""The service's own zone and currency, for every admin page that has no customer.

An incident or an SLA clock is written in its customer's zone; what belongs to the
service as a whole (the audit log, alarms, admin logins, parked messages) in the
service's ``time_zone`` from the directory, and money in its ``currency``. The admin
shell cannot read the directory (it sits below it), so the home area, above every area,
offers both to every template: ``{{ at | time_tag(service_zone()) }}``,
``{{ amount | money(service_currency()) }}``. Each is read once per request, when a
page first asks.
"""

from __future__ import annotations

from typing import Any

from flask import g

from voiceline.admin.formatting import DEFAULT_CURRENCY, zone_of
from voiceline.customers.services import service_settings
from voiceline.db import request_session
from voiceline.home.views import bp

DEFAULT_ZONE = "UTC"


def _settings() -> dict[str, Any]:
    if "voiceline_service" not in g:
        g.voiceline_service = service_settings(request_session())
    found: dict[str, Any] = g.voiceline_service
    return found


def service_zone() -> str:
    """Return the service's time zone (an IANA name); UTC when the directory sets none."""
    name = _settings().get("time_zone")
    if not isinstance(name, str) or not name:
        return DEFAULT_ZONE
    zone_of(name)  # the directory checked it; a stored name no zone database knows fails loud
    return name


def service_currency() -> str:
    """Return the currency the service's money is written in (USD unless set)."""
    code = _settings().get("currency")
    return code.strip().upper() if isinstance(code, str) and code.strip() else DEFAULT_CURRENCY


@bp.app_context_processor
def _service_context() -> dict[str, object]:
    return {"service_zone": service_zone, "service_currency": service_currency}
