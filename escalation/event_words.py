"""Reading an incident's log lines in words: who did it, which page, which step.

The shared half of ``escalation.timeline``: the context a sentence needs (names, zone,
currency), one stored line with helpers that read its detail, and ``plain`` for the
sentences that are a template. Pure: plain values in, plain values out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from voiceline.admin.formatting import when
from voiceline.phones import display
from voiceline.twilio_errors import meaning_of


@dataclass(frozen=True)
class Context:
    """What the sentences need to know about the incident: names, zone and currency."""

    caller: str  # "Pat Jones", "+1 503-555-0111" or "A caller with a withheld number"
    caller_number: str | None
    names: Mapping[str, str]  # analyst code -> name
    zone: tzinfo
    currency: str
    acknowledger: str | None = None


@dataclass(frozen=True)
class Line:
    """What a kind's sentence function returns."""

    sentence: str
    tone: str = ""
    is_technical: bool = False
    badge: str | None = None
    quote: str | None = None


CHANNEL_NOUN = {"sms": "text", "voice": "call"}
CHANNEL_VERB = {"sms": "texting", "voice": "calling"}
VIA = {"sms": "by text reply", "voice": "on the page call", "web": "on the admin page"}
# A page key inside an engine log line: 0.1.alex.voice.2, reminder.alex.sms.1.
PAGE_KEY = re.compile(r"(?:\d+\.\d+|reminder|warning)\.[^\s.:]+\.(?:sms|voice)\.\d+")
CALLBACK_VIA = {"bridge": "on the bridged call", "sms": "reported by text", "web": "logged by hand"}


def fact(value: Any) -> str:
    """Return a logged value as one line of text."""
    if isinstance(value, list | tuple):
        return ", ".join(fact(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {fact(v)}" for k, v in value.items())
    return str(value)


@dataclass(frozen=True)
class Event:
    """One stored event with helpers to read its detail in words."""

    actor: str | None
    detail: dict[str, Any]
    ctx: Context

    @property
    def who(self) -> str:
        """Return the actor by name: an analyst, an admin, the caller, or a number."""
        return self.person(self.actor)

    def person(self, code: str | None) -> str:
        """Return who ``code`` is, by name where we know it."""
        if not code:
            return "someone"
        if code in self.ctx.names:
            return self.ctx.names[code]
        if code.startswith("admin "):
            return f"Admin {code[6:]}"
        if code == self.ctx.caller_number:
            return self.ctx.caller
        return display(code) if code.startswith("+") else code

    def text(self, key: str = "detail") -> str:
        """Return one field of the detail as text ("" when absent)."""
        return str(self.detail.get(key) or "")

    def page(self) -> Page:
        """Return the page this line is about, from its key or its text."""
        found = PAGE_KEY.search(self.text())
        return Page.parse(self.text("key") or (found.group(0) if found else ""), self)

    def local(self, stamp: Any) -> str:
        """Return a logged ISO time in the customer's zone; anything else as it is."""
        try:
            return when(datetime.fromisoformat(str(stamp)), self.ctx.zone, seconds=True)
        except ValueError:
            return str(stamp)


@dataclass(frozen=True)
class Page:
    """What a page key says: why, to whom, how, which attempt."""

    purpose: str
    analyst: str
    channel: str
    attempt: int
    who: str

    @classmethod
    def parse(cls, key: str, event: Event) -> Page:
        """Read ``0.1.alex.voice.2`` or ``reminder.alex.sms.1``; unknown parts stay blank."""
        parts = key.split(".")
        if len(parts) < 4:
            return cls("page", "", "", 1, "someone")
        purpose = parts[0] if parts[0] in ("reminder", "warning") else "page"
        attempt = int(parts[-1]) if parts[-1].isdigit() else 1
        return cls(purpose, parts[-3], parts[-2], attempt, event.person(parts[-3]))

    @property
    def noun(self) -> str:
        """Return "text" or "call"."""
        return CHANNEL_NOUN.get(self.channel, "page")

    @property
    def verb(self) -> str:
        """Return "texting" or "calling"."""
        return CHANNEL_VERB.get(self.channel, "paging")

    @property
    def again(self) -> str:
        """Return " (attempt 2)" for a retry, "" for a first attempt."""
        return f" (attempt {self.attempt})" if self.attempt > 1 else ""


def people(codes: str, event: Event) -> str:
    """Return "sam, casey" as "Sam Okafor and Casey Nguyen"."""
    found = [event.person(c.strip()) for c in codes.split(",") if c.strip()]
    if not found:
        return "nobody"
    return found[0] if len(found) == 1 else ", ".join(found[:-1]) + " and " + found[-1]


def channels(text: str) -> str:
    """Return "sms+voice" as "text and call"."""
    return " and ".join(CHANNEL_NOUN.get(c, c) for c in text.split("+"))


def step_words(text: str) -> str:
    """Return "step 1 of pass 2" as "step 1 (round 2)"."""
    found = re.search(r"step (\d+) of pass (\d+)", text)
    if not found:
        return "the step"
    step, round_no = found.groups()
    return f"step {step}" + (f" (round {round_no})" if round_no != "1" else "")


def error_words(code: Any) -> str:
    """Return a Twilio error code with what it means, e.g. "error 30003: ..."."""
    if code in (None, ""):
        return ""
    meaning = meaning_of(int(code)) if str(code).isdigit() else None
    return f"error {code}: {meaning}" if meaning else f"error {code}"


class _Fields(dict[str, str]):
    """Template fields; one the event did not log reads as blank rather than failing."""

    def __missing__(self, key: str) -> str:
        return ""


def plain(template: str, tone: str = "", technical: bool = False) -> Callable[[Event], Line]:
    """Return a writer filling ``{who}``, ``{caller}``, ``{detail}`` and ``{page}`` fields."""

    def write(e: Event) -> Line:
        page = e.page() if "{page" in template else None
        fields = _Fields({k: fact(v) for k, v in e.detail.items()})
        fields.update(
            who=e.who,
            caller=e.ctx.caller,
            detail=fact(e.detail.get("detail") or ""),
            step=step_words(e.text()),
            page_who=page.who if page else "",
            page_noun=page.noun if page else "",
        )
        text = template.format_map(fields)
        return Line(text[0].upper() + text[1:], tone, technical)

    return write
