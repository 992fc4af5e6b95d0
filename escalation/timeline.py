"""An incident's event log told as sentences: "Alex Rivera was texted", in the right order.

Every kind any area logs (``log_event`` in the line, paging, the SLA ledger and the admin
page) has a sentence naming the analyst or caller; a kind with no sentence yet still
shows, as its name in words. Lines that repeat another in machine terms (the engine's
echo of a status callback, a timer that found nothing to do) are marked technical, and
every line keeps its raw detail for whoever needs the SIDs and codes.

Pure: plain values in (events as any object with id, at, kind, actor and detail), plain
values out; the page's view-model supplies names, the zone and the currency.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from escalation.event_words import Context, Event, Line, fact
from escalation.sentences import SENTENCES


class EventRecord(Protocol):
    """One line of an incident's log, as stored."""

    id: int
    at: datetime
    kind: str
    actor: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class Entry:
    """One line of the timeline as a person reads it."""

    id: int
    at: datetime
    kind: str
    sentence: str
    tone: str = ""  # "good", "bad", "warn" or ""
    is_technical: bool = False
    badge: str | None = None  # a formatting.TERMS key shown beside the sentence
    quote: str | None = None  # a note's text, shown as written
    facts: tuple[tuple[str, str], ...] = field(default=())


def timeline(events: Iterable[EventRecord], ctx: Context) -> list[Entry]:
    """Return the incident's log as sentences, ordered by time and then by when written."""
    ordered = sorted(events, key=lambda e: (e.at, e.id))
    return [_entry(event, ctx) for event in ordered]


def _entry(event: EventRecord, ctx: Context) -> Entry:
    detail = dict(event.detail or {})
    write = SENTENCES.get(event.kind)
    try:
        line = write(Event(event.actor, detail, ctx)) if write else _unknown(event, ctx)
    except (ValueError, TypeError, AttributeError, KeyError):
        # A line written by an older version, with other fields: it still shows, plainly.
        line = _unknown(event, ctx)
    facts = [("kind", event.kind)] + ([("by", event.actor)] if event.actor else [])
    facts += [(key, fact(value)) for key, value in detail.items() if value not in (None, "", [])]
    return Entry(
        id=event.id,
        at=event.at,
        kind=event.kind,
        sentence=line.sentence,
        tone=line.tone,
        is_technical=line.is_technical,
        badge=line.badge,
        quote=line.quote,
        facts=tuple(facts),
    )


def _unknown(event: EventRecord, ctx: Context) -> Line:
    words = event.kind.replace("_", " ").strip().capitalize() or "Something happened"
    who = Event(event.actor, {}, ctx).who if event.actor else None
    return Line(f"{words} ({who})" if who else words)
