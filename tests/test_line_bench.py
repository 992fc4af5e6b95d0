"""Benchmarks of the caller-facing webhooks (measured by `make bench`, no timing asserts)."""

from __future__ import annotations

import itertools

import pytest
from flask import Flask

from tests.conftest import EXAMPLE_DIRECTORY
from tests.line_helpers import CallDriver
from voiceline.db import get_database
from voiceline.directory import load_directory
from voiceline.directory_file import read_directory_file

PAT = "+15035550111"
STRANGER = "+15035559999"
_n = itertools.count()


@pytest.fixture
def line(app: Flask) -> Flask:
    with get_database(app).session() as session:
        load_directory(session, read_directory_file(EXAMPLE_DIRECTORY))
    return app


def test_answering_a_known_caller(benchmark, line, client) -> None:
    def answer() -> None:
        CallDriver(client, PAT, call_sid=f"CA{next(_n):032x}").dial()

    benchmark(answer)


def test_answering_an_unknown_caller(benchmark, line, client) -> None:
    def answer() -> None:
        CallDriver(client, STRANGER, call_sid=f"CA{next(_n):032x}").dial()

    benchmark(answer)
