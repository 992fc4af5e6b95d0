"""Check one directory entry at a time: a plan, analyst, rotation, policy, customer or the
service block.

Each ``check_*`` function takes one entry (a mapping from ``read_yaml``, whose lines the
problems carry, or any plain mapping, whose problems are at line 0) and returns its
problems. Nothing here does I/O, so a form that edits one entry runs the same rules as
``voiceline directory load``. References to other entries are checked against ``Refs``
where it names what exists, and left alone where it says None.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import holidays

from escalation.errors import PolicyError
from escalation.policy import Policy, policy_from_dict
from voiceline.directory.reading import Problem, by_line
from voiceline.directory.schema import (
    ANALYST,
    CONTACT,
    CREDIT,
    CUSTOMER,
    HOLIDAYS,
    PLAN,
    POLICY,
    PROMPTS,
    ROTATION,
    SERVICE,
    TARGET,
    Schema,
    line_at,
    line_of,
    unknown_key,
)
from voiceline.directory.values import CODE_RE, phone, shown
from voiceline.phones import PhoneNumberError, to_e164
from voiceline.sla.sla_math import CreditRuleError, parse_credit_rule

_STEP_RE = re.compile(r"\bstep (\d+)\b")


@dataclass(frozen=True)
class Refs:
    """What entries may refer to; None leaves that kind of reference unchecked."""

    region: str = "US"
    plans: Collection[str] | None = None
    policies: Collection[str] | None = None
    analysts: Collection[str] | None = None
    rotations: Collection[str] | None = None


@dataclass
class Report:
    """The problems found in entries, and each phone number read, in E.164."""

    problems: list[Problem] = field(default_factory=list)
    # (the mapping, its key, the number in E.164, the line)
    numbers: list[tuple[dict[str, Any], str, str, int]] = field(default_factory=list)

    def add(self, line: int, message: str) -> None:
        """Record a problem at ``line``."""
        self.problems.append(Problem(line, message))

    def fields(self, node: Any, schema: Schema, where: str) -> bool:
        """Check ``node``'s keys and values against ``schema``; return False if not a mapping."""
        if not isinstance(node, Mapping):
            self.add(0, f"{where} must be a mapping")
            return False
        for key, value in node.items():
            spec = schema.get(key)
            if spec is None:
                self.add(line_of(node, key), f"{where}: {unknown_key(str(key), schema)}")
                continue
            if value is None or value == "":
                if spec.required:
                    self.add(line_of(node, key), f"{where}: '{key}' is required")
                continue
            message = spec.check(key, value)
            if message is not None:
                self.add(line_of(node, key), f"{where}: {message}")
            elif spec.item is not None:
                for index, item in enumerate(value):
                    message = spec.item(f"{key}: each entry", item)
                    if message is not None:
                        self.add(line_at(value, index), f"{where}: {message}")
        for key in schema.required:
            if key not in node:
                self.add(line_of(node), f"{where}: '{key}' is required")
        return True

    def fields_ok(self, node: Any, schema: Schema, where: str) -> bool:
        """Check ``node`` against ``schema``; return True if it has no problems."""
        before = len(self.problems)
        return self.fields(node, schema, where) and len(self.problems) == before

    def number(self, node: Any, key: str, region: str, label: str) -> str | None:
        """Read the phone number at ``node[key]`` in ``region``; record it or its problem."""
        value = node.get(key)
        if not isinstance(value, str) or not value or phone(key, value) is not None:
            return None  # missing or not fit to read: the schema has said so
        line = line_of(node, key)
        try:
            e164 = to_e164(value, region)
        except PhoneNumberError as exc:
            self.add(line, f"{label}: bad phone number: {exc}")
            return None
        self.numbers.append((node, key, e164, line))
        return e164

    def reference(self, node: Any, key: str, known: Collection[str] | None, what: str) -> None:
        """Record a problem if ``node[key]`` names nothing in ``known``."""
        value = node.get(key)
        if known is not None and isinstance(value, str) and value and value not in known:
            self.add(line_of(node, key), f"{what} {shown(value)}")


