"""Benchmarks of the caller-facing webhooks (measured by `make bench`, no timing asserts)."""

from __future__ import annotations

import itertools

import pytest
from flask import Flask

from tests.conftest import EXAMPLE_DIRECTORY
from tests.line_helpers import CallDriver
from voiceline import extensions
from voiceline.directory.checker import read_directory_file
from voiceline.directory.loader import load_directory

PAT = "+15035550111"
STRANGER = "+15035559999"
_n = itertools.count()


@pytest.fixture
def line(app: Flask) -> Flask:
    with extensions.database(app).session() as session:
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
