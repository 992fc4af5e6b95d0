"""The ``directory`` blueprint, and what its pages share: the choices their forms offer
and how a refused form is shown again.

Every form posts to its own URL. A refused one comes back with status 422, every
problem listed at the top and each beside its field, having changed nothing; an
accepted one commits with its audit entry and redirects (post/redirect/get).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Protocol, TypeVar

from flask import Blueprint, abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from escalation.models import EscalationPolicy
from oncall.models import Analyst, Rotation
from voiceline import extensions
from voiceline.customers.models import Plan
from voiceline.db import request_session
from voiceline.directory.forms import EntryRefused, Errors

bp = Blueprint("directory", __name__, url_prefix="/admin/directory", template_folder="../templates")


def now() -> datetime:
    """Return the app clock's time."""
    return extensions.clock().now()


class Named(Protocol):
    """A directory entry with a code (its URL) and a name (its headline)."""

    code: str
    name: str


Entry = TypeVar("Entry", bound=Named)


def by_code_or_404(model: type[Entry], code: str) -> Entry:
    """Return the entry of this kind with this code, or answer 404."""
    found = request_session().scalars(select(model).filter_by(code=code)).one_or_none()
    if found is None:
        abort(404)
    return found


def save_named_entry(
    kind: str,
    existing: Entry | None,
    write: Callable[[Session], Entry],
    shown_again: Callable[[Entry | None, Errors], ResponseReturnValue],
    endpoint: str,
) -> ResponseReturnValue:
    """Save a plan or a policy from its form: commit and redirect, or roll back and show
    the form again (the entry as stored, the values as posted, status 422)."""
    db = request_session()
    try:
        saved = write(db)
    except EntryRefused as exc:
        db.rollback()
        found = by_code_or_404(type(existing), existing.code) if existing is not None else None
        return shown_again(found, exc.errors)
    db.commit()
    flash(f"{kind} {saved.name} {'added' if existing is None else 'saved'}.", "ok")
    return redirect(url_for(endpoint, code=saved.code))


def posted_row_prefixes(form: MultiDict[str, str], name: str, rows: int, key: str) -> Iterator[str]:
    """Yield the field prefix (``name-N-``) of each numbered row the form posted, in order."""
    for row in range(rows):
        prefix = f"{name}-{row}-"
        if f"{prefix}{key}" in form:
            yield prefix


def trim_blank_tail(rows: list[dict[str, Any]], filled: Callable[[dict[str, Any]], bool]) -> None:
    """Drop blank rows from the end only: the others keep their numbers, which the
    messages beside their fields are tied to."""
    while rows and not filled(rows[-1]):
        rows.pop()


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
