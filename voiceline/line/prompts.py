"""What callers hear: default wording, overridable per plan and per customer.

The directory may set ``prompts:`` on a plan or a customer (customer wins), with any of
the keys of DEFAULTS plus ``voice`` and ``language`` for Twilio's ``<Say>``. Placeholders
in braces are filled from the call; an unknown placeholder leaves the default in place
rather than failing a caller.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

DEFAULTS: dict[str, str] = {
    "greeting": "Thank you for calling the {service} emergency line.",
    "emergency_menu": (
        "Our office is closed. If your business is down and you need an analyst now, "
        "press 1. To leave a message for the next business day, press 2."
    ),
    "billable_menu": (
        "Our office is closed, and your plan does not include after-hours support. "
        "To request emergency support now, billed at {rate} the standard rate, press 1. "
        "To leave a message for the next business day, press 2."
    ),
    "menu_again": "Sorry, I did not get that.",
    "record_emergency": (
        "After the tone, please describe the problem, and say your name and the best "
        "number to call you back. When you have finished, press the pound key or hang up."
    ),
    "record_billable": (
        "Your request for billable emergency support is recorded. After the tone, please "
        "describe the problem, and say your name and the best number to call you back."
    ),
    "record_standard": (
        "After the tone, please leave your name, your number and a short description of "
        "the problem. We will call you back {next_open}."
    ),
    "record_unknown": (
        "We could not match the number you are calling from to an authorized contact. "
        "After the tone, please say your name, your company, a number where we can call "
        "you back, and what is wrong."
    ),
    "record_fallback": (
        "After the tone, please say your name, your company, a number where we can call "
        "you back, and what is wrong. We will call you back as soon as we can."
    ),
    "thanks_emergency": (
        "Thank you. The on-call analyst has been alerted and will call you back within "
        "{target}. Goodbye."
    ),
    "thanks_billable": (
        "Thank you. The on-call analyst has been alerted and will call you back{within}. Goodbye."
    ),
    "thanks_standard": "Thank you. We will call you back {next_open}. Goodbye.",
    "thanks_unknown": "Thank you. We will call you back as soon as we can. Goodbye.",
    "no_message": (
        "We did not hear a message, but your call has been logged and we will call you "
        "back at the number you called from. Goodbye."
    ),
    "desk_connect": "Connecting you to the support desk.",
    "desk_missed": "The support desk could not take your call just now.",
    "repeat_received": "We received your message {ago}.",
    "repeat_logged": "We logged your earlier call {ago}.",
    "repeat_paged": "The on-call analyst has been alerted and will call you back within {target}.",
    "repeat_acknowledged": "{analyst} has your message and will call you back shortly.",
    "repeat_called_back": "Our records show an analyst has already called you back.",
    "repeat_standard": "We will call you back {next_open}.",
    "repeat_add": (
        "If you would like to add to your message, speak after the tone. Otherwise, you "
        "may hang up."
    ),
    "thanks_addendum": "Thank you. We have added this to your message. Goodbye.",
}


@dataclass(frozen=True)
class Prompts:
    """The wording and voice for one call."""

    overrides: Mapping[str, str] = field(default_factory=dict)
    voice: str | None = None
    language: str | None = None

    def text(self, key: str, **values: Any) -> str:
        """Return prompt ``key`` with placeholders filled in."""
        return self.text_from(key, values)

    def text_from(self, key: str, values: Mapping[str, Any]) -> str:
        """Return prompt ``key`` filled from ``values``, which may work a value out on demand.

        Only the placeholders the template names are looked up, so a mapping whose
        ``__missing__`` computes a costly value (the next business day) pays only when a
        prompt says it.
        """
        template = self.overrides.get(key) or DEFAULTS[key]
        try:
            return template.format_map(values)
        except (KeyError, ValueError, IndexError):
            log.warning("prompt %s has a placeholder we cannot fill; using the default", key)
            return DEFAULTS[key].format_map(values)

    def say_kwargs(self) -> dict[str, str]:
        """Return the voice and language attributes for ``<Say>``."""
        out = {}
        if self.voice:
            out["voice"] = self.voice
        if self.language:
            out["language"] = self.language
        return out


def prompts_for(*layers: Mapping[str, Any] | None) -> Prompts:
    """Merge prompt settings, later layers winning (service, plan, customer)."""
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer:
            merged.update(layer)
    voice = merged.pop("voice", None)
    language = merged.pop("language", None)
    texts = {k: str(v) for k, v in merged.items() if k in DEFAULTS}
    return Prompts(texts, str(voice) if voice else None, str(language) if language else None)
