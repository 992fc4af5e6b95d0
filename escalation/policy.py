"""Escalation policies: ordered steps of targets, channels and delays, and their JSON form.

A policy is plain data. The directory file and the admin page produce it, and the
incident stores a snapshot of it (``policy_to_dict``) so that editing the policy later
never changes an escalation already in flight.

The dictionary form, as written in the directory YAML::

    name: Diamond emergencies
    repeat: 2                 # passes after the first; 0 = run the steps once
    steps:
      - targets: [{on_call: tier1}]
        channels: [sms, voice]  # or "sms", "voice", "both"; default both
        delay: 5m               # wait this long for an ack, then the next step
      - targets: [{rotation: tier2}, {analyst: alex}]
        delay: PT2M30S

Target kinds: ``on_call`` (whoever is on call on that rotation now), ``rotation``
(every member of that rotation), ``analyst`` (one named analyst).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, cast, get_args

from escalation.errors import PolicyError

TargetKind = Literal["on_call", "rotation", "analyst"]
Channel = Literal["sms", "voice"]

TARGET_KINDS: tuple[TargetKind, ...] = get_args(TargetKind)
CHANNELS: tuple[Channel, ...] = get_args(Channel)

# A step waiting longer than a day for an ack is a typo, not a policy.
MAX_DELAY = timedelta(hours=24)
MAX_REPEAT = 20
MAX_STEPS = 20

_COMPACT_RE = re.compile(r"^(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$")
_ISO_RE = re.compile(r"^PT(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+)S)?$")


@dataclass(frozen=True)
class Target:
    """Who a step pages: the on-call analyst of a rotation, all of it, or one analyst."""

    kind: TargetKind
    ref: str

    def __post_init__(self) -> None:
        if self.kind not in TARGET_KINDS:
            raise PolicyError(f"unknown target kind {self.kind!r}; use one of {TARGET_KINDS}")
        if not isinstance(self.ref, str) or not self.ref.strip():
            raise PolicyError(f"a {self.kind} target needs a non-empty name")


@dataclass(frozen=True)
class Step:
    """One tier: page these targets on these channels, then wait ``delay`` for an ack."""

    targets: tuple[Target, ...]
    channels: frozenset[Channel]
    delay: timedelta

    def __post_init__(self) -> None:
        if not self.targets:
            raise PolicyError("a step needs at least one target")
        if not self.channels or not self.channels <= set(CHANNELS):
            raise PolicyError(f"a step's channels must be a non-empty subset of {CHANNELS}")
        if self.delay < timedelta(0) or self.delay > MAX_DELAY:
            raise PolicyError(f"a step's delay must be between 0s and {format_delay(MAX_DELAY)}")
        if self.delay % timedelta(seconds=1):
            raise PolicyError("a step's delay must be whole seconds")


@dataclass(frozen=True)
class Policy:
    """Ordered steps run ``repeat + 1`` times in all until someone acknowledges."""

    name: str
    steps: tuple[Step, ...]
    repeat: int = 0
    code: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise PolicyError("a policy needs a name")
        if not 1 <= len(self.steps) <= MAX_STEPS:
            raise PolicyError(f"a policy needs between 1 and {MAX_STEPS} steps")
        if isinstance(self.repeat, bool) or not 0 <= self.repeat <= MAX_REPEAT:
            raise PolicyError(f"repeat must be a whole number from 0 to {MAX_REPEAT}")
        # With every delay at zero, all passes would fire in the same instant.
        if all(step.delay == timedelta(0) for step in self.steps):
            raise PolicyError(f"policy {self.name!r}: at least one step needs a delay above 0s")


def parse_delay(value: object) -> timedelta:
    """Return a step delay given as ``90s``, ``5m``, ``1h30m``, ``PT1M30S`` or int seconds."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        if value % timedelta(seconds=1):
            raise PolicyError(f"delay {value} must be whole seconds")
    elif isinstance(value, bool) or not isinstance(value, int | str):
        raise PolicyError(f"not a delay: {value!r}; use e.g. 90s, 5m, 1h30m or PT5M")
    elif isinstance(value, int):
        seconds = value
    else:
        seconds = _parse_delay_text(value)
    if seconds < 0:
        raise PolicyError(f"delay {value!r} must not be negative")
    if seconds > MAX_DELAY.total_seconds():  # before timedelta, which overflows on huge ones
        raise PolicyError(f"delay {value!r} is longer than {format_delay(MAX_DELAY)}")
    delay = timedelta(seconds=seconds)
    if delay > MAX_DELAY:
        raise PolicyError(f"delay {value!r} is longer than {format_delay(MAX_DELAY)}")
    return delay


