"""What a bundled page says: one SMS naming several incidents, and the reply to ``A``.

Pure: subjects in, GSM-7 text out. A bundle names every incident it covers, in the most
detail that still fits: one segment if it can, otherwise each incident with its
customer and caller in up to ``FULL_SEGMENTS`` segments, then with its customer only,
then by number only, in at most ``MAX_SEGMENTS`` (Twilio joins the segments on the
handset). An incident is never cut in half, so a bundle of up to ``MAX_BUNDLE`` always
fits and nothing it covers goes unnamed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from escalation.sms_commands import SMS_LIMIT, to_gsm7
from escalation.texts import Subject
from voiceline.phones import display

SEGMENT = 153  # GSM-7 characters per segment of a multi-part SMS (the rest is its header)
FULL_SEGMENTS = 3
MAX_SEGMENTS = 10  # 1530 characters, under Twilio's 1600-character limit for one message
MAX_BUNDLE = 120  # incidents one bundle may name: even by 9-digit number alone they fit


def segments(text: str) -> int:
    """Return how many SMS segments a GSM-7 text takes."""
    if len(text) <= SMS_LIMIT:
        return 1
    return -(-len(text) // SEGMENT)


def _clip(text: str, limit: int) -> str:
    """Return GSM-7 text cut to ``limit`` characters."""
    text = to_gsm7(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "."


def _full(subject: Subject) -> str:
    """Return ``#41 Acme Dental (Pat Jones)``, the caller's number if there is no name."""
    who = subject.caller_name or (
        display(subject.caller_number) if subject.caller_number else "no number"
    )
    return f"#{subject.number} {_clip(subject.customer, 24)} ({_clip(who, 20)})"


def _customer(subject: Subject) -> str:
    """Return ``#41 Acme Dental``."""
    return f"#{subject.number} {_clip(subject.customer, 16)}"


def _number(subject: Subject) -> str:
    """Return ``#41``."""
    return f"#{subject.number}"


_LAYOUTS: list[tuple[Callable[[Subject], str], int]] = [
    (_full, 1),
    (_full, FULL_SEGMENTS),
    (_customer, MAX_SEGMENTS),
    (_number, MAX_SEGMENTS),
]


def bundle_sms(subjects: Sequence[Subject]) -> str:
    """Return the one SMS that pages an analyst for several new emergencies."""
    if not 2 <= len(subjects) <= MAX_BUNDLE:
        raise ValueError(f"a bundle names 2 to {MAX_BUNDLE} incidents, not {len(subjects)}")
    head = f"{len(subjects)} new emergencies: "
    tail = f". Reply A to take all, {subjects[0].number}A for one"
    return _laid_out(head, subjects, tail)


def ack_all_reply(subjects: Sequence[Subject]) -> str:
    """Return the SMS confirming ``A``: every incident it took, with who to call back."""
    if not subjects:
        return "Nothing is waiting for you: no open page to this phone. Nothing to do."
    head = f"{len(subjects)} yours: " if len(subjects) > 1 else "Yours: "
    more = len(subjects) - MAX_BUNDLE
    tail = (
        f" and {more} more" if more > 0 else ""
    ) + f". Reply {subjects[0].number}C once called back"
    return _laid_out(head, subjects[:MAX_BUNDLE], tail, first=_with_number)


def _with_number(subject: Subject) -> str:
    """Return ``#41 Acme Dental: Pat Jones +1 503-555-0111``."""
    return f"#{subject.number} {_clip(subject.customer, 24)}: {_clip(subject.caller, 36)}"


def _laid_out(
    head: str,
    subjects: Sequence[Subject],
    tail: str,
    *,
    first: Callable[[Subject], str] = _full,
) -> str:
    """Return head + entries + tail in the most detailed layout that fits its segments."""
    layouts = [(first, 1), (first, FULL_SEGMENTS), *_LAYOUTS[2:]]
    text = ""
    for entry, most in layouts:
        text = to_gsm7(head + ", ".join(entry(s) for s in subjects) + tail)
        if segments(text) <= most:
            return text
    return text  # numbers alone: MAX_BUNDLE of them always fit MAX_SEGMENTS
