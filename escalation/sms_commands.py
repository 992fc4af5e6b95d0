"""What analysts text us, and what we text them: replies, help, and the page SMS.

Replies: ``A``/``ACK`` acknowledge, ``C`` called back, ``E`` escalate, each with or
without the incident's short number in front or behind (``12 A``, ``A12``, ``ACK #12``).
A bare ``A`` (``Command.is_for_all``) takes every incident a bundle paged this phone for.
Carrier keywords are matched the way Twilio matches them (the whole trimmed body, any
case), because Twilio acts on them whatever we do: STOP, STOPALL, UNSUBSCRIBE, CANCEL,
END, QUIT, REVOKE, OPTOUT stop; START, YES, UNSTOP restart; HELP, INFO ask for help.

Outgoing texts use only the GSM 03.38 basic character set: one character outside it
makes the whole SMS UCS-2, which cuts a segment from 160 to 70 characters. A page SMS
is at most ``SMS_LIMIT`` (160) characters: the summary is shortened to fit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from escalation.state import as_utc

CommandKind = Literal["ack", "callback", "escalate", "stop", "start", "help", "unknown"]

SMS_LIMIT = 160
HELP_WINDOW = timedelta(hours=1)
HELP_LIMIT = 3

STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
_LETTERS: dict[str, CommandKind] = {"A": "ack", "ACK": "ack", "C": "callback", "E": "escalate"}
# [0-9], not \d: \d also matches other scripts' digits ("A١" would acknowledge #1).
_REPLY_RE = re.compile(r"^(?:#?([0-9]{1,9})\s*)?(ACK|A|C|E)(?:\s*#?([0-9]{1,9}))?$")

# GSM 03.38 basic character set (the escape to the extension table is left out on purpose).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Common characters outside it, with their closest GSM spelling; the extension table's
# characters ([]{}|~^\€) cost two septets and some carriers garble them, so they go too.
# fmt: off
_TRANSLITERATIONS = {
    "‘": "'", "’": "'", "‚": "'", "′": "'", "`": "'", "´": "'", "‹": "'", "›": "'",
    "“": '"', "”": '"', "„": '"', "″": '"', "«": '"', "»": '"',
    "–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "…": "...", "•": "*", "·": "*",
    "[": "(", "]": ")", "{": "(", "}": ")", "|": "/", "\\": "/", "~": "-", "^": "",
    "€": "EUR", "™": "TM", "©": "(c)", "®": "(R)", "×": "x", "÷": "/",
    "œ": "oe", "Œ": "OE", "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ı": "i", "ð": "d",
    "Þ": "Th", "þ": "th", "ç": "c",
}
# fmt: on


@dataclass(frozen=True)
class Command:
    """A parsed SMS reply; ``incident_number`` is the short number if the analyst gave one."""

    kind: CommandKind
    incident_number: int | None = None

    @property
    def is_for_all(self) -> bool:
        """Return True for a bare ``A``: it takes every incident paged to this phone."""
        return self.kind == "ack" and self.incident_number is None


def parse_reply(body: str) -> Command:
    """Return the command an analyst's SMS reply asks for (``unknown`` if none)."""
    keyword = body.strip().upper()
    if keyword in STOP_WORDS:
        return Command("stop")
    if keyword in START_WORDS:
        return Command("start")
    if keyword in HELP_WORDS:
        return Command("help")
    # Phones add trailing full stops and exclamation marks; people add spaces.
    text = re.sub(r"\s+", " ", keyword).rstrip(".!")
    match = _REPLY_RE.match(text.strip())
    if match is None:
        return Command("unknown")
    before, letters, after = match.groups()
    if before and after:
        return Command("unknown")
    number = int(before or after) if (before or after) else None
    if number == 0:
        return Command("unknown")
    return Command(_LETTERS[letters], number)


def help_text() -> str:
    """Return the short help reply for unknown senders and unknown replies."""
    return (
        "Voiceline paging: reply A to acknowledge, C once you have called back, "
        "E to escalate. Add the incident number if you have several, e.g. 12A. STOP ends texts."
    )


def should_send_help(previous_help_times: Iterable[datetime], now: datetime) -> bool:
    """Return True if this number may get another help reply (at most 3 an hour).

    The limit keeps an auto-responder on the other end from ping-ponging with us.
    """
    now = as_utc(now, "now")
    recent = [t for t in previous_help_times if now - HELP_WINDOW < as_utc(t, "help time") <= now]
    return len(recent) < HELP_LIMIT


def page_sms_text(
    customer: str, caller: str, priority: str, short_number: int, summary: str
) -> str:
    """Return a page SMS in GSM-7 of at most 160 characters, with the reply options."""
    if isinstance(short_number, bool) or not 0 < short_number < 10**9:
        raise ValueError(f"an incident short number must be 1 to 9 digits, not {short_number!r}")
    number = str(short_number)
    head = f"#{number} {_clip(to_gsm7(priority.upper()), 12)} ".replace("  ", " ")
    tail = f" Reply {number}A ack, {number}C called back, {number}E escalate"
    parties = [_clip(to_gsm7(customer), 40), _clip(to_gsm7(caller), 32)]
    who = " - ".join(part for part in parties if part) or "unknown caller"
    # head + tail are at most 89 characters, so who always fits in what is left.
    who = _clip(who, SMS_LIMIT - len(head) - len(tail) - 1)
    room = SMS_LIMIT - len(head) - len(who) - len(tail) - len(": .")
    about = _clip(to_gsm7(summary), room) if room >= 8 else ""
    body = f"{who}: {about}" if about else who
    if not body.endswith((".", "!", "?")):
        body += "."
    return f"{head}{body}{tail}"


def to_gsm7(text: str) -> str:
    """Return text in the GSM-7 basic set: transliterated, accents dropped, rest removed."""
    out: list[str] = []
    for char in text:
        if char in GSM7_BASIC and char not in "\r\n":
            out.append(char)
        elif char in _TRANSLITERATIONS:
            out.append(_TRANSLITERATIONS[char])
        elif char.isspace():
            out.append(" ")
        else:
            # "ā" -> "a" + combining macron: keep the letter, drop what GSM cannot show.
            base = unicodedata.normalize("NFKD", char)
            out.append("".join(part for part in base if part in GSM7_BASIC))
    return re.sub(r" {2,}", " ", "".join(out)).strip()


def _clip(text: str, limit: int) -> str:
    """Return text cut to ``limit`` characters, marking the cut with ``...``."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 3, 0)].rstrip() + "..."
