"""The audit log speaks in sentences, one for every action the code writes.

The actions are found in the source, not listed by hand: every ``audit.record(...)`` and
``AuditEntry(...)`` call, its action followed back through variables, conditionals,
the parameters of helpers that pass it on (``save(action=...)``, ``_audit(...)``) and
f-strings over a module's ``ACTIONS``. A new action without a sentence, or one written
in a way this cannot follow, fails here.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from voiceline.admin.audit_words import SENTENCES, sentence, value_text

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("voiceline", "oncall", "escalation", "webhooks")
LA = "America/Los_Angeles"


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    tree: ast.Module


def _modules() -> list[Module]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found.append(Module(name, path, ast.parse(path.read_text(), str(path))))
    return found


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _enclosing_function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.FunctionDef | None:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef):
            return node
    return None


def _call_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _argument(call: ast.Call, position: int | None, keyword: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    if position is not None and position < len(call.args):
        return call.args[position]
    return None


class Actions:
    """Follows each audit call's action back to the strings it can be."""

    def __init__(self) -> None:
        self.modules = _modules()
        self.parents = {m.name: _parents(m.tree) for m in self.modules}
        self.found: dict[str, list[str]] = {}  # action -> where
        self.unfollowed: list[str] = []

    def collect(self) -> dict[str, list[str]]:
        for module in self.modules:
            for node in ast.walk(module.tree):
                if not isinstance(node, ast.Call):
                    continue
                name = _call_name(node)
                is_record = (
                    name == "record"
                    and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "audit"
                )
                if is_record:
                    self._follow(module, node, _argument(node, 2, "action"))
                elif name == "AuditEntry" and module.name != "voiceline.admin.audit":
                    # (audit.record itself builds one from the action it is given)
                    self._follow(module, node, _argument(node, None, "action"))
        return self.found

    def _where(self, module: Module, node: ast.AST) -> str:
        return f"{module.path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"

    def _follow(self, module: Module, at: ast.AST, expr: ast.expr | None, depth: int = 0) -> None:
        where = self._where(module, at)
        if expr is None or depth > 5:
            self.unfollowed.append(where)
        elif isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            if expr.value:  # "" is passed where the caller records the change itself
                self.found.setdefault(expr.value, []).append(where)
        elif isinstance(expr, ast.IfExp):
            self._follow(module, at, expr.body, depth + 1)
            self._follow(module, at, expr.orelse, depth + 1)
        elif isinstance(expr, ast.JoinedStr):
            self._expand(module, at, expr)
        elif isinstance(expr, ast.Name):
            self._name(module, at, expr.id, depth)
        else:
            self.unfollowed.append(where)

    def _expand(self, module: Module, at: ast.AST, expr: ast.JoinedStr) -> None:
        """Expand f"prefix{action}" over the module's ACTIONS (the values a route accepts)."""
        parts = [v for v in expr.values if isinstance(v, ast.FormattedValue)]
        choices = getattr(importlib.import_module(module.name), "ACTIONS", None)
        if len(parts) != 1 or not choices:
            self.unfollowed.append(self._where(module, at))
            return
        for choice in choices:
            text = "".join(
                str(choice) if isinstance(v, ast.FormattedValue) else str(v.value)  # type: ignore[attr-defined]
                for v in expr.values
            )
            self.found.setdefault(text, []).append(self._where(module, at))

    def _name(self, module: Module, at: ast.AST, name: str, depth: int) -> None:
        function = _enclosing_function(at, self.parents[module.name])
        if function is None:
            self.unfollowed.append(self._where(module, at))
            return
        assigned = [
            node.value
            for node in ast.walk(function)
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        ]
        if assigned:
            for value in assigned:
                self._follow(module, at, value, depth + 1)
            return
        params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
        keyword_only = [a.arg for a in function.args.kwonlyargs]
        if name not in params and name not in keyword_only:
            self.unfollowed.append(self._where(module, at))
            return
        position = params.index(name) if name in params else None
        callers = [
            (other, node)
            for other in self.modules
            for node in ast.walk(other.tree)
            if isinstance(node, ast.Call) and _call_name(node) == function.name
        ]
        if not callers:
            self.unfollowed.append(self._where(module, at))
        for other, call in callers:
            self._follow(other, call, _argument(call, position, name), depth + 1)


@pytest.fixture(scope="module")
def written() -> dict[str, list[str]]:
    actions = Actions()
    found = actions.collect()
    assert not actions.unfollowed, f"audit actions this test cannot follow: {actions.unfollowed}"
    return found


def test_the_search_finds_the_actions_of_every_area(written: dict[str, list[str]]) -> None:
    # Literal, conditional, passed through a helper, and built in an f-string: all found.
    assert {
        "login",
        "directory.load",
        "plan_updated",
        "customer_created",
        "contact_added",
        "spool_entry_set_aside",
        "sla_pause",
        "incident_acknowledge",
        "override_added",
    } <= set(written)