def _parse_delay_text(text: str) -> int:
    """Return the seconds in a compact (``1h30m``) or ISO 8601 (``PT1H30M``) duration."""
    raw = text.strip()
    if raw.startswith("-"):
        raise PolicyError(f"delay {text!r} must not be negative")
    if raw.isascii() and raw.isdigit():  # "²".isdigit() is True, and int() refuses it
        return int(raw) if len(raw) <= 12 else int(MAX_DELAY.total_seconds()) + 1
    match = _ISO_RE.match(raw.upper()) if raw.upper().startswith("PT") else None
    if match is None:
        match = _COMPACT_RE.match(raw.lower().replace(" ", ""))
    if match is None or not any(match.groups()):
        raise PolicyError(f"cannot read delay {text!r}; use e.g. 90s, 5m, 1h30m or PT5M")
    hours, minutes, seconds = (int(group) if group else 0 for group in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def format_delay(delay: timedelta) -> str:
    """Return a delay in the compact form ``parse_delay`` reads back, e.g. ``1h30m``."""
    total = int(delay.total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "".join(
        f"{amount}{unit}"
        for amount, unit in ((hours, "h"), (minutes, "m"), (seconds, "s"))
        if amount
    )
    return text or "0s"


def policy_targets(policy: Policy) -> frozenset[Target]:
    """Return every target the policy may page, for resolving who is on call."""
    return frozenset(target for step in policy.steps for target in step.targets)


def policy_to_dict(policy: Policy) -> dict[str, Any]:
    """Return the JSON-safe form of a policy (the incident's snapshot, the directory entry)."""
    data: dict[str, Any] = {
        "name": policy.name,
        "repeat": policy.repeat,
        "steps": [
            {
                "targets": [{target.kind: target.ref} for target in step.targets],
                "channels": sorted(step.channels),
                "delay": format_delay(step.delay),
            }
            for step in policy.steps
        ],
    }
    if policy.code:
        data["code"] = policy.code
    return data


def policy_from_dict(data: Mapping[str, Any]) -> Policy:
    """Return the policy a dictionary describes; raise PolicyError saying what is wrong."""
    if not isinstance(data, Mapping):
        raise PolicyError("a policy must be a mapping with name, repeat and steps")
    _reject_unknown_keys(data, {"name", "repeat", "steps", "code"}, "policy")
    name = data.get("name")
    if not isinstance(name, str):
        raise PolicyError("a policy needs a name")
    where = f"policy {name!r}"
    repeat = data.get("repeat", 0)
    if isinstance(repeat, bool) or not isinstance(repeat, int):
        raise PolicyError(f"{where}: repeat must be a whole number, not {repeat!r}")
    code = data.get("code", "")
    if not isinstance(code, str):
        raise PolicyError(f"{where}: code must be text")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list | tuple) or not raw_steps:
        raise PolicyError(f"{where}: needs a list of steps")
    steps = tuple(
        _step_from_dict(raw, f"{where} step {number}")
        for number, raw in enumerate(raw_steps, start=1)
    )
    try:
        return Policy(name=name, steps=steps, repeat=repeat, code=code)
    except PolicyError as exc:
        raise PolicyError(f"{where}: {exc}") from None


def _step_from_dict(data: object, where: str) -> Step:
    """Return one step of a policy dictionary."""
    if not isinstance(data, Mapping):
        raise PolicyError(f"{where}: must be a mapping with targets, channels and delay")
    _reject_unknown_keys(data, {"targets", "channels", "delay"}, where)
    raw_targets = data.get("targets")
    if not isinstance(raw_targets, list | tuple) or not raw_targets:
        raise PolicyError(f"{where}: needs a list of targets like [{{on_call: tier1}}]")
    targets = tuple(_target_from_dict(raw, where) for raw in raw_targets)
    if "delay" not in data:
        raise PolicyError(f"{where}: needs a delay such as 5m")
    raw_delay = data["delay"]
    # A bare number is ambiguous to people (seconds? minutes?) so the file must say.
    if not isinstance(raw_delay, str) or raw_delay.strip().isdigit():
        raise PolicyError(f"{where}: delay {raw_delay!r} needs a unit, e.g. 90s or 5m")
    try:
        delay = parse_delay(raw_delay)
        return Step(targets=targets, channels=_channels_from(data.get("channels")), delay=delay)
    except PolicyError as exc:
        raise PolicyError(f"{where}: {exc}") from None


def _target_from_dict(data: object, where: str) -> Target:
    """Return a target written as a one-key mapping such as ``{on_call: tier1}``."""
    if not isinstance(data, Mapping) or len(data) != 1:
        raise PolicyError(f"{where}: a target is one of {{on_call|rotation|analyst: NAME}}")
    ((kind, ref),) = data.items()
    if kind not in TARGET_KINDS:
        raise PolicyError(f"{where}: unknown target kind {kind!r}; use one of {TARGET_KINDS}")
    if not isinstance(ref, str | int) or isinstance(ref, bool):
        raise PolicyError(f"{where}: the {kind} target needs a name, not {ref!r}")
    try:
        return Target(kind=cast(TargetKind, kind), ref=str(ref))
    except PolicyError as exc:
        raise PolicyError(f"{where}: {exc}") from None


def _channels_from(value: object) -> frozenset[Channel]:
    """Return the channels written as a list, ``sms``, ``voice`` or ``both`` (the default)."""
    if value is None or value == "both":
        return frozenset(CHANNELS)
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not names:
        raise PolicyError(f"channels must be sms, voice, both or a list of them, not {value!r}")
    for name in names:
        if name not in CHANNELS:
            raise PolicyError(f"unknown channel {name!r}; use sms and/or voice")
    return frozenset(cast(list[Channel], names))


def _reject_unknown_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    """Raise PolicyError naming keys a policy does not have (a typo would otherwise vanish)."""
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise PolicyError(f"{where}: unknown keys {unknown}; expected {sorted(allowed)}")
