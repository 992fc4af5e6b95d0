"""The pager's one-statement read of who is on call gives the answer the rota rows give.

``resolve_targets`` reads only what an instant needs (members, the overrides in force,
contact methods) in one statement; the admin pages build each rotation's whole schedule
from its rows (``oncall.store.schedule_for``). Over rotas of every kind (zones with and
without DST, a half-hour DST shift among them; week, two-day, day and half-day shifts;
weekly hours; no members; covers, replacements of members and of former members;
overlapping overrides, some starting together; overrides that start or end at the very
instant) both must name the same analyst with the same numbers at every instant, one
target at a time and all at once.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.policy import Target
from escalation.roster import recipient_of, resolve_targets
from escalation.state import Recipient
from oncall.models import Analyst, ContactMethod, Override, Rotation, RotationMember
from oncall.rotation import OnCallError
from oncall.schedule import who_is_on_call
from oncall.store import schedule_for
from voiceline.db import Database
from voiceline.hours import HoursError

# Each analyst's contact methods in the order they are added: (kind, number, STOP).
ANALYSTS: dict[str, list[tuple[str, str, bool]]] = {
    "alex": [("sms", "+15035550100", False), ("voice", "+15035550101", False)],
    "sam": [("sms", "+15035550110", False)],
    "jo": [("voice", "+15035550120", False)],
    "kim": [],
    "lee": [("sms", "+15035550140", True), ("sms", "+15035550141", False)],
    "max": [("voice", "+15035550150", False), ("sms", "+15035550151", False)],
    "noa": [("sms", "+15035550160", True), ("voice", "+15035550161", False)],
    "pat": [("sms", "+15035550170", False), ("voice", "+15035550170", False)],
}
# code, zone, shift, handoff, weekly hours, members in position order
ROTATIONS = [
    ("west", "America/Los_Angeles", "1w", "2026-01-05T09:00", None, ["alex", "sam", "jo"]),
    ("london", "Europe/London", "1d", "2026-03-02T08:00",
     ["mon-fri 17:00-24:00", "sat-sun 00:00-24:00"], ["kim", "lee", "alex"]),
    ("howe", "Australia/Lord_Howe", "12h", "2026-04-01T01:30", None, ["max", "noa"]),
    ("utc", "UTC", "2d", "2026-01-01T00:00", ["mon-sun 20:00-06:00"], ["pat", "jo", "lee", "sam"]),
    ("empty", "America/New_York", "1w", "2026-01-05T09:00", None, []),
]  # fmt: skip
# DST changes in 2026 in those zones: the pager must agree through each of them.
CHANGES = [
    datetime(2026, 3, 8, 10, tzinfo=UTC),  # Los Angeles and New York spring forward
    datetime(2026, 3, 29, 1, tzinfo=UTC),  # London springs forward
    datetime(2026, 4, 4, 15, tzinfo=UTC),  # Lord Howe falls back half an hour
    datetime(2026, 10, 3, 15, 30, tzinfo=UTC),  # Lord Howe springs forward half an hour
    datetime(2026, 10, 25, 1, tzinfo=UTC),  # London falls back
    datetime(2026, 11, 1, 9, tzinfo=UTC),  # Los Angeles and New York fall back
]
START = datetime(2026, 2, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)


def _random_instant(rng: random.Random) -> datetime:
    return START + timedelta(minutes=rng.randrange(int((END - START).total_seconds() // 60)))


def _fill(database: Database, seed: int) -> list[datetime]:
    """Add the analysts, the rotations and a year of random overrides; return instants
    to ask at: around each DST change, at override edges, and at random."""
    rng = random.Random(seed)
    edges: list[datetime] = []
    with database.session() as session:
        analysts = {}
        for code, methods in ANALYSTS.items():
            analyst = analysts[code] = Analyst(code=code, name=code.title())
            session.add(analyst)
            session.flush()
            for kind, number, stopped in methods:  # one at a time: ids in this order
                session.add(ContactMethod(analyst_id=analyst.id, kind=kind, address=number,
                                          is_opted_out=stopped))  # fmt: skip
                session.flush()
        for code, zone, shift, handoff, hours, members in ROTATIONS:
            rotation = Rotation(code=code, name=code.title(), time_zone=zone,
                                shift_length=shift, handoff_anchor=handoff, hours=hours)  # fmt: skip
            session.add(rotation)
            session.flush()
            # Members added out of position order: the read must order them.
            for position in rng.sample(range(len(members)), len(members)):
                session.add(RotationMember(rotation_id=rotation.id, position=position,
                                           analyst_id=analysts[members[position]].id))  # fmt: skip
            starts = sorted(_random_instant(rng) for _ in range(40))
            starts += rng.sample(starts, 6)  # some start together: the id breaks the tie
            for start in starts:
                length = timedelta(minutes=rng.choice([30, 90, 12 * 60, 26 * 60, 3 * 24 * 60]))
                cover = rng.choice(list(analysts))
                former = [a for a in analysts if a not in members and a != cover]
                others = [a for a in members if a != cover] or former
                replaced = rng.choice([None, None, rng.choice(others), former[0]])
                session.add(Override(rotation_id=rotation.id, analyst_id=analysts[cover].id,
                                     replaces_analyst_id=analysts[replaced].id if replaced else None,
                                     starts_at=start, ends_at=start + length))  # fmt: skip
                edges += [start, start + length, start + length - timedelta(microseconds=1)]
    instants = rng.sample(edges, 150) + [_random_instant(rng) for _ in range(60)]
    for change in CHANGES:
        instants += [change + timedelta(minutes=m) for m in range(-390, 391, 29)]
    return sorted(set(instants))


class _Rows:
    """What the rota rows say, read once as whole ORM rows: each rotation's schedule (every
    override in it), its members, and each analyst as a Recipient."""

    def __init__(self, session: Session) -> None:
        rows = session.scalars(select(Rotation)).all()
        self.schedules = {row.code: schedule_for(row) for row in rows}
        self.members = {row.code: [m.analyst.code for m in row.members] for row in rows}
        self.analysts = {a.code: recipient_of(a) for a in session.scalars(select(Analyst))}

    def expected(self, targets: list[Target], at: datetime) -> tuple[dict, list]:  # type: ignore[type-arg]
        """Who each target is at ``at``, and the problems, as the roster gives them."""
        recipients: dict[Target, list[Recipient]] = {}
        problems = []
        for target in sorted(targets, key=lambda t: (t.kind, t.ref)):
            if target.kind == "analyst":
                if target.ref in self.analysts:
                    recipients[target] = [self.analysts[target.ref]]
                else:
                    problems.append(f"analyst {target.ref} does not exist")
                continue
            if target.ref not in self.schedules:
                problems.append(f"rotation {target.ref} does not exist")
                continue
            if target.kind == "rotation":
                recipients[target] = [self.analysts[m] for m in self.members[target.ref]]
                continue
            try:
                code = who_is_on_call(self.schedules[target.ref], at)
            except (OnCallError, HoursError, ValueError) as exc:
                problems.append(f"rotation {target.ref} cannot be read: {exc}")
                continue
            recipients[target] = [self.analysts[code]] if code else []
        return recipients, problems


@pytest.mark.parametrize("seed", [1, 2])
def test_every_instant_names_whom_the_rota_rows_name(database: Database, seed: int) -> None:
    instants = _fill(database, seed)
    on_call = [Target("on_call", code) for code, *_ in ROTATIONS]
    every = on_call + [Target("rotation", code) for code, *_ in ROTATIONS]
    every += [Target("analyst", a) for a in ("kim", "lee", "nobody")]
    every += [Target("on_call", "gone"), Target("rotation", "gone")]
    named: set[str] = set()
    with database.session() as session:
        rows = _Rows(session)
    with database.session() as session:
        for at in instants:
            for target in on_call:
                roster = resolve_targets(session, [target], at)
                expected = rows.expected([target], at)
                assert (roster.recipients, roster.problems) == expected, (target, at)
                named.update(r.analyst for r in roster.recipients[target])
            roster = resolve_targets(session, every, at)
            assert (roster.recipients, roster.problems) == rows.expected(every, at), at
        # Targets of one kind alone: the parts of the read for the others ask for nothing.
        for alone in (every[5:10], every[10:13], [Target("on_call", "gone")], []):
            roster = resolve_targets(session, alone, instants[0])
            assert (roster.recipients, roster.problems) == rows.expected(alone, instants[0])
    # The instants reach every kind of answer: covers, replacements, members, nobody.
    assert named >= {"alex", "sam", "jo", "kim", "lee", "max", "noa", "pat"}
