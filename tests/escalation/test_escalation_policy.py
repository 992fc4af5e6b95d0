"""Escalation policies: delays, the dictionary form, and what is refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from escalation.errors import EscalationError, PolicyError
from escalation.policy import (
    Policy,
    Step,
    Target,
    format_delay,
    parse_delay,
    policy_from_dict,
    policy_targets,
    policy_to_dict,
)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("90s", 90),
        ("5m", 300),
        ("1h30m", 5400),
        ("1h 30m 15s", 5415),
        ("2M", 120),
        ("PT5M", 300),
        ("PT1M30S", 90),
        ("pt1h", 3600),
        (" 45s ", 45),
        ("0s", 0),
        ("90", 90),
        (90, 90),
        (0, 0),
        (timedelta(minutes=2), 120),
        ("24h", 86400),
    ],
)
def test_parse_delay_reads_compact_iso_and_seconds(value: object, seconds: int) -> None:
    assert parse_delay(value) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-5m", "negative"),
        (-1, "negative"),
        (timedelta(seconds=-3), "negative"),
        ("5 minutes", "cannot read"),
        ("m5", "cannot read"),
        ("PT", "cannot read"),
        ("P1D", "cannot read"),
        ("PT1.5M", "cannot read"),
        ("1.5m", "cannot read"),
        ("", "cannot read"),
        ("5m30", "cannot read"),
        ("30s5m", "cannot read"),
        (1.5, "not a delay"),
        (True, "not a delay"),
        (None, "not a delay"),
        (timedelta(milliseconds=1500), "whole seconds"),
        ("25h", "longer than"),
        (86401, "longer than"),
    ],
)
def test_parse_delay_refuses_junk_with_a_reason(value: object, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_delay(value)


def test_policy_error_is_a_value_error() -> None:
    assert issubclass(PolicyError, EscalationError)
    assert issubclass(PolicyError, ValueError)


@given(st.integers(min_value=0, max_value=86400))
def test_format_delay_reads_back(seconds: int) -> None:
    delay = timedelta(seconds=seconds)
    assert parse_delay(format_delay(delay)) == delay


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (90, "1m30s"), (300, "5m"), (3600, "1h"), (3661, "1h1m1s")]
)
def test_format_delay_is_compact(seconds: int, text: str) -> None:
    assert format_delay(timedelta(seconds=seconds)) == text


DIRECTORY_ENTRY: dict[str, Any] = {
    "code": "diamond",
    "name": "Diamond emergencies",
    "repeat": 2,
    "steps": [
        {"targets": [{"on_call": "tier1"}], "channels": ["sms", "voice"], "delay": "5m"},
        {"targets": [{"rotation": "tier2"}, {"analyst": "alex"}], "delay": "PT2M30S"},
        {"targets": [{"analyst": "boss"}], "channels": "voice", "delay": "90s"},
    ],
}


def test_policy_from_dict_reads_the_directory_format() -> None:
    policy = policy_from_dict(DIRECTORY_ENTRY)
    assert policy.name == "Diamond emergencies"
    assert policy.code == "diamond"
    assert policy.repeat == 2
    first, second, third = policy.steps
    assert first.targets == (Target("on_call", "tier1"),)
    assert first.channels == {"sms", "voice"}
    assert first.delay == timedelta(minutes=5)
    assert second.targets == (Target("rotation", "tier2"), Target("analyst", "alex"))
    assert second.channels == {"sms", "voice"}  # both, when not given
    assert second.delay == timedelta(seconds=150)
    assert third.channels == {"voice"}
    assert policy_targets(policy) == {
        Target("on_call", "tier1"),
        Target("rotation", "tier2"),
        Target("analyst", "alex"),
        Target("analyst", "boss"),
    }


def test_policy_dict_round_trip_is_exact_and_json_safe() -> None:
    import json

    policy = policy_from_dict(DIRECTORY_ENTRY)
    data = policy_to_dict(policy)
    assert json.loads(json.dumps(data)) == data
    assert data["steps"][1]["delay"] == "2m30s"
    assert data["steps"][2]["channels"] == ["voice"]
    assert policy_from_dict(data) == policy


def test_channels_both_means_sms_and_voice() -> None:
    entry = {
        "name": "p",
        "steps": [{"targets": [{"analyst": "a"}], "channels": "both", "delay": "1m"}],
    }
    assert policy_from_dict(entry).steps[0].channels == {"sms", "voice"}


def _entry(**step_changes: Any) -> dict[str, Any]:
    step = {"targets": [{"on_call": "tier1"}], "delay": "5m", **step_changes}
    return {"name": "p", "steps": [step]}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"steps": [{"targets": [{"on_call": "x"}], "delay": "1m"}]}, "needs a name"),
        ({"name": "p"}, "needs a list of steps"),
        ({"name": "p", "steps": []}, "needs a list of steps"),
        ({"name": "p", "steps": "one"}, "needs a list of steps"),
        ({"name": "p", "steps": ["x"]}, "step 1: must be a mapping"),
        ({"name": "p", "repeat": -1, **_entry()}, "repeat must be a whole number from 0"),
        ({**_entry(), "repeat": True}, "repeat must be a whole number"),
        ({**_entry(), "repeat": "2"}, "repeat must be a whole number"),
        ({**_entry(), "repeat": 99}, "repeat must be a whole number from 0 to 20"),
        ({**_entry(), "repat": 2}, "unknown keys \\['repat'\\]"),
        (_entry(delay="5"), "needs a unit"),
        (_entry(delay=5), "needs a unit"),
        (_entry(delay="soon"), "cannot read delay"),
        (_entry(delay="0s"), "at least one step needs a delay above 0s"),
        (_entry(targets=[]), "needs a list of targets"),
        (_entry(targets=[{"team": "x"}]), "unknown target kind 'team'"),
        (_entry(targets=[{"on_call": "a", "analyst": "b"}]), "a target is one of"),
        (_entry(targets=[{"analyst": ""}]), "needs a non-empty name"),
        (_entry(targets=[{"analyst": None}]), "needs a name"),
        (_entry(channels=["fax"]), "unknown channel 'fax'"),
        (_entry(channels=[]), "channels must be"),
        (_entry(wait="5m"), "unknown keys \\['wait'\\]"),
        ({"name": "p", "steps": [{"targets": [{"on_call": "x"}]}]}, "needs a delay"),
    ],
)
def test_policy_from_dict_refuses_bad_entries(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        policy_from_dict(entry)


def test_zero_delay_steps_are_allowed_when_another_step_waits() -> None:
    entry = {
        "name": "together",
        "steps": [
            {"targets": [{"on_call": "tier1"}], "delay": "0s"},
            {"targets": [{"on_call": "tier2"}], "delay": "5m"},
        ],
    }
    assert [s.delay for s in policy_from_dict(entry).steps] == [timedelta(0), timedelta(minutes=5)]


def test_dataclasses_validate_too() -> None:
    step = Step((Target("analyst", "a"),), frozenset({"sms"}), timedelta(minutes=1))
    with pytest.raises(PolicyError, match="channels"):
        Step((Target("analyst", "a"),), frozenset({"pager"}), timedelta(minutes=1))  # type: ignore[arg-type]
    with pytest.raises(PolicyError, match="whole seconds"):
        Step((Target("analyst", "a"),), frozenset({"sms"}), timedelta(seconds=1.5))
    with pytest.raises(PolicyError, match="between 1 and 20 steps"):
        Policy("p", ())
    with pytest.raises(PolicyError, match="unknown target kind"):
        Target("team", "x")  # type: ignore[arg-type]
    assert Policy("p", (step,)).repeat == 0
