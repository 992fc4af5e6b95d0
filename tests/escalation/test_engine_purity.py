"""The escalation state machine stays pure: importing it loads no web, database or Twilio code."""

from __future__ import annotations

import subprocess
import sys

import pytest

PURE = [
    "escalation.engine",
    "escalation.state",
    "escalation.actions",
    "escalation.events",
    "escalation.transition",
    "escalation.rounds",
    "escalation.delivery",
    "escalation.failures",
    "escalation.throttle",
]
FORBIDDEN = ("flask", "sqlalchemy", "twilio", "requests", "werkzeug")


@pytest.mark.parametrize("module", PURE)
def test_importing_the_engine_loads_nothing_impure(module: str) -> None:
    probe = (
        f"import sys, {module}\n"
        f"print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "", f"{module} loads {result.stdout.strip()}"
