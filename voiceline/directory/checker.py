"""Read and check a directory YAML file, keeping the line of every mapping for errors.

The whole file is checked before anything is written: a file with any error is refused
whole, each error reported as ``FILE:LINE: reason``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import holidays
import yaml

from escalation.errors import PolicyError
from escalation.policy import Policy, parse_delay, policy_from_dict
from voiceline.errors import InvalidInput
from voiceline.hours import HoursError, parse_hours, zone
from voiceline.phones import PhoneNumberError, to_e164
from voiceline.sla.sla_math import CreditRuleError, parse_credit_rule

_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_DURATION_RE = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$")
_SHIFT_RE = re.compile(r"^\d+[hdw]$")
_TOP_LEVEL = {"service", "plans", "customers", "analysts", "rotations", "policies"}


class Node(dict[str, Any]):
    """A YAML mapping that remembers the line it started on."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str | None) -> int:
        """Return the line of ``key`` in this mapping, or of the mapping itself."""
        if key is not None and hasattr(self, "key_lines"):
            return self.key_lines.get(key, self.line)
        return self.line


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Node:
    loader.flatten_mapping(node)
    result = Node()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.MarkedYAMLError(
                problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[str(key)] = key_node.start_mark.line + 1
    return result


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,  # type: ignore[arg-type]
)


class DirectoryError(InvalidInput):
    """A directory file that cannot be loaded; ``errors`` lists every ``file:line: reason``."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def parse_minutes(value: Any) -> int:
    """Return a duration such as ``30m``, ``4h``, ``1d 2h`` or ``90`` (minutes) in minutes."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return value
    match = _DURATION_RE.match(str(value).lower())
    if not match or not any(match.groups()):
        raise ValueError(f"cannot read duration {value!r}; use e.g. 30m, 4h, 1d")
    days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    return days * 1440 + hours * 60 + minutes


def policy_of_node(node: Node) -> Policy:
    """Return the escalation policy a directory entry describes; raise PolicyError if bad."""
    return policy_from_dict(
        {
            "name": str(node.get("name") or node.get("code") or ""),
            "repeat": node.get("repeat", 0),
            "steps": node.get("steps") or [],
            "code": str(node.get("code") or ""),
        }
    )


def format_minutes(minutes: int) -> str:
    """Return minutes in the form parse_minutes reads, e.g. ``30m``, ``4h``, ``1h30m``."""
    hours, mins = divmod(minutes, 60)
    if hours and mins:
        return f"{hours}h{mins}m"
    return f"{hours}h" if hours else f"{mins}m"


@dataclass
class Checker:
    """Collects errors with the file name and line of the mapping they belong to."""

    filename: str
    errors: list[str] = field(default_factory=list)

    def error(self, node: Any, message: str, key: str | None = None) -> None:
        line = node.line_of(key) if isinstance(node, Node) else 0
        self.errors.append(f"{self.filename}:{line}: {message}")

    def mapping(self, node: Any, where: str) -> Node | None:
        if not isinstance(node, Node):
            self.errors.append(f"{self.filename}:?: {where} must be a mapping")
            return None
        return node

    def require(self, node: Node, key: str, where: str) -> Any:
        value = node.get(key)
        if value is None or value == "":
            self.error(node, f"{where}: '{key}' is required", key)
        return value

    def code(self, node: Node, where: str, seen: set[str]) -> str | None:
        value = self.require(node, "code", where)
        if value is None:
            return None
        code = str(value)
        if not _CODE_RE.match(code):
            self.error(node, f"{where}: code {code!r} must be lowercase letters, digits, -_.")
        elif code in seen:
            self.error(node, f"{where}: duplicate code {code!r}")
        seen.add(code)
        return code

    def phone(
        self, node: Node, value: Any, where: str, region: str | None, key: str | None = None
    ) -> str | None:
        try:
            return to_e164(str(value), region)
        except PhoneNumberError as exc:
            self.error(node, f"{where}: bad phone number: {exc}", key)
            return None

    def hours(self, node: Node, key: str, where: str) -> None:
        if key in node:
            try:
                parse_hours(node[key])
            except HoursError as exc:
                self.error(node, f"{where}: {key}: {exc}", key)

    def zone(self, node: Node, where: str) -> None:
        name = self.require(node, "time_zone", where)
        if name is not None:
            try:
                zone(str(name))
            except HoursError as exc:
                self.error(node, f"{where}: {exc}", "time_zone")

    def delay(self, node: Node, key: str, where: str) -> None:
        if node.get(key) is not None:
            try:
                parse_delay(node[key])
            except PolicyError as exc:
                self.error(node, f"{where}: {key}: {exc}", key)

    def minutes(self, node: Node, key: str, where: str) -> None:
        if node.get(key) is not None:
            try:
                parse_minutes(node[key])
            except ValueError as exc:
                self.error(node, f"{where}: {key}: {exc}", key)


