"""Fixtures for the directory editor's tests: a logged-in admin over the example desk."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.admin_helpers import create_admin, load_example_directory, log_in
from voiceline.db import Database


@pytest.fixture
def editor(client: FlaskClient, database: Database) -> FlaskClient:
    """Return a client logged in as an admin, over the example support desk."""
    load_example_directory(database)
    create_admin(database)
    assert log_in(client).status_code == 302
    return client
