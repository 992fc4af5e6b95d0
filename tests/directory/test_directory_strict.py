"""The directory checker is strict: unknown keys, wrong types, aliases, complex keys,
undecodable bytes and out-of-range numbers are refused as ``file:line: reason``, and a
refused file changes nothing; a 10 MB directory is checked and loaded in seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_DIRECTORY
from voiceline.directory.checker import DirectoryError, read_directory_file, read_directory_text

EXAMPLE = EXAMPLE_DIRECTORY.read_text(encoding="utf-8")
PAT = '      - {name: Pat Jones, phone: "(503) 555-0111", role: primary}\n'
ROBIN = '      - {name: Robin Diaz, phone: "+1 503 555 0112", role: backup}\n'


def edited(old: str, new: str, text: str = EXAMPLE) -> str:
    """Return ``text`` with the one occurrence of ``old`` replaced by ``new``."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_of(text: str, needle: str) -> int:
    """Return the line (from 1) where ``needle`` first occurs in ``text``."""
    assert needle in text, needle
    return text[: text.index(needle)].count("\n") + 1


def refusal(text: str, filename: str = "d.yaml") -> list[str]:
    """Return the errors the checker gives for ``text``; fail if it accepts it."""
    with pytest.raises(DirectoryError) as caught:
        read_directory_text(text, filename)
    return caught.value.errors


# --- unknown keys -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        (
            "    escalation_policy: standard\n    contacts:\n" + PAT,
            "    escalation-policy: standard\n    contacts:\n" + PAT,
            "escalation-policy",
            "customer acme-dental: unknown key 'escalation-policy'; "
            "did you mean 'escalation_policy'?",
        ),
        (
            PAT,
            PAT.replace("role: primary", "role: primary, authorised: false"),
            "authorised",
            "customer acme-dental contact: unknown key 'authorised'; did you mean 'authorized'?",
        ),
        (
            "{metric: callback, priority: emergency, within: 30m, clock: wall}",
            "{metric: callback, priority: emergency, within: 30m, clok: wall}",
            "clok",
            "plan diamond target: unknown key 'clok'; did you mean 'clock'?",
        ),
        (
            "holidays: {country: US, subdivision: OR}",
            "holidays: {country: US, subdivison: OR}",
            "subdivison",
            "customer acme-dental holidays: unknown key 'subdivison'; did you mean 'subdivision'?",
        ),
        (
            "  default_region: US\n",
            "  default_region: US\n  remind_befor: 10m\n",
            "remind_befor",
            "service: unknown key 'remind_befor'; did you mean 'remind_before'?",
        ),
        (
            "    members: [alex, sam]\n",
            "    members: [alex, sam]\n    colour: blue\n",
            "colour",
            "rotation tier1: unknown key 'colour'",
        ),
    ],
)
def test_an_unknown_key_is_refused_with_the_nearest_known_key(
    old: str, new: str, needle: str, message: str
) -> None:
    text = edited(old, new)
    errors = refusal(text)
    assert errors[0].startswith(f"d.yaml:{line_of(text, needle)}: {message}"), errors


def test_a_misspelt_prompt_is_refused_rather_than_never_played() -> None:
    text = edited(
        "    escalation_policy: standard\n    contacts:\n" + PAT,
        "    escalation_policy: standard\n    prompts: {greting: Hello}\n    contacts:\n" + PAT,
    )
    assert refusal(text) == [
        f"d.yaml:{line_of(text, 'greting')}: customer acme-dental prompts: unknown key "
        "'greting'; did you mean 'greeting'?"
    ]