def _where(kind: str, node: Any) -> str:
    value = node.get("code") if isinstance(node, Mapping) else None
    return f"{kind} {value}" if isinstance(value, str) and CODE_RE.match(value) else kind


@functools.lru_cache(maxsize=512)
def holiday_problem(country: str, subdivision: str | None) -> str | None:
    """Return why the holidays package has no such calendar, or None if it has one."""
    try:
        holidays.country_holidays(country, subdiv=subdivision)
    except (NotImplementedError, KeyError, ValueError) as exc:
        return f"unknown holiday calendar: {exc}"
    return None


def _region(node: Mapping[str, Any], key: str, default: str) -> str:
    value = node.get(key)
    return value if isinstance(value, str) and value else default


def inspect_service(node: Any, refs: Refs, report: Report) -> None:
    """Check the service block into ``report``."""
    if not report.fields(node, SERVICE, "service"):
        return
    region = _region(node, "default_region", refs.region)
    for key in ("emergency_number", "desk_number"):
        report.number(node, key, region, f"service {key}")
    country, subdivision = node.get("holiday_country"), node.get("holiday_subdivision")
    if isinstance(country, str) and country and isinstance(subdivision, str | None):
        found = holiday_problem(country, subdivision or None)
        if found is not None:
            report.add(line_of(node, "holiday_country"), f"service: {found}")
    if isinstance(node.get("prompts"), Mapping):
        report.fields(node["prompts"], PROMPTS, "service prompts")
    report.reference(
        node, "default_escalation_policy", refs.policies, "service: unknown escalation policy"
    )


def inspect_plan(node: Any, refs: Refs, report: Report) -> None:
    """Check a plan into ``report``."""
    where = _where("plan", node)
    if not report.fields(node, PLAN, where):
        return
    credit = node.get("credit")
    if isinstance(credit, Mapping) and report.fields_ok(credit, CREDIT, f"{where} credit"):
        try:
            parse_credit_rule(credit)
        except CreditRuleError as exc:
            report.add(line_of(node, "credit"), f"{where}: credit: {exc}")
        if not node.get("monthly_fee"):
            report.add(
                line_of(node, "credit"), f"{where}: a credit rule needs the plan's monthly_fee"
            )
    if isinstance(node.get("prompts"), Mapping):
        report.fields(node["prompts"], PROMPTS, f"{where} prompts")
    targets = node.get("targets")
    seen: dict[tuple[str, str], int] = {}
    for index, target in enumerate(targets if isinstance(targets, list) else []):
        if not isinstance(target, Mapping):
            report.add(line_at(targets, index), f"{where}: each target must be a mapping")
            continue
        if not report.fields_ok(target, TARGET, f"{where} target"):
            continue
        pair = (target["metric"], target["priority"])
        line = line_at(targets, index)
        if pair in seen:
            report.add(
                line, f"{where}: a second {pair[0]} target for {pair[1]} (line {seen[pair]})"
            )
        seen.setdefault(pair, line)


def inspect_analyst(node: Any, refs: Refs, report: Report) -> None:
    """Check an analyst into ``report``."""
    where = _where("analyst", node)
    if not report.fields(node, ANALYST, where):
        return
    for key in ("sms", "voice", "phone"):
        report.number(node, key, refs.region, f"{where} {key}")
    if not any(node.get(key) for key in ("sms", "voice", "phone")):
        report.add(line_of(node), f"{where}: needs a phone, sms or voice number to be paged")


def inspect_rotation(node: Any, refs: Refs, report: Report) -> None:
    """Check a rotation into ``report``."""
    where = _where("rotation", node)
    if not report.fields(node, ROTATION, where):
        return
    members = node.get("members")
    if refs.analysts is not None and isinstance(members, list):
        for index, member in enumerate(members):
            if isinstance(member, str) and member not in refs.analysts:
                report.add(line_at(members, index), f"{where}: unknown analyst {member!r}")


