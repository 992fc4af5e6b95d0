"""Helpers for admin page tests: create an admin, log in through the form, post forms
with the page's CSRF token, and read what the page shows."""

from __future__ import annotations

import copy
import functools
import html
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from tests.conftest import EXAMPLE_DIRECTORY
from voiceline.admin.models import AdminUser
from voiceline.db import Database
from voiceline.directory.checker import Node, read_directory_file
from voiceline.directory.loader import load_directory

ADMIN_USER = "admin"
ADMIN_PASSWORD = "correct horse battery staple"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def create_admin(
    database: Database, username: str = ADMIN_USER, password: str = ADMIN_PASSWORD
) -> None:
    """Create an admin login in ``database``.

    The stored hash is a cheap PBKDF2 one: checking it is the same code path as the
    production scrypt hash (werkzeug reads the method from the hash), a hundred times
    faster, which keeps a suite that logs in for every test quick.
    """
    with database.session() as session:
        session.add(
            AdminUser(
                username=username,
                password_hash=generate_password_hash(password, method="pbkdf2:sha256:1000"),
                created_at=datetime.now(UTC),
            )
        )


def csrf_token(client: FlaskClient, page: str = "/admin/login") -> str:
    """Return the CSRF token from a form on ``page``."""
    response = client.get(page)
    match = _CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {page} (status {response.status_code})"
    return match.group(1)


def log_in(
    client: FlaskClient,
    username: str = ADMIN_USER,
    password: str = ADMIN_PASSWORD,
    *,
    next_url: str | None = None,
    remote_addr: str = "127.0.0.1",
    forwarded_for: str | None = None,
) -> TestResponse:
    """Post the login form the way a browser would (through a proxy when ``forwarded_for``)."""
    token = csrf_token(client)
    data = {"csrf_token": token, "username": username, "password": password}
    if next_url is not None:
        data["next"] = next_url
    headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for}
    return client.post(
        "/admin/login", data=data, headers=headers, environ_base={"REMOTE_ADDR": remote_addr}
    )


def post_form(
    client: FlaskClient, path: str, data: Mapping[str, str], *, page: str = "/admin/"
) -> TestResponse:
    """POST ``data`` to ``path`` with the CSRF token found on ``page``."""
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def text_of(response: TestResponse) -> str:
    """Return the page's text with tags removed and entities decoded, whitespace collapsed."""
    body = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return " ".join(html.unescape(body).split())


@functools.cache
def _example_directory() -> Node:
    return read_directory_file(str(EXAMPLE_DIRECTORY))


def load_example_directory(database: Database) -> None:
    """Load ``examples/directory.yaml`` (the example support desk) into ``database``."""
    # Checking the file takes a quarter of a second: do it once, load a copy each time.
    with database.session() as session:
        load_directory(session, copy.deepcopy(_example_directory()))


def field_error(response: TestResponse, form: str, field: str) -> str | None:
    """Return the message shown next to ``field`` of ``form``, or None when there is none."""
    page = response.get_data(as_text=True)
    match = re.search(rf'<p class="field-error" id="{form}-{field}-error"[^>]*>([^<]*)</p>', page)
    if match is None:
        return None
    assert f'aria-describedby="{form}-{field}-error"' in page, "the message is not tied to a field"
    return html.unescape(match.group(1))
