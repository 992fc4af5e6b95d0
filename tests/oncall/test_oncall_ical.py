"""iCalendar feeds: parsed back with icalendar, UTC instants, stable UIDs, per-analyst views."""

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from oncall.ical import analyst_feed, rotation_feed
from oncall.rotation import NaiveTimeError, Rotation, parse_shift_length
from oncall.schedule import Layer, Override, Schedule
from voiceline.hours import parse_hours

LA = "America/Los_Angeles"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
WEEKLY = Rotation(
    "Tier 1", LA, ("Alex", "Bo", "Cy"), parse_shift_length("1w"), datetime(2026, 1, 5, 8)
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def events(feed: bytes) -> list[tuple[str, datetime, datetime]]:
    cal = Calendar.from_ical(feed)
    return [
        (str(e["SUMMARY"]), e.decoded("DTSTART"), e.decoded("DTEND")) for e in cal.walk("VEVENT")
    ]


def uids(feed: bytes) -> dict[tuple[datetime, datetime], str]:
    cal = Calendar.from_ical(feed)
    return {(e.decoded("DTSTART"), e.decoded("DTEND")): str(e["UID"]) for e in cal.walk("VEVENT")}


def test_rotation_feed_lists_whole_turns_in_utc() -> None:
    feed = rotation_feed(WEEKLY, utc(2026, 3, 2), utc(2026, 3, 23), now=NOW)
    assert events(feed) == [
        ("On call: Bo (Tier 1)", utc(2026, 2, 23, 16), utc(2026, 3, 2, 16)),  # straddles the start
        ("On call: Cy (Tier 1)", utc(2026, 3, 2, 16), utc(2026, 3, 9, 15)),  # 167 h: spring-forward
        ("On call: Alex (Tier 1)", utc(2026, 3, 9, 15), utc(2026, 3, 16, 15)),
        ("On call: Bo (Tier 1)", utc(2026, 3, 16, 15), utc(2026, 3, 23, 15)),  # straddles the end
    ]
    cal = Calendar.from_ical(feed)
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]) == "-//Voiceline//On call//EN"
    assert str(cal["X-WR-CALNAME"]) == "On call: Tier 1"
    assert str(cal["X-WR-TIMEZONE"]) == LA
    for event in cal.walk("VEVENT"):
        assert event.decoded("DTSTAMP") == NOW
        assert str(event["TRANSP"]) == "TRANSPARENT"
        assert str(event["UID"]).endswith("@voiceline")
        assert str(event["DESCRIPTION"]) == "Rotation turn, schedule Tier 1"
    assert len({str(e["UID"]) for e in cal.walk("VEVENT")}) == 4


def test_feed_text_is_what_calendar_clients_import() -> None:
    feed = rotation_feed(WEEKLY, utc(2026, 3, 2), utc(2026, 3, 9), now=NOW, calname="Desk rota")
    text = feed.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "\r\nDTSTART:20260302T160000Z\r\n" in text
    assert "\r\nDTEND:20260309T150000Z\r\n" in text
    assert "\r\nX-WR-CALNAME:Desk rota\r\n" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def test_uids_stay_the_same_as_the_range_slides_and_time_passes() -> None:
    first = rotation_feed(WEEKLY, utc(2026, 3, 2), utc(2026, 3, 23), now=NOW)
    later = rotation_feed(
        WEEKLY, utc(2026, 3, 5, 7, 13), utc(2026, 3, 26), now=NOW + timedelta(days=4)
    )
    before, after = uids(first), uids(later)
    shared = set(before) & set(after)
    assert len(shared) == 3  # Cy, Alex and Bo's turns appear whole in both
    assert all(before[key] == after[key] for key in shared)
    assert len(set(before.values()) | set(after.values())) == len(set(before) | set(after))


