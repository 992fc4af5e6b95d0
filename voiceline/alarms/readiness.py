"""Can paging go out at all: the caller ID pages come from, checked at start and by /healthz.

Pages come from ``TWILIO_FROM_NUMBER`` or, when it is unset, from the directory's
``service.emergency_number``, read at every send (``caller_id_lookup``) because the
directory may be reloaded while the processes run. With Twilio credentials and neither
number, no page can go out:

- at start (``refuse_if_paging_impossible``): refused, in one line, when a directory is
  loaded (analysts or a service block) without an emergency number;
- before the first ``directory load``, or when the database cannot be read yet, the
  process starts (there is nobody to page yet; the line spools calls meanwhile) and
  ``/healthz`` says ``degraded`` with the reason until the number exists.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from oncall.models import Analyst
from voiceline.config import ConfigError, Settings
from voiceline.customers.models import ServiceSetting
from voiceline.customers.services import service_settings
from voiceline.db import Database
from voiceline.telephony import CallerIdLookup

log = logging.getLogger(__name__)

NO_PROVIDER = (
    "no Twilio credentials (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN): pages are only "
    "written to the log and nobody is paged"
)
NO_CALLER_ID = (
    "pages have no caller ID: TWILIO_FROM_NUMBER is unset and the directory has no "
    "service.emergency_number; set one of them"
)


def directory_caller_id(session: Session) -> str | None:
    """Return the directory's emergency number (E.164), or None."""
    value = service_settings(session).get("emergency_number")
    return str(value) if value else None


def caller_id_lookup(database: Database) -> CallerIdLookup:
    """Return a lookup of the directory's emergency number, for the telephony adapter."""

    def lookup() -> str | None:
        with database.session() as session:
            return directory_caller_id(session)

    return lookup


def has_directory(session: Session) -> bool:
    """Return True once a directory was loaded: a service block or any analyst."""
    if session.get(ServiceSetting, "service") is not None:
        return True
    return bool(session.scalar(select(func.count(Analyst.id))))


def caller_id_problem(settings: Settings, session: Session) -> str | None:
    """Return why pages would go out without a caller ID, or None when they would not."""
    if not settings.has_twilio_credentials or settings.twilio_from_number:
        return None
    if directory_caller_id(session):
        return None
    if not has_directory(session):
        return NO_CALLER_ID + " (no directory is loaded yet)"
    return NO_CALLER_ID


def startup_problem(settings: Settings, database: Database) -> str | None:
    """Return the misconfiguration that makes paging impossible, or None to start."""
    if not settings.has_twilio_credentials or settings.twilio_from_number:
        return None
    try:
        with database.session() as session:
            problem = caller_id_problem(settings, session)
            loaded = has_directory(session)
    except DBAPIError as exc:
        # Unreachable or not migrated yet: the line still answers (and spools), and
        # /healthz keeps saying what is wrong; refusing here would drop calls.
        log.warning("could not check the caller ID at start (%s); /healthz will", exc)
        return None
    if problem and not loaded:
        log.warning("%s", problem)
        return None
    return problem


def refuse_if_paging_impossible(settings: Settings, database: Database) -> None:
    """Raise ConfigError naming the problem when no page could ever go out."""
    problem = startup_problem(settings, database)
    if problem:
        raise ConfigError(problem)
