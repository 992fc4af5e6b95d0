"""Read who holds a phone from a Voiceline directory file, for the demo's handsets.

Only the parts that name phones are read: the service's emergency and desk numbers, the
analysts, and each customer's contacts. Numbers are normalised to E.164 with
``phonenumbers`` in the customer's region (or the service's default region).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
import yaml

from simulator.resources import SimulatorError


class DirectoryError(SimulatorError):
    """The directory file cannot be read for phones."""


@dataclass(frozen=True)
class Handset:
    """One phone to show on the handset page."""

    number: str
    name: str
    group: str


@dataclass
class DirectoryPhones:
    """The line customers dial, and everyone who holds a phone."""

    line: str | None
    handsets: list[Handset] = field(default_factory=list)


def e164(raw: object, region: str) -> str:
    """Normalise a phone number written by a person to E.164."""
    try:
        parsed = phonenumbers.parse(str(raw), region)
    except phonenumbers.NumberParseException as error:
        raise DirectoryError(f"cannot read phone number {raw!r}: {error}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise DirectoryError(f"{raw!r} is not a possible phone number in {region}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def read_directory_phones(path: Path) -> DirectoryPhones:
    """Return the line and the handsets named in the directory file at ``path``."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise DirectoryError(f"cannot read {path}: {error}") from None
    if not isinstance(document, dict):
        raise DirectoryError(f"{path} is not a directory file (expected a mapping)")
    service: dict[str, Any] = document.get("service") or {}
    region = str(service.get("default_region", "US"))
    line = e164(service["emergency_number"], region) if service.get("emergency_number") else None
    handsets: list[Handset] = []
    if service.get("desk_number"):
        handsets.append(Handset(e164(service["desk_number"], region), "Support desk", "desk"))
    for analyst in document.get("analysts") or []:
        handsets.append(Handset(e164(analyst["phone"], region), str(analyst["name"]), "analyst"))
    for customer in document.get("customers") or []:
        customer_region = str(customer.get("region", region))
        for contact in customer.get("contacts") or []:
            name = f"{contact['name']} ({customer['name']})"
            handsets.append(Handset(e164(contact["phone"], customer_region), name, "customer"))
    return DirectoryPhones(line, handsets)