def test_every_action_the_code_writes_has_its_own_sentence(written: dict[str, list[str]]) -> None:
    missing = {action: where for action, where in written.items() if action not in SENTENCES}
    assert not missing, f"add a sentence to voiceline/admin/audit_words.py for: {missing}"


def test_no_sentence_shows_python_or_a_machine_stamp(written: dict[str, list[str]]) -> None:
    # Every action with every kind of detail the code stores: nested changes, lists,
    # steps as dicts, stamps, numbers, booleans and None.
    detail: dict[str, Any] = {
        "ip": "127.0.0.1",
        "kind": "page_failed",
        "message": "Nobody could be paged",
        "bytes": 2048,
        "file": "directory.yaml",
        "sha256": "ab" * 32,
        "created": ["plan gold"],
        "updated": ["customer acme", "policy standard"],
        "contact": "Pat Jones",
        "name": {"from": "Old", "to": "New"},
        "phone": {"from": "+15035550111", "to": "+15035550112"},
        "steps": {"from": [{"targets": ["tier1"], "channels": ["sms"], "delay": "5m"}], "to": []},
        "after_hours_cover": {"from": False, "to": True},
        "monthly_fee": {"from": None, "to": "1500.00"},
        "role": None,
        "kept": "/var/spool/set-aside/x.json",
        "effective_at": "2026-11-28T21:04:00+00:00",
        "reason": "waiting for access",
        "analyst": "alex",
        "replaces": None,
        "members": {"from": ["alex", "sam"], "to": ["sam", "alex"]},
        "start": "2026-11-28T21:00:00+00:00",
        "end": "2026-11-29T05:00:00Z",
        "note": None,
        "text": "Called the customer",
        "channel": "sms",
        "to": "+15035550201",
        "sid": "SM" + "0" * 32,
        "error": "HTTP 500",
    }
    for action in written:
        text = sentence("alex", action, "rotation tier1", detail, LA)
        assert text.startswith("Admin alex "), (action, text)
        for leak in ("{'", "['", "datetime.", "None", "True", "False", "+00:00", "T21:0"):
            assert leak not in text, (action, leak, text)


def test_the_sentences_say_what_changed_in_words() -> None:
    changed = {"callback_target": {"from": "30m", "to": "20m"}}
    assert (
        sentence("alex", "plan_updated", "plan pro", changed, LA)
        == "Admin alex changed plan pro: callback target 30m → 20m"
    )
    override = {
        "analyst": "jordan",
        "replaces": "alex",
        "start": "2026-11-28T02:00:00+00:00",
        "end": "2026-11-28T16:00:00+00:00",
        "note": "swap",
    }
    assert sentence("alex", "override_added", "rotation tier1", override, LA) == (
        "Admin alex added an override to rotation tier1: jordan for alex, "
        "Fri 27 Nov 2026 18:00 PST to Sat 28 Nov 2026 08:00 PST (swap)"
    )
    assert (
        sentence("anonymous", "login_failed", "admin bob", {"ip": "10.0.0.9"}, LA)
        == "Someone failed to log in as admin bob from 10.0.0.9"
    )
    assert (
        sentence(
            "cli", "directory.load", "directory", {"created": ["plan gold"], "updated": []}, LA
        )
        == "The command line loaded the directory: created plan gold"
    )
    member = {"analyst": "jordan", "members": {"from": ["alex"], "to": ["alex", "jordan"]}}
    assert sentence("alex", "member_added", "rotation tier1", member, LA) == (
        "Admin alex added jordan to rotation tier1; turn order alex → alex, jordan"
    )
    contact = {"contact": "Pat Jones", "phone": {"from": "+15035550111", "to": "+15035550112"}}
    assert sentence("alex", "contact_updated", "customer acme", contact, LA) == (
        "Admin alex changed contact Pat Jones of customer acme: phone +1 503-555-0111 → +1 503-555-0112"
    )


def test_an_unknown_action_from_an_older_release_is_still_a_sentence() -> None:
    text = sentence("alex", "rota_frozen", "rotation tier1", {"until": {"from": None, "to": 3}}, LA)
    assert text == "Admin alex: rota frozen, rotation tier1: until 3"


def test_values_are_written_in_the_zone_given() -> None:
    at = datetime(2026, 11, 28, 21, 4, tzinfo=UTC)
    assert value_text(at.isoformat(), LA) == "Sat 28 Nov 2026 13:04 PST"
    assert value_text(at, "Europe/London") == "Sat 28 Nov 2026 21:04 GMT"
    assert re.fullmatch(r"[^\[\]{}']+", value_text([{"a": 1}, {"b": [2, 3]}], LA))
