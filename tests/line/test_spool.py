"""The spool: durable entries, replay once, one bad entry never blocks the rest, and a
parked entry can be put back or set aside by name, its own names only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from voiceline.line.recovery import is_database_away
from voiceline.line.spool import Spool, UnknownEntry


def test_entries_replay_in_order_once(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for n in range(3):
        spool.write("message", n=n)
    seen: list[int] = []
    assert spool.replay(lambda entry: seen.append(entry["n"])) == 3
    assert seen == [0, 1, 2]
    assert spool.pending_files() == []
    assert spool.replay(lambda entry: seen.append(entry["n"])) == 0
    assert len(list((tmp_path / "done").iterdir())) == 3


def test_database_still_away_leaves_the_entry_and_the_rest(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.write("message", n=1)
    spool.write("message", n=2)

    def down(entry: dict) -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with pytest.raises(OperationalError):
        spool.replay(down, is_database_away)
    assert len(spool.pending_files()) == 2  # nothing lost, nothing moved
    seen: list[int] = []
    assert spool.replay(lambda entry: seen.append(entry["n"]), is_database_away) == 2
    assert seen == [1, 2]


def test_a_poison_entry_is_set_aside_and_the_rest_replay(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.write("message", n=1)
    spool.write("message", n=2)
    spool.write("message", n=3)
    seen: list[int] = []

    def handle(entry: dict) -> None:
        if entry["n"] == 1:
            raise KeyError("form")
        seen.append(entry["n"])

    assert spool.replay(handle, is_database_away) == 2
    assert seen == [2, 3]
    [parked] = spool.parked_files()
    assert parked.parent == tmp_path / "failed"
    assert json.loads(parked.read_text())["n"] == 1
    assert spool.reason_parked(parked) == "KeyError: 'form'"
    assert spool.pending_files() == []


def test_a_parked_entry_goes_back_in_the_queue_unchanged(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.write("message", n=1)
    original = spool.pending_files()[0].read_text()

    def refuse(entry: dict) -> None:
        raise ValueError("not now")

    assert spool.replay(refuse, is_database_away) == 0
    [parked] = spool.parked_files()
    pending = spool.unpark(parked.name)
    assert pending.read_text() == original
    assert spool.parked_files() == [] and spool.pending_files() == [pending]
    assert not list((tmp_path / "failed").iterdir())  # its reason went with it
    seen: list[int] = []
    assert spool.replay(lambda entry: seen.append(entry["n"])) == 1
    assert seen == [1]


def test_a_parked_entry_set_aside_is_kept_out_of_the_queue(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.write("message", n=1)
    spool.replay(lambda entry: entry["missing"], is_database_away)
    [parked] = spool.parked_files()
    kept = spool.set_aside(parked.name)
    assert json.loads(kept.read_text())["n"] == 1
    assert spool.parked_files() == [] and spool.pending_files() == []


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "pending-x.json", "20261122T100000000000-abc.json", ""]
)
def test_only_a_parked_entry_of_this_spool_can_be_named(tmp_path: Path, name: str) -> None:
    spool = Spool(tmp_path)
    (tmp_path / "failed").mkdir()
    with pytest.raises(UnknownEntry):
        spool.unpark(name)
    with pytest.raises(UnknownEntry):
        spool.set_aside(name)


def test_an_unwritable_spool_still_logs_the_callers_details(tmp_path: Path, caplog) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    Spool(blocker).write("call", form={"From": "+15035550111", "CallSid": "CA1"})
    assert "+15035550111" in caplog.text and "CA1" in caplog.text