# --- types ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        (
            "after_hours_cover: true\n    cover_hours: 24x7",
            'after_hours_cover: "false"\n    cover_hours: 24x7',
            "after_hours_cover",
            "plan diamond: after_hours_cover must be true or false, not the text 'false'",
        ),
        (
            PAT,
            PAT.replace("role: primary", 'role: primary, authorized: "false"'),
            "authorized",
            "customer acme-dental contact: authorized must be true or false, not the text 'false'",
        ),
        (
            "clock: wall, pausable: true}",
            'clock: wall, pausable: "no"}',
            "pausable",
            "plan cat2 target: pausable must be true or false, not the text 'no'",
        ),
    ],
)
def test_a_quoted_false_is_refused_not_read_as_true(
    old: str, new: str, needle: str, message: str
) -> None:
    text = edited(old, new)
    assert refusal(text) == [f"d.yaml:{line_of(text, needle)}: {message}"]


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ("members: [alex, sam]", "members: 5", "members: 5", "members must be a list"),
        (
            "members: [alex, sam]",
            "members: [alex, [sam]]",
            "members: [alex",
            "members: each entry must be text",
        ),
        (
            '    monthly_fee: "600.00"\n    targets:\n'
            "      - {metric: callback, priority: standard, within: 4h, clock: business}\n",
            '    monthly_fee: "600.00"\n    targets: 5\n',
            "targets: 5",
            "targets must be a list",
        ),
        (
            "    plan: diamond\n",
            "    plan: diamond\n    closures: 5\n",
            "closures: 5",
            "closures must be a list",
        ),
        (
            "    plan: diamond\n",
            "    plan: diamond\n    closures: [2026-12-24, 5]\n",
            "closures: [",
            "closure 5 must be a date like 2026-12-24",
        ),
        (
            "    plan: diamond\n    escalation_policy: standard\n    contacts:\n" + PAT + ROBIN,
            "    plan: diamond\n    escalation_policy: standard\n    contacts: 5\n",
            "contacts: 5",
            "contacts must be a list",
        ),
        (
            'hours: ["mon-fri 16:30-08:00", "sat-sun 00:00-24:00", "mon 00:00-08:00"]',
            "hours: 5",
            "hours: 5",
            "hours must be",
        ),
        (
            "    business_hours: mon-fri 08:00-16:30\n    after_hours_cover: true\n",
            "    business_hours: [1, 2]\n    after_hours_cover: true\n",
            "business_hours: [1",
            "business_hours must be",
        ),
        (
            "credit: {kind: prorated, percent_of_monthly_fee: 10, per: breach, cap_percent: 50}",
            "credit: {kind: prorated, percent_of_monthly_fee: 10, per: breach, metrics: 5}",
            "credit:",
            "metrics must be a list",
        ),
        ("  name: Cascade IT Support\n", "  name: 2026\n", "name: 2026", "name must be text"),
        (
            '{code: alex, name: Alex Rivera, phone: "+15035550201"',
            "{code: alex, name: Alex Rivera, phone: +442079460321",
            "phone: +44",
            "phone must be text in quotes",
        ),
    ],
)
def test_a_value_of_the_wrong_shape_is_an_error_not_a_traceback(
    old: str, new: str, needle: str, message: str
) -> None:
    text = edited(old, new)
    errors = refusal(text)
    assert any(
        e.startswith(f"d.yaml:{line_of(text, needle)}: ") and message in e for e in errors
    ), errors


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("callback_target: 30m", "callback_target: 99999999999999999999", "callback_target"),
        ("callback_target: 30m", "callback_target: 99999999999999999999d", "callback_target"),
        (
            "{metric: callback, priority: emergency, within: 30m, clock: wall}",
            "{metric: callback, priority: emergency, within: 9223372036854775808, clock: wall}",
            "within: 92",
        ),
    ],
)
def test_an_integer_too_large_for_its_column_is_refused_when_checked(
    old: str, new: str, needle: str
) -> None:
    text = edited(old, new)
    errors = refusal(text)
    assert len(errors) == 1 and errors[0].startswith(f"d.yaml:{line_of(text, needle)}: plan "), (
        errors
    )
    assert "at most" in errors[0]


# --- the YAML itself -------------------------------------------------------------------------


