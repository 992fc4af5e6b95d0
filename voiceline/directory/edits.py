"""Save one directory entry from the admin page, through the checker and the loader.

An edit is the entry as the file would hold it (``voiceline.directory.dump`` of the row,
with the form's values put in). It is checked by the same per-entry checker as
``voiceline directory load``, against what the database holds, then written by the
loader's own code for that kind of entry, so the database ends up exactly as loading
a file with that entry would leave it. The audit entry goes into the same session: a
refused edit raises ``EntryRefused`` before anything is written, and the caller rolls
back.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.models import EscalationPolicy
from oncall.models import Analyst, Rotation
from voiceline.admin import audit
from voiceline.customers.models import Customer, Plan, ServiceSetting
from voiceline.directory.dump import customer_entry, plan_entry, policy_entry, service_entry
from voiceline.directory.entries import (
    Refs,
    Report,
    inspect_customer,
    inspect_plan,
    inspect_policy,
    inspect_service,
)
from voiceline.directory.forms import EntryRefused, Errors, Marked, Path, Place
from voiceline.directory.loader import apply_directory
from voiceline.directory.reading import Node, by_line

_INSPECT: dict[str, Callable[[Any, Refs, Report], None]] = {
    "service": inspect_service,
    "plans": inspect_plan,
    "policies": inspect_policy,
    "customers": inspect_customer,
}


def refs_of(session: Session) -> Refs:
    """Return what an entry may refer to: the codes the database holds, and its region."""
    service = session.get(ServiceSetting, "service")
    region = (service.value or {}).get("default_region") if service is not None else None
    return Refs(
        region=region if isinstance(region, str) and region else "US",
        plans=set(session.scalars(select(Plan.code))),
        policies=set(session.scalars(select(EscalationPolicy.code))),
        analysts=set(session.scalars(select(Analyst.code))),
        rotations=set(session.scalars(select(Rotation.code))),
    )


def places(
    form: str, names: Iterable[str], aliases: Mapping[str, str] | None = None
) -> Callable[[Path], Place | None]:
    """Return the lookup from an entry's key path to a field of ``form`` named by the path."""
    known = set(names)
    renamed = dict(aliases or {})

    def place_of(path: Path) -> Place | None:
        name = "-".join(str(part) for part in path)
        name = renamed.get(name, name)
        return (form, name) if name in known else None

    return place_of


@dataclass
class Draft:
    """An entry built from a form and checked: its node, report and field marks."""

    section: str
    node: Node
    report: Report
    marked: Marked
    errors: Errors

    def refuse(self, message: str, place: Place | None = None) -> None:
        """Add a problem the database found (a code or number already in use)."""
        self.errors.add(message, place)

    def number(self, node: Any, key: str) -> str | None:
        """Return the E.164 number the checker read at ``node[key]``, if it read one."""
        for owner, found, e164, _line in self.report.numbers:
            if owner is node and found == key:
                return e164
        return None


def check(
    session: Session,
    section: str,
    entry: Mapping[str, Any],
    place_of: Callable[[Path], Place | None],
    refs: Refs | None = None,
) -> Draft:
    """Build ``entry`` as the file would hold it and run the directory's checker on it."""
    marked = Marked(place_of)
    node = marked.build(copy.deepcopy(dict(entry)))
    report = Report()
    _INSPECT[section](node, refs or refs_of(session), report)
    errors = marked.place(sorted(report.problems, key=by_line), Errors())
    return Draft(section, node, report, marked, errors)


def current_entry(session: Session, section: str, code: str) -> dict[str, Any] | None:
    """Return the entry as the dump writes it now, or None when there is none."""
    found: dict[str, Any] | None
    if section == "service":
        found = service_entry(session)
    elif section == "plans":
        plan = session.scalars(select(Plan).filter_by(code=code)).one_or_none()
        found = plan_entry(plan) if plan is not None else None
    elif section == "policies":
        policy = session.scalars(select(EscalationPolicy).filter_by(code=code)).one_or_none()
        found = policy_entry(policy) if policy is not None else None
    else:
        customer = session.scalars(select(Customer).filter_by(code=code)).one_or_none()
        found = customer_entry(customer) if customer is not None else None
    return copy.deepcopy(found)


def changed_keys(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> dict[str, Any]:
    """Return each top-level key whose value differs, with its value before and after."""
    old = before or {}
    return {
        key: {"from": old.get(key), "to": after.get(key)}
        for key in [*after, *(k for k in old if k not in after)]
        if old.get(key) != after.get(key)
    }


def save(
    session: Session,
    draft: Draft,
    *,
    actor: str,
    now: datetime,
    action: str,
    subject: str,
    code: str = "",
    recorded: bool = True,
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Write a checked draft the way the loader does; return the entry before and after.

    Unless ``recorded`` is False (the caller describes the change itself), an audit
    entry names each key that changed.
    """
    if draft.errors:
        raise EntryRefused(draft.errors)
    before = current_entry(session, draft.section, code)
    # The loader takes numbers in E.164, as the file checker leaves them.
    for owner, key, e164, _line in draft.report.numbers:
        owner[key] = e164
    data = Node()
    data.key_lines = {}
    data[draft.section] = draft.node if draft.section == "service" else [draft.node]
    apply_directory(session, data)
    after = current_entry(session, draft.section, code) or {}
    changes = changed_keys(before, after)
    if changes and recorded:
        audit.record(session, actor, action, subject, at=now, **changes)
    return before, after