def read_directory_text(text: str, filename: str = "<directory>") -> Node:
    """Parse and check a directory document; raise DirectoryError listing every problem."""
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 0
        raise DirectoryError([f"{filename}:{line}: {exc.problem}"]) from exc
    except yaml.YAMLError as exc:
        raise DirectoryError([f"{filename}:?: {exc}"]) from exc
    if data is None:
        data = Node()
    checker = Checker(filename)
    if not isinstance(data, Node):
        raise DirectoryError([f"{filename}:1: the directory must be a mapping"])
    for key in data:
        if key not in _TOP_LEVEL:
            checker.error(data, f"unknown section {key!r}; expected {sorted(_TOP_LEVEL)}")
    check_directory(data, checker)
    if checker.errors:
        raise DirectoryError(checker.errors)
    return data


def read_directory_file(path: str | Path) -> Node:
    """Read and check the directory file at ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DirectoryError([f"{path}: cannot read: {exc.strerror}"]) from exc
    return read_directory_text(text, str(path))


def _items(data: Node, key: str, checker: Checker) -> list[Node]:
    value = data.get(key) or []
    if not isinstance(value, list):
        checker.error(data, f"'{key}' must be a list")
        return []
    nodes = []
    for item in value:
        node = checker.mapping(item, f"an entry of '{key}'")
        if node is not None:
            nodes.append(node)
    return nodes


def check_directory(data: Node, c: Checker) -> None:
    """Check every section and every cross-reference, recording errors in ``c``."""
    service = data.get("service") or Node()
    if not isinstance(service, Node):
        c.error(data, "'service' must be a mapping")
        service = Node()
    region = str(service.get("default_region", "US"))
    for key in ("emergency_number", "desk_number"):
        if service.get(key):
            c.phone(service, service[key], f"service {key}", region)

    plans: set[str] = set()
    for node in _items(data, "plans", c):
        code = c.code(node, "plan", plans)
        where = f"plan {code}"
        c.require(node, "name", where)
        c.hours(node, "business_hours", where)
        c.hours(node, "cover_hours", where)
        c.minutes(node, "callback_target", where)
        if node.get("credit") is not None:
            try:
                parse_credit_rule(node["credit"])
            except CreditRuleError as exc:
                c.error(node, f"{where}: credit: {exc}", "credit")
            if not node.get("monthly_fee"):
                c.error(node, f"{where}: a credit rule needs the plan's monthly_fee", "credit")
        for target in node.get("targets") or []:
            if not isinstance(target, Node):
                c.error(node, f"{where}: each target must be a mapping")
                continue
            if target.get("metric") not in ("callback", "restoration"):
                c.error(target, f"{where}: target metric must be callback or restoration")
            if not target.get("priority"):
                c.error(target, f"{where}: target needs a priority")
            if target.get("clock", "wall") not in ("wall", "business"):
                c.error(target, f"{where}: target clock must be wall or business")
            if target.get("within") is None:
                c.error(target, f"{where}: target needs 'within' (e.g. 30m, 4h)")
            else:
                c.minutes(target, "within", where)

    analysts: set[str] = set()
    for node in _items(data, "analysts", c):
        code = c.code(node, "analyst", analysts)
        where = f"analyst {code}"
        c.require(node, "name", where)
        for key in ("sms", "voice", "phone"):
            if node.get(key):
                c.phone(node, node[key], f"{where} {key}", region)
        if not any(node.get(k) for k in ("sms", "voice", "phone")):
            c.error(node, f"{where}: needs a phone, sms or voice number to be paged")

    rotations: set[str] = set()
    for node in _items(data, "rotations", c):
        code = c.code(node, "rotation", rotations)
        where = f"rotation {code}"
        c.require(node, "name", where)
        c.zone(node, where)
        c.hours(node, "hours", where)
        shift = str(node.get("shift", "1w"))
        if not _SHIFT_RE.match(shift):
            c.error(node, f"{where}: shift {shift!r} must be like 12h, 1d or 1w")
        handoff = node.get("handoff")
        if handoff is not None and not isinstance(handoff, datetime | date):
            try:
                datetime.fromisoformat(str(handoff))
            except ValueError:
                c.error(
                    node, f"{where}: handoff {handoff!r} must be a local time like 2026-01-05T08:00"
                )
        for member in node.get("members") or []:
            if str(member) not in analysts:
                c.error(node, f"{where}: unknown analyst {member!r}", "members")

    policies: set[str] = set()
    for node in _items(data, "policies", c):
        code = c.code(node, "policy", policies)
        where = f"policy {code}"
        c.require(node, "name", where)
        steps = node.get("steps") or []
        if not steps:
            c.error(node, f"{where}: needs at least one step")
            continue
        try:
            # The engine's own reader: the same rules (delays like 90s, 5m or PT5M) as at run time.
            checked = policy_of_node(node)
        except PolicyError as exc:
            c.error(node, f"{where}: {exc}", "steps")
            continue
        for step in checked.steps:
            for target in step.targets:
                known = analysts if target.kind == "analyst" else rotations
                if target.ref not in known:
                    kind = "analyst" if target.kind == "analyst" else "rotation"
                    c.error(node, f"{where}: unknown {kind} {target.ref!r}", "steps")
    c.delay(service, "remind_before", "service")

    customers: set[str] = set()
    phones_seen: dict[str, int] = {}
    for node in _items(data, "customers", c):
        code = c.code(node, "customer", customers)
        where = f"customer {code}"
        c.require(node, "name", where)
        c.zone(node, where)
        c.hours(node, "business_hours", where)
        plan = c.require(node, "plan", where)
        if plan is not None and str(plan) not in plans:
            c.error(node, f"{where}: unknown plan {plan!r}", "plan")
        policy = node.get("escalation_policy")
        if policy is not None and str(policy) not in policies:
            c.error(node, f"{where}: unknown escalation policy {policy!r}", "escalation_policy")
        hol = node.get("holidays")
        if hol is not None and not isinstance(hol, Node):
            c.error(node, f"{where}: holidays must be a mapping with country and subdivision")
        elif hol is not None:
            try:
                holidays.country_holidays(str(hol.get("country")), subdiv=hol.get("subdivision"))
            except (NotImplementedError, KeyError, ValueError) as exc:
                c.error(hol, f"{where}: unknown holiday calendar: {exc}")
        for closure in node.get("closures") or []:
            if not isinstance(closure, date):
                c.error(node, f"{where}: closure {closure!r} must be a date like 2026-12-24")
        if node.get("desk_number"):
            c.phone(node, node["desk_number"], f"{where} desk_number", region)
        contact_region = str(node.get("region", region))
        for contact in node.get("contacts") or []:
            if not isinstance(contact, Node):
                c.error(node, f"{where}: each contact must be a mapping")
                continue
            c.require(contact, "name", f"{where} contact")
            number = c.phone(contact, contact.get("phone", ""), f"{where} contact", contact_region)
            if number is not None:
                if number in phones_seen:
                    c.error(
                        contact,
                        f"{where}: duplicate contact number {number} "
                        f"(already used at line {phones_seen[number]})",
                    )
                else:
                    phones_seen[number] = contact.line
