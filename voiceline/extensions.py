"""App-wide services, wired once: settings, database, clock, telephony, callback URLs.

``create_app`` builds a ``Services`` and calls ``init_app(app, services)``; views ask
``services()`` (or ``clock()``, ``telephony()``, ``database()``) for the current app's,
never the app factory. The worker builds the same ``Services`` with ``build_services``
and no Flask app at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from voiceline import db
from voiceline.clock import Clock, SystemClock
from voiceline.config import Settings
from voiceline.db import Database
from voiceline.telephony import Telephony, telephony_from_settings
from voiceline.urls import UrlFor, callback_urls

EXTENSION = "voiceline.services"


@dataclass(frozen=True)
class Services:
    """What every request and job needs, built once per process."""

    settings: Settings
    database: Database
    clock: Clock
    telephony: Telephony
    callback_url: UrlFor


def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    telephony: Telephony | None = None,
    database: Database | None = None,
) -> Services:
    """Build the process's services from ``settings``; tests pass a clock or telephony."""
    return Services(
        settings=settings,
        database=database or Database(settings.database_url),
        clock=clock or SystemClock(),
        telephony=telephony or telephony_from_settings(settings),
        callback_url=callback_urls(settings.public_url),
    )


def init_app(app: Flask, services: Services) -> None:
    """Attach ``services`` to ``app`` and wire its database sessions."""
    app.extensions[EXTENSION] = services
    db.init_app(app, services.database)


def services(app: Flask | None = None) -> Services:
    """Return the services of ``app`` (default: the current app)."""
    found: Services = (app or current_app).extensions[EXTENSION]
    return found


def clock(app: Flask | None = None) -> Clock:
    """Return the app's clock."""
    return services(app).clock


def telephony(app: Flask | None = None) -> Telephony:
    """Return the app's telephony backend."""
    return services(app).telephony


def database(app: Flask | None = None) -> Database:
    """Return the app's database."""
    return services(app).database
