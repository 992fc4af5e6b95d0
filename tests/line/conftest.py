"""Fixtures of the line tests: the example desk loaded, and a caller on the signed line."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import EXAMPLE_DIRECTORY
from tests.line_helpers import CallDriver
from voiceline import extensions
from voiceline.directory.checker import read_directory_file
from voiceline.directory.loader import load_directory


@pytest.fixture
def line(app: Flask) -> Flask:
    with extensions.database(app).session() as session:
        load_directory(session, read_directory_file(EXAMPLE_DIRECTORY))
    return app


@pytest.fixture
def caller(line: Flask, client: FlaskClient):
    return lambda number, **kw: CallDriver(client, number, **kw)
