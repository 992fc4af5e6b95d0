"""Helpers for the directory editor's tests: fill in a page's form the way a browser
would (every field as shown, with some changed) and read what the database holds."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from html.parser import HTMLParser
from typing import Any

import yaml
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from voiceline.admin.models import AuditEntry
from voiceline.db import Database
from voiceline.directory.checker import read_directory_text
from voiceline.directory.dump import dump_directory
from voiceline.directory.loader import load_directory

Change = str | list[str] | None


class _Forms(HTMLParser):
    """Collect each form's successful controls, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, list[tuple[str, str]]] = {}
        self._action: str | None = None
        self._select: str | None = None
        self._selected: str | None = None
        self._first: str | None = None
        self._option: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._action = a.get("action", "")
            self.forms.setdefault(self._action, [])
        if self._action is None:
            return
        fields = self.forms[self._action]
        if tag == "input" and "name" in a:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select":
            self._select, self._selected, self._first = a.get("name"), None, None
        elif tag == "option" and self._select is not None:
            self._option = a.get("value")
            if self._first is None:
                self._first = self._option
            if "selected" in a:
                self._selected = self._option
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if self._action is None:
            return
        fields = self.forms[self._action]
        if tag == "select" and self._select is not None:
            chosen = self._selected if self._selected is not None else self._first
            fields.append((self._select, chosen or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None
        elif tag == "form":
            self._action = None


def form_fields(page: str, action: str) -> list[tuple[str, str]]:
    """Return the fields the form posting to ``action`` would submit as shown."""
    parser = _Forms()
    parser.feed(page)
    assert action in parser.forms, f"no form posts to {action}: {sorted(parser.forms)}"
    return parser.forms[action]


def submit(
    client: FlaskClient, page: str, action: str, changes: Mapping[str, Change] | None = None
) -> TestResponse:
    """Open ``page``, change some fields of the form posting to ``action``, and post it.

    A change to None leaves the field out (an unticked box); a list gives it each value.
    """
    shown = client.get(page)
    assert shown.status_code == 200, (page, shown.status_code)
    fields = form_fields(shown.get_data(as_text=True), action)
    changes = dict(changes or {})
    data: list[tuple[str, str]] = [(k, v) for k, v in fields if k not in changes]
    for key, value in changes.items():
        if isinstance(value, list):
            data.extend((key, item) for item in value)
        elif value is not None:
            data.append((key, value))
    body: dict[str, Any] = {}
    for key, value in data:
        body.setdefault(key, []).append(value)
    return client.post(action, data=body)


def directory_state(database: Database) -> tuple[dict[str, Any], int]:
    """Return the directory as dumped and how many audit entries there are."""
    with database.session() as session:
        return dump_directory(session), session.scalar(select(func.count(AuditEntry.id))) or 0


def audit_entries(database: Database, action: str) -> list[AuditEntry]:
    """Return the audit entries for ``action``, oldest first."""
    with database.session() as session:
        query = select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)
        return list(session.scalars(query))


def entry(dump: Mapping[str, Any], section: str, code: str) -> dict[str, Any]:
    """Return one entry of a dumped directory by its code."""
    found = [e for e in dump[section] if e["code"] == code]
    assert len(found) == 1, (section, code)
    return dict(found[0])


def as_yaml_load_would(
    database: Database, section: str, code: str, edit: Callable[[dict[str, Any]], None]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the directory before, and after loading its own YAML with one entry edited.

    The file is the export with ``edit`` applied to one entry, read and checked the way
    ``voiceline directory load`` reads it, and loaded in a transaction that is rolled
    back: the database is left as it was.
    """
    session = database.sessions()
    try:
        before = dump_directory(session)
        edited = copy.deepcopy(before)
        (target,) = [e for e in edited[section] if e["code"] == code]
        edit(target)
        load_directory(session, read_directory_text(yaml.safe_dump(edited, sort_keys=False)))
        return before, dump_directory(session)
    finally:
        session.rollback()
        session.close()
