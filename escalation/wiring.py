"""Plug paging into the web app: ``install`` from ``create_app``.

The web app pages the moment the line commits an emergency (``voiceline.handover``
calls ``begin`` right after the commit), and sends what Twilio callbacks and SMS replies
cause in the background so webhooks answer at once. The worker side is
``escalation.tasks``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from escalation.dispatch import Paging, begin
from escalation.voice_pages import VoiceSetup
from voiceline.db import get_database
from voiceline.handover import register_pager
from voiceline.media import recording_url
from voiceline.urls import url_builder

EXTENSION = "escalation.paging"


def install(app: Flask) -> None:
    """Give the app its Paging and page every handed-over emergency at once."""
    from voiceline.app import get_clock, get_telephony

    paging = Paging(
        database=get_database(app),
        telephony=get_telephony(app),
        clock=get_clock(app),
        url_for=url_builder(app),
        executor=ThreadPoolExecutor(max_workers=4, thread_name_prefix="paging"),
    )
    app.extensions[EXTENSION] = paging
    register_pager(app, lambda incident_id: begin(paging, incident_id))


def paging_for(app: Flask) -> Paging:
    """Return the app's Paging."""
    paging: Paging = app.extensions[EXTENSION]
    return paging


def voice_setup_for(app: Flask) -> VoiceSetup:
    """Return what voice-page TwiML needs from the app."""
    return VoiceSetup(
        url_for=url_builder(app),
        recording_url=lambda recording_id: recording_url(app, recording_id),
        caller_id=app.config["VOICELINE"].twilio_from_number,
    )