def policy_of_node(node: Mapping[str, Any]) -> Policy:
    """Return the escalation policy a directory entry describes; raise PolicyError if bad."""
    repeat = node.get("repeat")
    return policy_from_dict(
        {
            "name": str(node.get("name") or node.get("code") or ""),
            "repeat": 0 if repeat is None else repeat,
            "steps": node.get("steps") or [],
            "code": str(node.get("code") or ""),
        }
    )


def inspect_policy(node: Any, refs: Refs, report: Report) -> None:
    """Check an escalation policy into ``report``, with the engine's own rules."""
    where = _where("policy", node)
    if not report.fields_ok(node, POLICY, where):
        return
    steps = node["steps"]
    if not steps:
        report.add(line_of(node, "steps"), f"{where}: needs at least one step")
        return
    try:
        policy = policy_of_node(node)
    except PolicyError as exc:
        # The engine names the step it refuses; point at that step's line.
        found = _STEP_RE.search(str(exc))
        line = line_at(steps, int(found[1]) - 1) if found else line_of(node, "steps")
        report.add(line, f"{where}: {exc}")
        return
    for index, step in enumerate(policy.steps):
        for target in step.targets:
            kind = "analyst" if target.kind == "analyst" else "rotation"
            known = refs.analysts if kind == "analyst" else refs.rotations
            if known is not None and target.ref not in known:
                report.add(line_at(steps, index), f"{where}: unknown {kind} {target.ref!r}")


def inspect_customer(node: Any, refs: Refs, report: Report) -> None:
    """Check a customer and its contacts into ``report``."""
    where = _where("customer", node)
    if not report.fields(node, CUSTOMER, where):
        return
    report.reference(node, "plan", refs.plans, f"{where}: unknown plan")
    report.reference(
        node, "escalation_policy", refs.policies, f"{where}: unknown escalation policy"
    )
    hol = node.get("holidays")
    if isinstance(hol, Mapping) and report.fields_ok(hol, HOLIDAYS, f"{where} holidays"):
        found = holiday_problem(hol["country"], hol.get("subdivision") or None)
        if found is not None:
            report.add(line_of(node, "holidays"), f"{where}: {found}")
    if isinstance(node.get("prompts"), Mapping):
        report.fields(node["prompts"], PROMPTS, f"{where} prompts")
    report.number(node, "desk_number", refs.region, f"{where} desk_number")
    contacts = node.get("contacts")
    region = _region(node, "region", refs.region)
    for index, contact in enumerate(contacts if isinstance(contacts, list) else []):
        if not isinstance(contact, Mapping):
            report.add(line_at(contacts, index), f"{where}: each contact must be a mapping")
        elif report.fields(contact, CONTACT, f"{where} contact"):
            report.number(contact, "phone", region, f"{where} contact")


def _checked(inspect: Any, node: Any, refs: Refs | None) -> list[Problem]:
    report = Report()
    inspect(node, refs or Refs(), report)
    return sorted(report.problems, key=by_line)


def check_service(node: Any, refs: Refs | None = None) -> list[Problem]:
    """Return the problems of the service block."""
    return _checked(inspect_service, node, refs)


def check_plan(node: Any, refs: Refs | None = None) -> list[Problem]:
    """Return the problems of one plan."""
    return _checked(inspect_plan, node, refs)


def check_analyst(node: Any, refs: Refs | None = None) -> list[Problem]:
    """Return the problems of one analyst."""
    return _checked(inspect_analyst, node, refs)


def check_rotation(node: Any, refs: Refs | None = None) -> list[Problem]:
    """Return the problems of one rotation (members checked against ``refs.analysts``)."""
    return _checked(inspect_rotation, node, refs)


def check_policy(node: Any, refs: Refs | None = None) -> list[Problem]:
    """Return the problems of one escalation policy."""
    return _checked(inspect_policy, node, refs)


def check_customer(node: Any, refs: Refs | None = None) -> list[Problem]:
    """Return the problems of one customer and its contacts."""
    return _checked(inspect_customer, node, refs)
