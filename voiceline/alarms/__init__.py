"""Alarms: when nobody can be paged, a person hears of it by another route.

Every place paging gives up raises an alarm (``raise_alarm``). An alarm is

- an admin notice (``AdminNotice``), listed at ``/admin/alarms`` until an admin marks it
  dealt with (incident alarms also end when someone acknowledges or the incident
  closes; Twilio alarms when a page is accepted again);
- an email to ``VOICELINE_ALARM_EMAIL`` through ``SMTP_URL``, sent after the commit
  from a background thread (``voiceline.alarms.mail``);
- ``/healthz`` answering 200 ``{"status": "degraded", "reasons": [...]}`` while any is
  unresolved (``health_reasons``), so a monitor can match it and load balancers keep
  sending calls.

``install(services)`` wires a process (the web app and the worker both): the telephony
adapter reads the caller ID from the directory when TWILIO_FROM_NUMBER is unset, and
committed alarms are mailed. This package sits above ``sla``, below ``line`` and
``escalation``, which raise alarms through it.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from voiceline.alarms.mail import AlarmMailer, install_mailer, mailer_for
from voiceline.alarms.readiness import NO_PROVIDER, caller_id_lookup, caller_id_problem
from voiceline.alarms.service import (
    open_alarms,
    raise_alarm,
    resolve_incident_alarms,
    resolve_twilio_alarms,
)
from voiceline.extensions import Services
from voiceline.mail import smtp_settings
from voiceline.telephony import TwilioTelephony

__all__ = [
    "AlarmMailer",
    "health_reasons",
    "install",
    "mailer_for",
    "open_alarms",
    "raise_alarm",
    "resolve_incident_alarms",
    "resolve_twilio_alarms",
]

log = logging.getLogger(__name__)

REASONS_LISTED = 20


def install(services: Services) -> AlarmMailer | None:
    """Give the process its caller-ID fallback and its alarm mailer; idempotent."""
    telephony = services.telephony
    if isinstance(telephony, TwilioTelephony) and telephony.caller_id_lookup is None:
        telephony.use_caller_id_lookup(caller_id_lookup(services.database))
    settings = services.settings
    if not settings.alarm_email:
        return None
    smtp = smtp_settings(
        {"SMTP_URL": settings.smtp_url or "", "VOICELINE_REPORT_FROM": settings.report_from or ""}
    )
    mailer = AlarmMailer(smtp, settings.alarm_email, settings.public_url)
    return install_mailer(services.database.sessions, mailer)


def health_reasons(session: Session, services: Services) -> list[str]:
    """Return why paging is degraded now: live checks, then each unresolved alarm."""
    reasons: list[str] = []
    if services.telephony.name == "console":
        reasons.append(f"no_twilio: {NO_PROVIDER}")
    problem = caller_id_problem(services.settings, session)
    if problem:
        reasons.append(f"no_caller_id: {problem}")
    alarms = open_alarms(session, limit=REASONS_LISTED + 1)
    reasons += [f"{alarm.kind}: {alarm.message}" for alarm in alarms[:REASONS_LISTED]]
    if len(alarms) > REASONS_LISTED:
        reasons.append("more alarms: see /admin/alarms")
    return reasons
