"""The service's currency: the money on the admin pages is written in it; a bad code is refused."""

from __future__ import annotations

from test_directory_strict import EXAMPLE, refusal

from voiceline.directory.checker import read_directory_text


def test_a_known_currency_is_read() -> None:
    data = read_directory_text(EXAMPLE.replace("service:\n", "service:\n  currency: EUR\n", 1))
    assert data["service"]["currency"] == "EUR"


def test_an_unknown_currency_is_refused_with_its_line() -> None:
    errors = refusal(EXAMPLE.replace("service:\n", "service:\n  currency: DOLLARS\n", 1))
    assert any(e.startswith("d.yaml:4:") and "currency code" in e for e in errors), errors
