"""Turn a browser form into a directory entry the checker reads, and its problems back
into messages beside the form's fields.

A directory entry read from YAML remembers the line of every key and item, and each
problem the checker finds carries the line it is about. An entry built here gets the
same shape: every key and item is given a line of its own, and the line remembers the
form field it came from. So the one checker (``voiceline.directory.entries``) runs on
form input unchanged, and each problem finds its way back to the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from voiceline.directory.reading import Node, Problem, Seq
from voiceline.errors import InvalidInput

# A place on a page: (form, field), as the admin/_forms.html macros name it.
Place = tuple[str, str]
Path = tuple[str | int, ...]
_WHOLE = re.compile(r"^-?\d{1,9}$")


@dataclass
class Errors:
    """A refused form's problems: every message, and each message beside its field."""

    messages: list[str] = field(default_factory=list)
    fields: dict[str, dict[str, str]] = field(default_factory=dict)

    def add(self, message: str, place: Place | None = None) -> None:
        """Add ``message``, beside the field at ``place`` when there is one."""
        self.messages.append(message)
        if place is not None:
            form, name = place
            here = self.fields.setdefault(form, {})
            here[name] = f"{here[name]} {message}" if name in here else message

    def __bool__(self) -> bool:
        return bool(self.messages)


class EntryRefused(InvalidInput):
    """An edit the checks refuse; ``errors`` holds every message and where it belongs."""

    def __init__(self, errors: Errors) -> None:
        super().__init__("; ".join(errors.messages))
        self.errors = errors


class Marked:
    """Build Node and Seq values whose lines stand for form fields."""

    def __init__(self, place_of: Callable[[Path], Place | None]) -> None:
        self.place_of = place_of
        self._places: dict[int, Place] = {}
        self._next = 0

    def _mark(self, path: Path) -> int:
        self._next += 1
        # A problem about a key or item inside a field belongs to the nearest named field.
        for end in range(len(path), 0, -1):
            place = self.place_of(path[:end])
            if place is not None:
                self._places[self._next] = place
                break
        return self._next

    def build(self, value: Any, path: Path = ()) -> Any:
        """Return ``value`` with every mapping a Node and every list a Seq, marked by path."""
        if isinstance(value, Mapping):
            node = Node()
            node.key_lines = {}
            node.line = self._mark(path)
            for key, item in value.items():
                node.key_lines[key] = self._mark((*path, key))
                node[key] = self.build(item, (*path, key))
            return node
        if isinstance(value, list):
            seq = Seq()
            seq.item_lines = []
            seq.line = self._mark(path)
            for index, item in enumerate(value):
                seq.item_lines.append(self._mark((*path, index)))
                seq.append(self.build(item, (*path, index)))
            return seq
        return value

    def place(self, problems: Iterable[Problem], errors: Errors) -> Errors:
        """Add each problem to ``errors``, beside the field its line stands for."""
        for problem in problems:
            errors.add(problem.message, self._places.get(problem.line))
        return errors


def text(form: Mapping[str, str], name: str) -> str:
    """Return the field ``name`` with surrounding spaces removed ("" when absent)."""
    return (form.get(name) or "").strip()


def flag(form: Mapping[str, str], name: str) -> bool:
    """Return whether the checkbox ``name`` was ticked."""
    return name in form


def whole_or_text(raw: str) -> int | str:
    """Return typed digits as a number (as YAML reads them), anything else as typed."""
    return int(raw) if _WHOLE.match(raw) else raw


def dates_or_text(raw: str) -> list[date | str]:
    """Return dates typed one per line or comma-separated; a non-date stays text."""
    items: list[date | str] = []
    for part in re.split(r"[\s,;]+", raw):
        if not part:
            continue
        try:
            items.append(date.fromisoformat(part))
        except ValueError:
            items.append(part)
    return items


def hours_value(raw: str) -> str | list[str]:
    """Return hours typed as windows separated by ';' or new lines, as the file writes them."""
    windows = [w.strip() for w in re.split(r"[;\n]", raw) if w.strip()]
    return windows[0] if len(windows) == 1 else windows


def hours_text(value: Any) -> str:
    """Return hours from an entry as one line for a text field."""
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return "" if value is None else str(value)


def overlay(
    current: Mapping[str, Any],
    given: Mapping[str, Any],
    defaults: Mapping[str, Any],
    required: Iterable[str] = (),
) -> dict[str, Any]:
    """Return ``current`` with the form's values put in, in the file's key order.

    A value left blank removes the key (the loader then uses its default), unless the
    key is required: then it stays blank for the checker to name. A value equal to its
    default for a key the entry did not have is left out too, so saving an untouched
    form adds nothing to the entry.
    """
    entry = dict(current)
    needed = set(required)
    for key, value in given.items():
        blank = value is None or value == "" or value == []
        if blank and key in needed:
            entry[key] = ""
        elif blank or (key not in current and key in defaults and value == defaults[key]):
            entry.pop(key, None)
        else:
            entry[key] = value
    return entry