def test_schedule_feed_shows_overrides_and_restricted_layers() -> None:
    nights = Layer(
        "after-hours",
        WEEKLY,
        parse_hours(
            ["mon-thu 16:30-08:00", "fri 16:30-24:00", "sat-sun 00:00-24:00", "mon 00:00-08:00"]
        ),
    )
    ivy = Override("Ivy", utc(2026, 3, 10, 4), utc(2026, 3, 10, 10), replaces="Alex")
    schedule = Schedule("Tier 1", LA, (nights,), (ivy,))
    feed = rotation_feed(schedule, utc(2026, 3, 9, 7), utc(2026, 3, 11, 7), now=NOW)
    assert events(feed) == [
        ("On call: Cy (Tier 1)", utc(2026, 3, 7, 0, 30), utc(2026, 3, 9, 15)),  # Fri to Mon
        ("On call: Alex (Tier 1)", utc(2026, 3, 9, 23, 30), utc(2026, 3, 10, 4)),
        ("On call: Ivy (Tier 1)", utc(2026, 3, 10, 4), utc(2026, 3, 10, 10)),
        ("On call: Alex (Tier 1)", utc(2026, 3, 10, 10), utc(2026, 3, 10, 15)),
        ("On call: Alex (Tier 1)", utc(2026, 3, 10, 23, 30), utc(2026, 3, 11, 15)),
    ]
    descriptions = [str(e["DESCRIPTION"]) for e in Calendar.from_ical(feed).walk("VEVENT")]
    assert descriptions[2] == "Override in layer after-hours, schedule Tier 1"
    assert descriptions[1] == "Rotation turn in layer after-hours, schedule Tier 1"


def test_analyst_feed_has_only_that_analysts_shifts_across_schedules() -> None:
    tier2 = Rotation(
        "Tier 2",
        "Europe/Berlin",
        ("Dee", "Alex"),
        parse_shift_length("12h"),
        datetime(2026, 10, 1, 8),
    )
    cover = Override("Alex", utc(2026, 10, 24, 21), utc(2026, 10, 24, 23))  # during Cy's week
    tier1 = Schedule("Tier 1", LA, (Layer("tier 1", WEEKLY),), (cover,))
    feed = analyst_feed("Alex", [tier1, tier2], utc(2026, 10, 24), utc(2026, 10, 27), now=NOW)
    assert events(feed) == [
        ("On call: Alex (Tier 2)", utc(2026, 10, 23, 18), utc(2026, 10, 24, 6)),
        ("On call: Alex (Tier 2)", utc(2026, 10, 24, 18), utc(2026, 10, 25, 7)),  # 13 h: fall-back
        ("On call: Alex (Tier 1)", utc(2026, 10, 24, 21), utc(2026, 10, 24, 23)),
        ("On call: Alex (Tier 2)", utc(2026, 10, 25, 19), utc(2026, 10, 26, 7)),
        ("On call: Alex (Tier 1)", utc(2026, 10, 26, 15), utc(2026, 11, 2, 16)),  # his week
        ("On call: Alex (Tier 2)", utc(2026, 10, 26, 19), utc(2026, 10, 27, 7)),
    ]
    cal = Calendar.from_ical(feed)
    assert str(cal["X-WR-CALNAME"]) == "On call: Alex"
    assert str(cal.walk("VEVENT")[2]["DESCRIPTION"]) == "Override for the whole schedule Tier 1"


def test_empty_rotation_gives_a_valid_empty_feed() -> None:
    empty = Rotation("Tier 3", LA, (), parse_shift_length("1w"), datetime(2026, 1, 5, 8))
    feed = rotation_feed(empty, utc(2026, 3, 1), utc(2026, 4, 1), now=NOW)
    assert events(feed) == []
    assert str(Calendar.from_ical(feed)["X-WR-CALNAME"]) == "On call: Tier 3"


def test_naive_times_are_refused() -> None:
    with pytest.raises(NaiveTimeError):
        rotation_feed(WEEKLY, datetime(2026, 3, 1), utc(2026, 3, 8), now=NOW)
    with pytest.raises(NaiveTimeError):
        analyst_feed("Alex", [WEEKLY], utc(2026, 3, 1), utc(2026, 3, 8), now=datetime(2026, 3, 1))
