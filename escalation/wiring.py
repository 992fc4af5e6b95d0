"""Plug paging into the web app: ``install`` from ``create_app``.

The web app pages the moment the line commits an emergency (``voiceline.incidents.handover``
calls ``begin`` right after the commit), and sends what Twilio callbacks and SMS replies
cause in the background so webhooks answer at once. The worker side is
``escalation.tasks``.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from escalation.dispatch import Paging, begin, handle
from escalation.events import CallbackLogged
from escalation.page_reports import page_spool, start_replaying_page_reports
from escalation.state import state_from_dict
from escalation.voice_pages import VoiceSetup
from voiceline import alarms, extensions
from voiceline.incidents.handover import register_callback_listener, register_pager
from voiceline.incidents.models import Incident
from voiceline.line.media import recording_url

EXTENSION = "escalation.paging"


def install(app: Flask) -> None:
    """Give the app its Paging and page every handed-over emergency at once."""
    alarms.install(extensions.services(app))  # the caller-ID fallback and alarm email
    paging = Paging(
        database=extensions.database(app),
        telephony=extensions.telephony(app),
        clock=extensions.clock(app),
        url_for=extensions.services(app).callback_url,
        executor=ThreadPoolExecutor(max_workers=4, thread_name_prefix="paging"),
    )
    app.extensions[EXTENSION] = paging
    if not app.testing:
        # Page reports kept while the database was away; the worker replays them too.
        spool = page_spool(extensions.services(app).settings.spool_dir)
        start_replaying_page_reports(paging, spool)
    register_pager(app, lambda incident_id: begin(paging, incident_id))
    register_callback_listener(
        app, lambda incident_id, actor: _callback_recorded(paging, incident_id, actor)
    )


def _callback_recorded(paging: Paging, incident_id: int, actor: str) -> None:
    """A callback recorded outside paging (the SLA page) ends the escalation too."""
    with paging.database.session() as session:
        row = session.get(Incident, incident_id)
        if row is None or row.escalation_state is None:
            return
        state = state_from_dict(row.escalation_state)
    analyst = state.acknowledged_by or f"admin {actor}"
    handle(paging, incident_id, CallbackLogged(analyst, "web", is_reported=True), send_now=False)


def paging_for(app: Flask) -> Paging:
    """Return the app's Paging."""
    paging: Paging = app.extensions[EXTENSION]
    return paging


def voice_setup_for(app: Flask) -> VoiceSetup:
    """Return what voice-page TwiML needs from the app."""
    return VoiceSetup(
        url_for=extensions.services(app).callback_url,
        recording_url=lambda recording_id: recording_url(app, recording_id),
        caller_id=app.config["VOICELINE"].twilio_from_number,
    )


def settle(app: Flask, timeout: float = 5.0) -> bool:
    """Wait until emergencies handed over are started and background pages sent.

    For a clean stop of a web process, and for a test's teardown: paging works on after
    the request that caused it has been answered. Returns False if time ran out.
    """
    paging = paging_for(app)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if paging.is_idle and not _has_unstarted(paging):
            return paging.drain(max(0.0, deadline - time.monotonic()))
        time.sleep(0.01)
    return False


def _has_unstarted(paging: Paging) -> bool:
    """Return True while an incident is handed over but its escalation has not started."""
    now = paging.clock.now()
    try:
        with paging.database.session() as session:
            due = session.scalars(select(Incident).where(Incident.next_due_at <= now))
            return any(row.escalation_state is None for row in due)
    except SQLAlchemyError:
        return False  # the database is away: there is nothing to wait for
