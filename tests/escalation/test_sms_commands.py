"""SMS replies from analysts, the help reply and its rate limit, and the page SMS text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escalation.errors import StateError
from escalation.sms_commands import (
    GSM7_BASIC,
    SMS_LIMIT,
    Command,
    help_text,
    page_sms_text,
    parse_reply,
    should_send_help,
    to_gsm7,
)


@pytest.mark.parametrize(
    ("body", "command"),
    [
        ("A", Command("ack")),
        ("a", Command("ack")),
        ("ACK", Command("ack")),
        ("Ack.", Command("ack")),
        ("ack 12", Command("ack", 12)),
        ("12 A", Command("ack", 12)),
        ("A12", Command("ack", 12)),
        ("12A", Command("ack", 12)),
        ("12a", Command("ack", 12)),
        (" Ack  #12 ", Command("ack", 12)),
        ("#12 ack", Command("ack", 12)),
        ("ACK\n12", Command("ack", 12)),
        ("C", Command("callback")),
        ("c 12", Command("callback", 12)),
        ("C 12", Command("callback", 12)),
        ("12c!", Command("callback", 12)),
        ("E", Command("escalate")),
        ("E12", Command("escalate", 12)),
        ("e #7", Command("escalate", 7)),
        ("STOP", Command("stop")),
        ("stop", Command("stop")),
        (" Stop ", Command("stop")),
        ("STOPALL", Command("stop")),
        ("unsubscribe", Command("stop")),
        ("CANCEL", Command("stop")),
        ("End", Command("stop")),
        ("QUIT", Command("stop")),
        ("REVOKE", Command("stop")),
        ("OPTOUT", Command("stop")),
        ("START", Command("start")),
        ("yes", Command("start")),
        ("UNSTOP", Command("start")),
        ("HELP", Command("help")),
        ("info", Command("help")),
    ],
)
def test_parse_reply_understands_commands(body: str, command: Command) -> None:
    assert parse_reply(body) == command


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   ",
        "B",
        "AC",
        "ACKNOWLEDGE",
        "12",
        "#12",
        "12 A 13",
        "A 12 13",
        "0A",
        "A0",
        "1234567890A",
        "please stop",
        "STOP ALL",
        "stop!",
        "ok thanks",
        "A-12",
        "\U0001f44d",
        "A\u0661",  # ARABIC-INDIC DIGIT ONE: a digit, but not one of ours
        "\u0661\u0662C",
        "E \uff13",  # FULLWIDTH DIGIT THREE
        "ACK \u00b2",
        "ACK 99999999999999999999",
    ],
)
def test_parse_reply_leaves_everything_else_unknown(body: str) -> None:
    assert parse_reply(body) == Command("unknown")


@given(st.text(max_size=40))
def test_an_incident_number_is_ascii_digits_that_fit_a_column(body: str) -> None:
    number = parse_reply(body).incident_number
    if number is not None:
        assert 0 < number < 10**9
        assert str(number) in body


@given(st.text(max_size=40))
def test_parse_reply_never_raises(body: str) -> None:
    assert parse_reply(body).kind in {
        "ack",
        "callback",
        "escalate",
        "stop",
        "start",
        "help",
        "unknown",
    }


def test_help_text_is_one_gsm7_segment_and_names_the_replies() -> None:
    text = help_text()
    assert len(text) <= SMS_LIMIT
    assert set(text) <= GSM7_BASIC
    for word in ("A to acknowledge", "C once you have called back", "E to escalate", "STOP"):
        assert word in text


NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("minutes_ago", "allowed"),
    [
        ([], True),
        ([1], True),
        ([1, 2], True),
        ([1, 2, 3], False),
        ([59, 30, 1], False),
        ([61, 30, 1], True),  # the first fell out of the hour
        ([60, 30, 1], True),  # exactly an hour ago is out of the window
        ([90, 120, 180, 240], True),
    ],
)
def test_help_replies_are_rate_limited(minutes_ago: list[int], allowed: bool) -> None:
    previous = [NOW - timedelta(minutes=m) for m in minutes_ago]
    assert should_send_help(previous, NOW) is allowed


def test_help_rate_limit_refuses_naive_times() -> None:
    with pytest.raises(StateError, match="timezone-aware"):
        should_send_help([], NOW.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("text", "gsm"),
    [
        ("Crème brûlée", "Crème brulée"),  # è and é are GSM, û is not
        ("“Quoted” – dash… ‘x’", "\"Quoted\" - dash... 'x'"),
        ("Łódź", "Lodz"),
        ("Straße Ärger Ñu", "Straße Ärger Ñu"),
        ("Server [down] {now} | 50€ ~ ^", "Server (down) (now) / 50EUR -"),
        ("line1\nline2\tend", "line1 line2 end"),
        ("fine \U0001f525 thanks", "fine thanks"),
        ("ﬁle", "file"),
        ("Δ Ω @ £ ¥", "Δ Ω @ £ ¥"),
        ("日本", ""),
    ],
)
def test_to_gsm7_transliterates_and_strips(text: str, gsm: str) -> None:
    assert to_gsm7(text) == gsm


@given(st.text(max_size=200))
def test_to_gsm7_output_is_always_gsm7(text: str) -> None:
    assert set(to_gsm7(text)) <= GSM7_BASIC


def test_page_sms_text_layout() -> None:
    text = page_sms_text("Acme Dental", "Jane Doe", "emergency", 12, "Phones down, no dial tone")
    assert text == (
        "#12 EMERGENCY Acme Dental - Jane Doe: Phones down, no dial tone."
        " Reply 12A ack, 12C called back, 12E escalate"
    )
    # The reply options in the text are ones parse_reply understands.
    assert parse_reply("12A") == Command("ack", 12)
    assert parse_reply("12C") == Command("callback", 12)
    assert parse_reply("12E") == Command("escalate", 12)


def test_page_sms_text_shortens_the_summary_to_fit_one_segment() -> None:
    summary = "The whole phone system is down since 2am, " * 10
    text = page_sms_text("Acme Dental", "Jane Doe +15035550100", "emergency", 4711, summary)
    assert SMS_LIMIT - 3 <= len(text) <= SMS_LIMIT  # the summary uses the room there is
    assert "..." in text
    assert text.startswith("#4711 EMERGENCY Acme Dental - Jane Doe +15035550100: The whole")
    assert text.endswith("Reply 4711A ack, 4711C called back, 4711E escalate")


def test_page_sms_text_replaces_non_gsm_characters() -> None:
    text = page_sms_text("Zoë’s Café", "Łukasz", "emergency", 3, "“Down” — call 📞 now")
    assert set(text) <= GSM7_BASIC
    assert "Zoe's Café - Lukasz" in text
    assert '"Down" - call now' in text


def test_page_sms_text_without_caller_or_summary() -> None:
    text = page_sms_text("", "", "emergency", 5, "")
    assert text == "#5 EMERGENCY unknown caller. Reply 5A ack, 5C called back, 5E escalate"


@given(
    customer=st.text(max_size=300),
    caller=st.text(max_size=300),
    priority=st.text(max_size=40),
    number=st.integers(min_value=1, max_value=999_999_999),
    summary=st.text(max_size=1000),
)
def test_page_sms_text_always_fits_one_gsm7_segment(
    customer: str, caller: str, priority: str, number: int, summary: str
) -> None:
    text = page_sms_text(customer, caller, priority, number, summary)
    assert len(text) <= SMS_LIMIT
    assert set(text) <= GSM7_BASIC
    assert text.startswith(f"#{number} ")
    assert text.endswith(f"Reply {number}A ack, {number}C called back, {number}E escalate")


@pytest.mark.parametrize("number", [0, -3, 10**9, True])
def test_page_sms_text_refuses_bad_short_numbers(number: int) -> None:
    with pytest.raises(ValueError, match="short number"):
        page_sms_text("Acme", "Jane", "emergency", number, "down")
