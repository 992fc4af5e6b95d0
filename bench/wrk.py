"""Load with wrk: signed ``POST /twilio/voice`` requests, pre-signed in Python.

wrk's Lua has no HMAC-SHA1, so the X-Twilio-Signature of every request is computed here
with ``twilio.request_validator.RequestValidator`` (what Twilio signs: the public URL and
the sorted form) and written to a file that ``bench/webhook.lua`` sends from, each line
a new CallSid, so every request is a new call for the app.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from simulator.resources import API_VERSION

SCRIPT = Path(__file__).with_name("webhook.lua")
TWILIO_PATIENCE = "15s"  # Twilio waits 15 s for a webhook; wrk's default is 2 s
_RESULT = re.compile(r"^WRKJSON (\{.*\})$", re.MULTILINE)


@dataclass(frozen=True)
class WrkResult:
    """One wrk run."""

    requests: int
    seconds: float
    errors: int
    error_kinds: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def throughput(self) -> float:
        """Return requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    def as_json(self) -> dict[str, object]:
        """Return the run for the results file."""
        return {"requests": self.requests, "seconds": round(self.seconds, 3),
                "req_per_s": round(self.throughput, 1), "errors": self.error_kinds,
                "p50_ms": self.p50_ms, "p90_ms": self.p90_ms, "p99_ms": self.p99_ms,
                "max_ms": self.max_ms}  # fmt: skip


def wrk_problem() -> str | None:
    """Return why wrk cannot run, or None."""
    return None if shutil.which("wrk") else "wrk not installed (make bench installs it as root)"


def call_form(account_sid: str, caller: str, line: str) -> dict[str, str]:
    """Return the form Twilio posts when ``caller`` rings ``line``: a new CallSid each time."""
    return {
        "CallSid": "CA" + uuid.uuid4().hex, "AccountSid": account_sid, "From": caller,
        "To": line, "Caller": caller, "Called": line, "CallStatus": "ringing",
        "Direction": "inbound", "ApiVersion": API_VERSION,
    }  # fmt: skip


def write_signed_requests(
    path: Path,
    public_url: str,
    auth_token: str,
    account_sid: str,
    caller: str,
    line: str,
    count: int,
) -> Path:
    """Write ``count`` signed calls to ``path`` for ``webhook.lua``; return the path."""
    validator = RequestValidator(auth_token)
    url = public_url.rstrip("/") + "/twilio/voice"
    with path.open("w", encoding="ascii") as out:
        for _ in range(count):
            form = call_form(account_sid, caller, line)
            out.write(f"{validator.compute_signature(url, form)}\t{urlencode(form)}\n")
    return path


def run_wrk(url: str, requests_file: Path, connections: int, seconds: int) -> WrkResult:
    """Run wrk against ``url`` with ``connections`` open connections for ``seconds``."""
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", TWILIO_PATIENCE,
        "-s", str(SCRIPT), url, "--", str(requests_file),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    match = _RESULT.search(done.stdout)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}{done.stderr}")
    raw = json.loads(match.group(1))
    kinds = {k: int(raw[k]) for k in ("connect", "read", "write", "status", "timeout")}
    return WrkResult(
        requests=int(raw["requests"]), seconds=raw["duration_us"] / 1e6,
        errors=sum(kinds.values()), error_kinds=kinds, p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000, p99_ms=raw["p99_us"] / 1000, max_ms=raw["max_us"] / 1000,
    )  # fmt: skip
