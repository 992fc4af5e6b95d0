"""Sorting Twilio failures into temporary (retry) and permanent (fall back)."""

from __future__ import annotations

import pytest

from escalation.failures import is_temporary_failure


@pytest.mark.parametrize(
    ("http_status", "code", "temporary"),
    [
        pytest.param(None, None, True, id="timeout or dropped connection"),
        pytest.param(500, None, True, id="server error"),
        pytest.param(503, 20503, True, id="service unavailable"),
        pytest.param(401, 20003, False, id="permission denied: credentials or account"),
        pytest.param(429, 20429, True, id="rate limited"),
        pytest.param(429, None, True, id="429 without a code"),
        pytest.param(400, 20429, True, id="20429 whatever the status"),
        pytest.param(400, 21211, False, id="invalid To number"),
        pytest.param(400, 21610, False, id="recipient texted STOP"),
        pytest.param(400, 21614, False, id="not SMS-capable"),
        pytest.param(500, 21211, False, id="a permanent code wins over a 5xx"),
        pytest.param(400, 12345, False, id="other 4xx: the request is wrong"),
        pytest.param(401, None, False, id="bad credentials"),
        pytest.param(None, 30003, True, id="handset switched off"),
        pytest.param(None, 30006, False, id="landline"),
        pytest.param(None, 30007, False, id="carrier filtered"),
        pytest.param(None, 13224, False, id="voice: invalid number"),
        pytest.param(None, 39999, True, id="unknown delivery error: retry, bounded"),
    ],
)
def test_is_temporary_failure(http_status: int | None, code: int | None, temporary: bool) -> None:
    assert is_temporary_failure(http_status, code) is temporary
