"""Read and check a whole directory file: every entry, every reference, every duplicate.

The whole file is checked before anything is written: a file with any error is refused
whole, each error reported as ``FILE:LINE: reason``. A file that passes comes back as
``Node`` mappings with every phone number in E.164, ready for ``load_directory``.

The rules for single entries live in ``directory_entries`` (on the tables of
``directory_schema``); the YAML reading, with its lines, in ``directory_yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from voiceline.directory.entries import (
    Refs,
    Report,
    inspect_analyst,
    inspect_customer,
    inspect_plan,
    inspect_policy,
    inspect_rotation,
    inspect_service,
    policy_of_node,
)
from voiceline.directory.reading import Node, Problem, YamlError, by_line, decode_utf8, read_yaml
from voiceline.directory.schema import SECTIONS, line_at, line_of, unknown_key
from voiceline.directory.values import describe, format_minutes, parse_minutes
from voiceline.errors import InvalidInput

__all__ = [
    "DirectoryError",
    "Node",
    "check_directory",
    "format_minutes",
    "parse_minutes",
    "policy_of_node",
    "read_directory_file",
    "read_directory_text",
]

_INSPECTORS: dict[str, Any] = {
    "plans": ("plan", inspect_plan),
    "analysts": ("analyst", inspect_analyst),
    "rotations": ("rotation", inspect_rotation),
    "policies": ("policy", inspect_policy),
    "customers": ("customer", inspect_customer),
}


class DirectoryError(InvalidInput):
    """A directory file that cannot be loaded; ``errors`` lists every ``file:line: reason``."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def _refused(problems: list[Problem], filename: str) -> DirectoryError:
    return DirectoryError([problem.at(filename) for problem in sorted(problems, key=by_line)])


def read_directory_text(text: str, filename: str = "<directory>") -> Node:
    """Parse and check a directory document; raise DirectoryError listing every problem."""
    try:
        data = read_yaml(text)
    except YamlError as exc:
        raise _refused(exc.problems, filename) from None
    if data is None:
        data = Node()
        data.key_lines = {}
    if not isinstance(data, Node):
        raise DirectoryError([f"{filename}:1: the directory must be a mapping"])
    report = check_directory(data)
    if report.problems:
        raise _refused(report.problems, filename)
    # Read once here, the numbers need not be read again by the loader.
    for node, key, e164, _line in report.numbers:
        node[key] = e164
    return data


def read_directory_file(path: str | Path) -> Node:
    """Read and check the directory file at ``path``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DirectoryError([f"{path}: cannot read: {exc.strerror}"]) from exc
    try:
        text = decode_utf8(raw)
    except YamlError as exc:
        raise _refused(exc.problems, str(path)) from None
    return read_directory_text(text, str(path))


def _entries(data: Mapping[str, Any], key: str, report: Report) -> list[Mapping[str, Any]]:
    items = data.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        report.add(line_of(data, key), f"'{key}' must be a list, not {describe(items)}")
        return []
    entries = []
    for index, item in enumerate(items):
        if isinstance(item, Mapping):
            entries.append(item)
        else:
            report.add(line_at(items, index), f"an entry of '{key}' must be a mapping")
    return entries


def _codes(entries: list[Mapping[str, Any]], kind: str, report: Report) -> set[str]:
    """Return the codes of ``entries``, recording each code given twice."""
    first: dict[str, int] = {}
    for node in entries:
        value = node.get("code")
        if not isinstance(value, str):
            continue
        line = line_of(node, "code")
        if value in first:
            report.add(
                line, f"{kind} {value}: duplicate code {value!r} (first at line {first[value]})"
            )
        else:
            first[value] = line
    return set(first)


def check_directory(data: Mapping[str, Any]) -> Report:
    """Check every section and every cross-reference of a directory; return the report."""
    report = Report()
    for key in data:
        if key not in SECTIONS:
            report.add(line_of(data, key), unknown_key(str(key), SECTIONS, "section"))
    sections = {key: _entries(data, key, report) for key in _INSPECTORS}
    codes = {key: _codes(sections[key], kind, report) for key, (kind, _) in _INSPECTORS.items()}
    service = data.get("service")
    region = "US"
    if isinstance(service, Mapping) and isinstance(service.get("default_region"), str):
        region = service["default_region"]
    refs = Refs(
        region=region,
        plans=codes["plans"],
        policies=codes["policies"],
        analysts=codes["analysts"],
        rotations=codes["rotations"],
    )
    if service is not None:
        if isinstance(service, Mapping):
            inspect_service(service, refs, report)
        else:
            report.add(line_of(data, "service"), "'service' must be a mapping")
    for key, (_kind, inspect) in _INSPECTORS.items():
        for node in sections[key]:
            inspect(node, refs, report)
    _check_contact_numbers(sections["customers"], report)
    return report


def _check_contact_numbers(customers: list[Mapping[str, Any]], report: Report) -> None:
    """Record a contact number given twice: a call from it must find one customer."""
    owner = {
        id(contact): customer
        for customer in customers
        if isinstance(customer.get("contacts"), list)
        for contact in customer["contacts"]
    }
    first: dict[str, int] = {}
    for node, _key, number, line in list(report.numbers):
        customer = owner.get(id(node))
        if customer is None:
            continue
        if number in first:
            report.add(
                line,
                f"customer {customer.get('code')}: duplicate contact number {number} "
                f"(already used at line {first[number]})",
            )
        else:
            first[number] = line
