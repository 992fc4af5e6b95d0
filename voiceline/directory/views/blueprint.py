"""The ``directory`` blueprint, and what its pages share: the choices their forms offer
and how a refused form is shown again.

Every form posts to its own URL. A refused one comes back with status 422, every
problem listed at the top and each beside its field, having changed nothing; an
accepted one commits with its audit entry and redirects (post/redirect/get).
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.models import EscalationPolicy
from oncall.models import Analyst, Rotation
from voiceline import extensions
from voiceline.customers.models import Plan

bp = Blueprint("directory", __name__, url_prefix="/admin/directory", template_folder="../templates")


def now() -> datetime:
    """Return the app clock's time."""
    return extensions.clock().now()


def plan_choices(session: Session) -> list[tuple[str, str]]:
    """Return (code, name) of every plan, by name."""
    return [(p.code, p.name) for p in session.scalars(select(Plan).order_by(Plan.name))]


def policy_choices(session: Session) -> list[tuple[str, str]]:
    """Return (code, name) of every escalation policy, by name."""
    query = select(EscalationPolicy).order_by(EscalationPolicy.name)
    return [(p.code, p.name) for p in session.scalars(query)]


def target_choices(session: Session) -> list[tuple[str, list[tuple[str, str]]]]:
    """Return the targets a policy step may page, grouped: (group, [(value, label)])."""
    rotations = list(session.scalars(select(Rotation).order_by(Rotation.name)))
    analysts = list(session.scalars(select(Analyst).order_by(Analyst.name)))
    return [
        (
            "On call now in a rotation",
            [(f"on_call:{r.code}", f"On call: {r.name}") for r in rotations],
        ),
        (
            "Everyone in a rotation",
            [(f"rotation:{r.code}", f"Everyone: {r.name}") for r in rotations],
        ),
        ("One analyst", [(f"analyst:{a.code}", a.name) for a in analysts]),
    ]
