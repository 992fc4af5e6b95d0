"""The audit log in sentences: "Admin alex changed plan pro: callback target 30m → 20m".

Each action the code writes (``voiceline.admin.audit.record``, and the loader's
``directory.load``) has its own sentence in ``SENTENCES``; an action without one is
still written as a sentence, from its name, so an old entry never breaks the page (the
tests hold every action the code writes to having its own). The details an entry
keeps are written for people: a changed key as "label from → to", times in the zone
given (the service's on the audit page), numbers in international format, lists
and steps as short phrases rather than Python's brackets.

Pure: the entry's plain fields in, text out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from voiceline.admin.formatting import STAMP, phone, stamps_in, when

MAX_VALUE = 120  # characters of one value before it is cut with "…"
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")

# The directory's and the rota's keys in words; a key not listed is written with its
# underscores as spaces.
LABELS = {
    "after_hours_cover": "after-hours cover",
    "billable_emergency": "billable emergencies",
    "billable_rate": "billable rate",
    "business_hours": "business hours",
    "callback_target": "callback target",
    "cap_percent": "cap (percent of the fee)",
    "closures": "closures",
    "cover_hours": "cover hours",
    "default_escalation_policy": "default paging order",
    "default_region": "default region",
    "desk_number": "desk number",
    "emergency_number": "emergency number",
    "escalation_policy": "paging order",
    "handoff": "first handoff",
    "holiday_country": "holiday country",
    "holiday_subdivision": "holiday region",
    "monthly_fee": "monthly fee",
    "page_unverified": "page for unverified callers",
    "percent_of_monthly_fee": "percent of the monthly fee",
    "remind_before": "reminder before the deadline",
    "sms": "text number",
    "time_zone": "time zone",
    "voice": "phone number",
    "within": "within",
}


def label(key: str) -> str:
    """Return a detail's key in words."""
    return LABELS.get(key, key.replace("_", " ").replace("-", " "))


def _clip(text: str) -> str:
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def value_text(value: Any, zone: str | tzinfo | None) -> str:
    """Return a stored detail value as words: no brackets, quotes or ISO stamps."""
    if value is None or value == "" or value == [] or value == {}:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return when(value, zone)
    if isinstance(value, str):
        if STAMP.fullmatch(value):
            return when(value, zone)
        return _clip(phone(value) if _E164.match(value) else stamps_in(value, zone, seconds=False))
    if isinstance(value, Mapping):
        return _clip(", ".join(f"{label(str(k))} {value_text(v, zone)}" for k, v in value.items()))
    if isinstance(value, list | tuple):
        parts = [value_text(v, zone) for v in value]
        joiner = "; " if any(isinstance(v, Mapping) for v in value) else ", "
        return _clip(joiner.join(parts))
    return _clip(str(value))


@dataclass(frozen=True)
class Said:
    """One entry as the sentences read it."""

    actor: str
    action: str
    subject: str
    detail: Mapping[str, Any]
    zone: str | tzinfo | None

    @property
    def who(self) -> str:
        """Return who did it: "Admin alex", "Someone", "The command line"."""
        named = {
            "anonymous": "Someone",
            "cli": "The command line",
            "demo": "The demo loader",
        }
        return named.get(self.actor, f"Admin {self.actor}")

    def get(self, key: str) -> str:
        """Return one detail in words."""
        return value_text(self.detail.get(key), self.zone)

    def has(self, key: str) -> bool:
        """Return True when the entry holds a detail ``key`` with a value."""
        return self.detail.get(key) not in (None, "", [], {})

    def changes(self, *, skip: tuple[str, ...] = ()) -> str:
        """Return the "from → to" details as "label a → b; label c → d"."""
        parts = []
        for key, change in self.detail.items():
            if key in skip:
                continue
            if isinstance(change, Mapping) and set(change) == {"from", "to"}:
                old, new = change["from"], change["to"]
                if old is None:
                    parts.append(f"{label(key)} {value_text(new, self.zone)}")
                elif new is None:
                    parts.append(f"{label(key)} {value_text(old, self.zone)} removed")
                else:
                    old_text, new_text = value_text(old, self.zone), value_text(new, self.zone)
                    parts.append(f"{label(key)} {old_text} → {new_text}")
            else:
                parts.append(f"{label(key)} {value_text(change, self.zone)}")
        return "; ".join(parts)


def _with(text: str, more: str, sep: str = ": ") -> str:
    return f"{text}{sep}{more}" if more else text


def _changed(s: Said) -> str:
    return _with(f"{s.who} changed {s.subject}", s.changes())


def _created(s: Said) -> str:
    return _with(f"{s.who} created {s.subject}", s.changes())


def _login_failed(s: Said) -> str:
    return f"{s.who} failed to log in as {s.subject} from {s.get('ip')}"


def _resolved(s: Said) -> str:
    kind = f" ({s.get('kind')})" if s.has("kind") else ""
    return _with(f"{s.who} marked {s.subject}{kind} as dealt with", s.get("message"))


def _loaded(s: Said, verb: str) -> str:
    source = f" from {s.get('file')}" if s.has("file") else ""
    parts = [f"created {s.get('created')}" if s.has("created") else ""]
    parts.append(f"updated {s.get('updated')}" if s.has("updated") else "")
    done = "; ".join(p for p in parts if p) or "nothing changed"
    return f"{s.who} {verb} the directory{source}: {done}"


