"""What the single and the bundled voice page share: settings, the recording, who is wanted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.callbacks import PageContext
from escalation.state import state_from_dict
from escalation.texts import purpose_of
from voiceline.customers.services import service_settings
from voiceline.incidents.models import Recording
from voiceline.urls import UrlFor

MAX_ROUNDS = 3
GATHER_SECONDS = 6
BRIDGE_RING_SECONDS = 30


@dataclass
class VoiceSetup:
    """What building voice-page TwiML needs besides the database."""

    url_for: UrlFor
    recording_url: Callable[[int], str]
    caller_id: str | None  # the support number the bridge shows the customer


def first_recording(session: Session, incident_id: int) -> Recording | None:
    """Return the incident's first recorded message that can be played, if any."""
    return session.scalars(
        select(Recording)
        .where(Recording.incident_id == incident_id, Recording.url.is_not(None))
        .order_by(Recording.id)
        .limit(1)
    ).first()


def bridge_caller_id(setup: VoiceSetup, session: Session) -> str | None:
    """Return the number a bridged caller sees: the support line."""
    return setup.caller_id or service_settings(session).get("emergency_number")


def is_wanted(ctx: PageContext) -> bool:
    """Return True while the page's purpose still stands (nobody else took the incident)."""
    if ctx.incident.escalation_state is None:
        return False
    state = state_from_dict(ctx.incident.escalation_state)
    if state.is_final:
        return False
    if purpose_of(ctx.page.page_key) == "page" and state.status == "acknowledged":
        return state.acknowledged_by == ctx.analyst
    return True