def billion_laughs(levels: int = 9) -> str:
    """Return a directory whose aliases expand ten-fold per level (10**levels strings)."""
    lines = ["service:", "  name: Laughs", '  l0: &l0 ["lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"  l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]")
    lines.append(f"  prompts: {{greeting: *l{levels - 1}}}")
    return "\n".join(lines) + "\n"


def test_aliases_are_refused_before_anything_expands() -> None:
    text = billion_laughs()
    errors = refusal(text)
    assert errors[0] == (
        f"d.yaml:{line_of(text, '*l0')}: aliases (*l0) are not allowed; write the value out"
    ), errors


def test_a_merge_key_alias_is_refused() -> None:
    text = edited(
        "  - code: tier2\n    name: Tier 2 specialists\n",
        "  - code: tier2\n    <<: *base\n    name: Tier 2 specialists\n",
    ).replace("  - code: tier1\n", "  - &base\n    code: tier1\n")
    errors = refusal(text)
    assert f"d.yaml:{line_of(text, '*base')}: aliases (*base) are not allowed" in errors[0]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("plans: []\n? [a, b]\n: c\n", 2),
        ("plans:\n  - code: gold\n    {a: 1}: 2\n    name: Gold\n", 3),
    ],
)
def test_a_complex_key_is_refused(text: str, line: int) -> None:
    errors = refusal(text)
    assert errors[0].startswith(f"d.yaml:{line}: a key must be plain text"), errors


def test_an_impossible_date_is_refused_with_its_line() -> None:
    text = edited("    plan: diamond\n", "    plan: diamond\n    closures: [2026-02-30]\n")
    errors = refusal(text)
    assert errors[0].startswith(f"d.yaml:{line_of(text, '2026-02-30')}: "), errors


def test_bytes_that_are_not_utf8_are_refused_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    raw = EXAMPLE.encode("utf-8").replace(b"name: Bayside Cafe", b"name: Bayside Caf\xe9")
    path.write_bytes(raw)
    with pytest.raises(DirectoryError) as caught:
        read_directory_file(path)
    line = line_of(EXAMPLE, "name: Bayside Cafe")
    assert caught.value.errors == [
        f"{path}:{line}: not UTF-8 text (byte 0xe9 at column 22); save the file as UTF-8"
    ]


def test_a_control_character_is_refused_with_its_line() -> None:
    text = edited("name: Bayside Cafe", "name: Bayside\x07Cafe")
    errors = refusal(text)
    assert errors == [
        f"d.yaml:{line_of(text, 'Bayside')}: control character U+0007 is not allowed in YAML"
    ]


# --- line numbers ------------------------------------------------------------------------------


def test_every_error_points_at_its_own_line() -> None:
    text = """\
service:
  name: Desk
  emergency_number: "not a number"
plans: 5
analysts:
  - code: alex
    name: Alex
    email: alex@example.com
    phone: "12"
  - just text
rotations:
  - code: tier1
    name: Tier 1
    time_zone: America/Los_Angeles
    shift: fortnightly
    members:
      - alex
      - nobody
policies:
  - code: standard
    name: Standard
    steps:
      - {targets: [{on_call: tier1}], delay: 5m}
      - {targets: [{analyst: ghost}], delay: 5m}

colour: blue
"""
    errors = refusal(text)
    # emergency_number's own line, not the line the service mapping starts on
    assert any(e.startswith("d.yaml:3: service emergency_number: bad phone") for e in errors)
    assert any(e.startswith("d.yaml:4: 'plans' must be a list") for e in errors), errors
    assert any(e.startswith("d.yaml:9: analyst alex phone: bad phone") for e in errors), errors
    assert any(e.startswith("d.yaml:10: an entry of 'analysts' must be a mapping") for e in errors)
    assert any(e.startswith("d.yaml:15: rotation tier1: shift") for e in errors), errors
    assert "d.yaml:18: rotation tier1: unknown analyst 'nobody'" in errors
    assert "d.yaml:24: policy standard: unknown analyst 'ghost'" in errors
    assert any(e.startswith("d.yaml:26: unknown section 'colour'") for e in errors), errors