def _contact(s: Said, verb: str, preposition: str) -> str:
    name = s.get("contact")
    return _with(
        f"{s.who} {verb} contact {name} {preposition} {s.subject}", s.changes(skip=("contact",))
    )


def _contact_removed(s: Said) -> str:
    about = ", ".join(s.get(k) for k in ("phone", "role") if s.has(k))
    return (
        f"{s.who} removed contact {s.get('name')}"
        + (f" ({about})" if about else "")
        + (f" from {s.subject}")
    )


def _sla(what: str) -> Callable[[Said], str]:
    def sentence(s: Said) -> str:
        text = f"{s.who} {what} on {s.subject}, effective {s.get('effective_at')}"
        return _with(text, s.get("reason") if s.has("reason") else "", ": ")

    return sentence


def _members(verb: str) -> Callable[[Said], str]:
    def sentence(s: Said) -> str:
        members = s.detail.get("members") or {}
        order = ""
        if isinstance(members, Mapping):
            old = value_text(members.get("from"), s.zone)
            new = value_text(members.get("to"), s.zone)
            order = f"; turn order {old} → {new}"
        return f"{s.who} {verb.format(analyst=s.get('analyst'), subject=s.subject)}{order}"

    return sentence


def _override(verb: str, preposition: str) -> Callable[[Said], str]:
    def sentence(s: Said) -> str:
        cover = f"for {s.get('replaces')}" if s.has("replaces") else "covering everyone"
        text = (
            f"{s.who} {verb} an override {preposition} {s.subject}: {s.get('analyst')} {cover}, "
            f"{s.get('start')} to {s.get('end')}"
        )
        return text + (f" ({s.get('note')})" if s.has("note") else "")

    return sentence


def _incident(verb: str) -> Callable[[Said], str]:
    def sentence(s: Said) -> str:
        who = f" for analyst {s.get('analyst')}" if s.has("analyst") else ""
        return f"{s.who} {verb} {s.subject}{who}"

    return sentence


def _test_page(s: Said) -> str:
    sid = f" (message {s.get('sid')})" if s.has("sid") else ""
    return f"{s.who} sent a test {s.get('channel')} page to {s.subject} at {s.get('to')}{sid}"


def _test_page_failed(s: Said) -> str:
    return (
        f"{s.who} tried a test {s.get('channel')} page to {s.subject}; it failed: {s.get('error')}"
    )


SENTENCES: dict[str, Callable[[Said], str]] = {
    "login": lambda s: f"{s.who} logged in from {s.get('ip')}",
    "login_failed": _login_failed,
    "logout": lambda s: f"{s.who} logged out",
    "alarm_resolved": _resolved,
    "notice_resolved": _resolved,
    "admin_created": lambda s: f"{s.who} added the login {s.subject}",
    "admin_removed": lambda s: f"{s.who} removed the login {s.subject}",
    "directory_exported": lambda s: f"{s.who} exported the directory ({s.get('bytes')} bytes)",
    "directory_imported": lambda s: _loaded(s, "imported"),
    "directory.load": lambda s: _loaded(s, "loaded"),
    "service_updated": lambda s: _with(f"{s.who} changed the service settings", s.changes()),
    "customer_created": _created,
    "customer_updated": _changed,
    "plan_created": _created,
    "plan_updated": _changed,
    "policy_created": _created,
    "policy_updated": _changed,
    "contact_added": lambda s: _contact(s, "added", "to"),
    "contact_updated": lambda s: _contact(s, "changed", "of"),
    "contact_removed": _contact_removed,
    "analyst_created": _created,
    "analyst_updated": _changed,
    "calendar_link_reset": lambda s: f"{s.who} gave {s.subject} a new calendar link",
    "rotation_created": _created,
    "rotation_updated": _changed,
    "member_added": _members("added {analyst} to {subject}"),
    "member_removed": _members("removed {analyst} from {subject}"),
    "members_reordered": _members("moved {analyst} in the turn order of {subject}"),
    "override_added": _override("added", "to"),
    "override_removed": _override("removed", "from"),
    "spool_entry_retried": lambda s: f"{s.who} retried {s.subject}",
    "spool_entry_set_aside": lambda s: f"{s.who} set aside {s.subject}, kept as {s.get('kept')}",
    "sla_callback": _sla("recorded the callback"),
    "sla_restored": _sla("recorded the service as restored"),
    "sla_pause": _sla("paused the SLA clock"),
    "sla_resume": _sla("resumed the SLA clock"),
    "incident_note": lambda s: f"{s.who} added a note to {s.subject}: “{s.get('text')}”",
    "incident_acknowledge": _incident("acknowledged"),
    "incident_escalate": _incident("escalated"),
    "incident_callback": _incident("logged the callback on"),
    "incident_resolve": _incident("resolved"),
    "test_page": _test_page,
    "test_page_failed": _test_page_failed,
}


def sentence(
    actor: str,
    action: str,
    subject: str,
    detail: Mapping[str, Any] | None,
    zone: str | tzinfo | None,
) -> str:
    """Return one audit entry as a sentence, its times in ``zone``."""
    said = Said(actor, action, subject, detail or {}, zone)
    known = SENTENCES.get(action)
    if known is not None:
        return known(said)
    # An action from an older release: its name in words, and whatever it kept.
    return _with(f"{said.who}: {label(action)}, {subject}", said.changes())
