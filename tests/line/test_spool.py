"""The spool: durable entries, replay once, and one bad entry never blocks the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from voiceline.line.recovery import is_database_away
from voiceline.line.spool import Spool


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
    [failed] = list((tmp_path / "failed").iterdir())
    assert json.loads(failed.read_text())["n"] == 1
    assert spool.pending_files() == []


def test_an_unwritable_spool_still_logs_the_callers_details(tmp_path: Path, caplog) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    Spool(blocker).write("call", form={"From": "+15035550111", "CallSid": "CA1"})
    assert "+15035550111" in caplog.text and "CA1" in caplog.text
