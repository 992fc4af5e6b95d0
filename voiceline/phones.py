"""Phone numbers: normalise to E.164 with phonenumbers and recognise withheld caller IDs."""

from __future__ import annotations

import functools

import phonenumbers

from voiceline.errors import InvalidInput

# Caller IDs carriers and Twilio send when the number is withheld; several are the
# keypad spelling of the word (+266696687 = ANONYMOUS, +7378742833 = RESTRICTED).
WITHHELD = frozenset(
    {
        "",
        "anonymous",
        "restricted",
        "unknown",
        "private",
        "blocked",
        "unavailable",
        "+266696687",
        "266696687",
        "+7378742833",
        "7378742833",
        "+86282452253",
        "86282452253",
        "+8656696",
        "8656696",
        "+2562533",
        "2562533",
    }
)


class PhoneNumberError(InvalidInput):
    """A phone number that cannot be read or is not a valid number."""


def is_withheld(raw: str | None) -> bool:
    """Return True when ``raw`` is an absent or withheld caller ID."""
    return raw is None or raw.strip().lower() in WITHHELD


def to_e164(raw: str, default_region: str | None = "US") -> str:
    """Return ``raw`` in E.164, reading national formats in ``default_region``."""
    text = (raw or "").strip()
    if is_withheld(text):
        raise PhoneNumberError("the number is withheld")
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneNumberError(f"cannot read phone number {text!r}: {exc}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise PhoneNumberError(f"{text!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=4096)
def caller_e164(raw: str | None, default_region: str | None = "US") -> str | None:
    """Return the caller's E.164 number, or None when withheld or unreadable.

    Kept per process for the numbers last seen: every request of a call reads its caller
    ID, and the same few thousand numbers call the line again and again.
    """
    if raw is None or is_withheld(raw):
        return None
    try:
        return to_e164(raw, default_region)
    except PhoneNumberError:
        return None


def spoken(number: str) -> str:
    """Return a number spaced out digit by digit so text-to-speech reads it clearly."""
    return " ".join(ch for ch in number if ch.isdigit())


def display(number: str) -> str:
    """Return a number in international format for people to read."""
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(number, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return number
