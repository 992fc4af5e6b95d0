"""The admin pages' one way of writing times, money, durations, numbers and SLA words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, render_template_string

from voiceline.admin.formatting import (
    TERMS,
    FormattingError,
    duration,
    iso,
    moment,
    money,
    phone,
    stamps_in,
    term,
    when,
    zone_label,
)

LA = "America/Los_Angeles"


@pytest.mark.parametrize(
    ("at", "zone", "seconds", "written"),
    [
        (datetime(2026, 11, 22, 10, 30, tzinfo=UTC), LA, False, "Sun 22 Nov 2026 02:30 PST"),
        (datetime(2026, 11, 22, 10, 30, 7, tzinfo=UTC), LA, True, "Sun 22 Nov 2026 02:30:07 PST"),
        # Either side of the spring-forward hour in Oregon (2026-03-08 02:00 PST).
        (datetime(2026, 3, 8, 9, 59, tzinfo=UTC), LA, False, "Sun 08 Mar 2026 01:59 PST"),
        (datetime(2026, 3, 8, 10, 0, tzinfo=UTC), LA, False, "Sun 08 Mar 2026 03:00 PDT"),
        # The autumn hour that happens twice: told apart by the abbreviation.
        (datetime(2026, 11, 1, 8, 30, tzinfo=UTC), LA, False, "Sun 01 Nov 2026 01:30 PDT"),
        (datetime(2026, 11, 1, 9, 30, tzinfo=UTC), LA, False, "Sun 01 Nov 2026 01:30 PST"),
        (
            datetime(2026, 7, 1, 12, 0, tzinfo=UTC),
            "Europe/London",
            False,
            "Wed 01 Jul 2026 13:00 BST",
        ),
        (
            datetime(2026, 12, 31, 23, 0, tzinfo=UTC),
            "Asia/Tokyo",
            False,
            "Fri 01 Jan 2027 08:00 JST",
        ),
        (
            datetime(2026, 11, 22, 10, 30, tzinfo=ZoneInfo(LA)),
            None,
            False,
            "Sun 22 Nov 2026 18:30 UTC",
        ),
        (None, LA, False, ""),
    ],
)
def test_one_date_format_in_the_zone_that_matters(
    at: datetime | None, zone: str | None, seconds: bool, written: str
) -> None:
    assert when(at, zone, seconds=seconds) == written


def test_a_naive_time_or_an_unknown_zone_is_refused() -> None:
    with pytest.raises(FormattingError, match="naive"):
        when(datetime(2026, 11, 22, 10, 30), LA)
    with pytest.raises(FormattingError, match="unknown time zone 'Mars/Olympus'"):
        when(datetime(2026, 11, 22, 10, 30, tzinfo=UTC), "Mars/Olympus")


def test_machines_get_iso_and_people_get_the_zone_named() -> None:
    at = datetime(2026, 11, 22, 2, 30, tzinfo=ZoneInfo(LA))
    assert iso(at) == "2026-11-22T10:30:00Z"
    assert iso(None) == ""
    assert zone_label(LA, at) == "America/Los_Angeles (PST)"
    assert zone_label(LA, datetime(2026, 7, 1, tzinfo=UTC)) == "America/Los_Angeles (PDT)"


@pytest.mark.parametrize(
    ("amount", "currency", "written"),
    [
        (Decimal("1500"), "USD", "$1,500.00"),
        ("150.5", "USD", "$150.50"),
        ("150.00", "eur", "€150.00"),
        ("99.99", "GBP", "£99.99"),
        ("1500", "JPY", "¥1,500"),
        ("20", "CAD", "CA$20.00"),
        (0, None, "$0.00"),
        ("-12.30", "USD", "-$12.30"),
        ("1.00", "XYZ", "1.00 XYZ"),
        (None, "USD", ""),
    ],
)
def test_money_is_written_with_its_currency(
    amount: Decimal | str | int | None, currency: str | None, written: str
) -> None:
    assert money(amount, currency) == written


def test_something_that_is_not_money_is_refused() -> None:
    with pytest.raises(FormattingError, match="not an amount of money"):
        money("ten dollars", "USD")


@pytest.mark.parametrize(
    ("length", "written"),
    [
        (0, "0 s"),
        (8, "8 s"),
        (8.4, "8 s"),
        (74, "1 min 14 s"),
        (1800, "30 min"),
        (3600, "1 h"),
        (3725, "1 h 2 min"),  # seconds do not matter beside hours
        (90061, "1 d 1 h 1 min"),
        (timedelta(minutes=-5), "-5 min"),
        (timedelta(days=14), "14 d"),
        (None, ""),
    ],
)
def test_durations_read_like_people_say_them(
    length: timedelta | float | None, written: str
) -> None:
    assert duration(length) == written


def test_numbers_are_written_internationally() -> None:
    assert phone("+15035550111") == "+1 503-555-0111"
    assert phone("+442079460321") == "+44 20 7946 0321"
    assert phone(None) == ""


def test_sla_terms_have_plain_words_and_keep_the_technical_one() -> None:
    assert term("breached").plain == "promise missed"
    assert term("breached").technical == "SLA breached"
    assert all(t.plain and t.technical and t.plain != t.technical for t in TERMS.values())
    with pytest.raises(FormattingError, match="no plain word for 'uptime'"):
        term("uptime")


def test_every_admin_template_can_use_them(app: Flask) -> None:
    at = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
    with app.test_request_context("/admin/"):
        out = render_template_string(
            "{{ at | when(zone) }}|{{ at | time_tag(zone, true) }}|{{ '150' | money('EUR') }}|"
            "{{ 75 | duration }}|{{ '+15035550111' | phone }}|{{ zone | zone_label(at) }}|"
            "{{ term('deadline') }}",
            at=at,
            zone=LA,
        )
    assert out.split("|") == [
        "Sun 22 Nov 2026 02:30 PST",
        '<time datetime="2026-11-22T10:30:00Z" title="Sun 22 Nov 2026 10:30:00 UTC">'
        "Sun 22 Nov 2026 02:30:00 PST</time>",
        "€150.00",
        "1 min 15 s",
        "+1 503-555-0111",
        "America/Los_Angeles (PST)",
        '<span class="term" title="SLA deadline">callback due</span>',
    ]


def test_logged_text_gets_its_stamps_written_for_people() -> None:
    logged = "step 1 of pass 1: paging sam by sms+voice; due 2026-11-22T10:15:00+00:00"
    assert stamps_in(logged, LA) == (
        "step 1 of pass 1: paging sam by sms+voice; due Sun 22 Nov 2026 02:15:00 PST"
    )
    assert stamps_in("from 2026-11-22T10:15:00.123456Z to 2026-11-22T11:00Z", UTC) == (
        "from Sun 22 Nov 2026 10:15:00 UTC to Sun 22 Nov 2026 11:00:00 UTC"
    )
    assert stamps_in("hours 07:00-23:00, no stamp", LA) == "hours 07:00-23:00, no stamp"
    assert moment("2026-11-22T10:15:00+00:00") == datetime(2026, 11, 22, 10, 15, tzinfo=UTC)
    assert moment("") is None and moment(None) is None
    with pytest.raises(FormattingError, match="not a time"):
        moment("yesterday")
    # a stored stamp (a spool entry's) is written like any other time
    assert when("2026-11-22T10:15:00+00:00", LA) == "Sun 22 Nov 2026 02:15 PST"


def test_a_term_can_open_a_sentence_or_a_column() -> None:
    app = Flask(__name__)
    from voiceline.admin import filters  # noqa: F401  (registers the filters on the blueprint)
    from voiceline.admin.blueprint import bp

    app.register_blueprint(bp)
    with app.test_request_context():
        html = render_template_string("{{ term('breached', true) }} / {{ term('met') }}")
    assert html == (
        '<span class="term" title="SLA breached">Promise missed</span> / '
        '<span class="term" title="SLA met">promise kept</span>'
    )
