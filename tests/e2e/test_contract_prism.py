"""The requests Voiceline sends to Twilio, checked against Twilio's own OpenAPI description.

Stoplight Prism serves Twilio's OpenAPI description of the 2010 API as a validating mock:
a request that breaks the description gets 422 (401 without credentials). Both come from
the npm packages pinned in ``package-lock.json`` (``npm ci``, which ``make test`` runs):
the description is the ``twilio_api_v2010.json`` that ``@twilio-alpha/mcp`` ships, so a
fresh clone has everything the test reads. A small recording proxy sits between
the product's real telephony adapter and Prism, so each test also checks what Prism does
not: that every form field sent is one the description names for that operation.

What is checked: the SMS page and the voice page (answering-machine detection, status
and AMD callbacks) as the adapter sends them, and as the app itself sends them for an
emergency left on the line. The bridge to the caller is TwiML (``<Dial>`` in the voice
page's answer), not a REST request, so there is nothing of it to send to Prism.

The spec is patched in a temporary copy, never in place: Twilio sends array fields
(``StatusCallbackEvent``) as repeated keys, and Prism only reads them so when the request
body's ``encoding`` says ``style: form, explode: true``.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests

from tests.conftest import EXAMPLE_DIRECTORY, PUBLIC_URL, app_config
from tests.line_helpers import CallDriver
from voiceline import extensions
from voiceline.app import create_app
from voiceline.clock import ManualClock
from voiceline.directory.checker import read_directory_file
from voiceline.directory.loader import load_directory
from voiceline.telephony import OutboundCall, TelephonyError, TwilioTelephony

pytestmark = pytest.mark.contract

REPO = Path(__file__).resolve().parents[2]
SPEC_PACKAGE = "@twilio-alpha/mcp"
SPEC = (
    REPO / "node_modules" / SPEC_PACKAGE / "twilio-oai" / "spec" / "json" / "twilio_api_v2010.json"
)
PRISM = REPO / "node_modules" / ".bin" / "prism"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "contract-test-token"
LINE = "+15035550100"
ANALYST = "+15035550201"
PUBLIC = "https://voiceline.example.test"
MESSAGES = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
CALLS = "/2010-04-01/Accounts/{AccountSid}/Calls.json"
FORM = "application/x-www-form-urlencoded"
STARTUP_SECONDS = 60.0


def patched_spec(source: Path, target: Path) -> int:
    """Copy the spec, declaring array form fields as repeated keys; return how many."""
    spec = json.loads(source.read_text(encoding="utf-8"))
    patched = 0
    for item in spec["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            media = operation["requestBody"].get("content", {}).get(FORM)
            if media is None:
                continue
            for name, schema in media.get("schema", {}).get("properties", {}).items():
                if schema.get("type") == "array":
                    media.setdefault("encoding", {})[name] = {"style": "form", "explode": True}
                    patched += 1
    target.write_text(json.dumps(spec), encoding="utf-8")
    return patched


def form_schema(spec: dict[str, Any], path: str) -> dict[str, Any]:
    """Return the form body schema of POST ``path``."""
    schema: dict[str, Any] = spec["paths"][path]["post"]["requestBody"]["content"][FORM]["schema"]
    return schema


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Exchange:
    """One request that went through the proxy, and Prism's answer."""

    method: str
    path: str
    fields: list[tuple[str, str]]
    status: int
    body: str


@dataclass
class RecordingProxy:
    """Forward every request to Prism and keep a copy of it and of the answer."""

    upstream: str
    exchanges: list[Exchange] = field(default_factory=list)
    base_url: str = ""

    def serve(self) -> ThreadingHTTPServer:
        """Start serving on a loopback port in a daemon thread."""
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = requests.post(
                    proxy.upstream + self.path, data=raw, headers=headers, timeout=30
                )
                proxy.exchanges.append(
                    Exchange(
                        "POST",
                        self.path,
                        parse_qsl(raw.decode(), keep_blank_values=True),
                        answer.status_code,
                        answer.text,
                    )
                )
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", "text/plain"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *args: object) -> None:
                pass  # the test reports what matters

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return server


@dataclass
class Prism:
    """A running Prism mock, the spec it serves, and its log."""

    url: str
    spec: dict[str, Any]
    log: Path
    startup_seconds: float


@pytest.fixture(scope="session")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prism]:
    """Run one Prism for the session on a patched copy of Twilio's OpenAPI description."""
    if shutil.which("node") is None or not PRISM.exists():
        pytest.skip(
            f"Prism is not installed ({PRISM} missing): run `npm ci` with Node 20 to check "
            "requests against Twilio's OpenAPI description"
        )
    if not SPEC.exists():
        pytest.skip(f"Twilio's OpenAPI description is not at {SPEC}: run `npm ci`")
    workdir = tmp_path_factory.mktemp("prism")
    spec_path = workdir / "twilio_api_v2010.patched.json"
    assert patched_spec(SPEC, spec_path) >= 2  # at least the two *CallbackEvent arrays
    port = free_port()
    log = workdir / "prism.log"
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(PRISM), "mock", str(spec_path), "-p", str(port), "-h", "127.0.0.1"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"Prism exited with {process.returncode}:\n{log.read_text()[-2000:]}")
            try:
                requests.get(url + "/", timeout=5)  # any answer, even 404, means it serves
                break
            except (requests.ConnectionError, requests.Timeout):
                if time.monotonic() - started > STARTUP_SECONDS:
                    pytest.fail(f"Prism did not listen within {STARTUP_SECONDS:.0f}s")
                time.sleep(0.2)
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        yield Prism(url, spec, log, time.monotonic() - started)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def proxy(prism: Prism) -> Iterator[RecordingProxy]:
    """Put a recording proxy in front of Prism for one test."""
    recorder = RecordingProxy(prism.url)
    server = recorder.serve()
    yield recorder
    server.shutdown()
    server.server_close()


@pytest.fixture
def telephony(proxy: RecordingProxy) -> TwilioTelephony:
    """Return the product's real Twilio adapter, pointed at Prism through the proxy."""
    return TwilioTelephony(ACCOUNT_SID, AUTH_TOKEN, proxy.base_url, LINE)


def assert_valid(prism: Prism, exchange: Exchange, operation: str) -> None:
    """Fail unless Prism accepted the request and every field is one the spec names."""
    assert exchange.status < 400, (
        f"Prism refused {exchange.path} with {exchange.status}: {exchange.body}\n"
        f"{prism.log.read_text()[-3000:]}"
    )
    schema = form_schema(prism.spec, operation)
    sent = {name for name, _ in exchange.fields}
    unknown = sent - set(schema["properties"])
    assert not unknown, f"fields Twilio's description does not name: {sorted(unknown)}"
    missing = set(schema.get("required", [])) - sent
    assert not missing, f"required fields not sent: {sorted(missing)}"


def test_the_sms_page_is_a_valid_create_message(
    prism: Prism, proxy: RecordingProxy, telephony: TwilioTelephony
) -> None:
    sent = telephony.send_sms(
        ANALYST,
        "EMERGENCY #12 Acme Dental: server room flooded. Reply A to acknowledge.",
        status_callback=f"{PUBLIC}/twilio/page/sms-status",
    )
    [exchange] = proxy.exchanges
    assert exchange.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert_valid(prism, exchange, MESSAGES)
    assert dict(exchange.fields)["StatusCallback"] == f"{PUBLIC}/twilio/page/sms-status"
    assert sent.sid.startswith("SM")


def test_the_voice_page_with_amd_and_status_callbacks_is_a_valid_create_call(
    prism: Prism, proxy: RecordingProxy, telephony: TwilioTelephony
) -> None:
    sent = telephony.place_call(
        OutboundCall(
            to=ANALYST,
            url=f"{PUBLIC}/twilio/page/voice?page=7",
            status_callback=f"{PUBLIC}/twilio/page/call-status?page=7",
            amd_callback=f"{PUBLIC}/twilio/page/amd?page=7",
            timeout_seconds=25,
        )
    )
    [exchange] = proxy.exchanges
    assert_valid(prism, exchange, CALLS)
    fields = dict(exchange.fields)
    events = [value for name, value in exchange.fields if name == "StatusCallbackEvent"]
    assert events == ["initiated", "ringing", "answered", "completed"]
    assert fields["MachineDetection"] == "DetectMessageEnd"
    assert fields["AsyncAmd"] == "true"
    assert fields["AsyncAmdStatusCallback"] == f"{PUBLIC}/twilio/page/amd?page=7"
    assert fields["Timeout"] == "25"
    assert sent.sid.startswith("CA")


def test_a_voice_page_without_amd_is_valid_too(
    prism: Prism, proxy: RecordingProxy, telephony: TwilioTelephony
) -> None:
    telephony.place_call(
        OutboundCall(
            to=ANALYST,
            url=f"{PUBLIC}/twilio/page/voice?page=8",
            status_callback=f"{PUBLIC}/twilio/page/call-status?page=8",
            machine_detection=False,
        )
    )
    [exchange] = proxy.exchanges
    assert_valid(prism, exchange, CALLS)
    assert "MachineDetection" not in dict(exchange.fields)


def test_prism_rejects_a_message_without_a_recipient(prism: Prism, proxy: RecordingProxy) -> None:
    # The adapter cannot leave To out, so post the broken request the way it posts.
    answer = requests.post(
        f"{proxy.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        data={"From": LINE, "Body": "no recipient"},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
        timeout=30,
    )
    assert answer.status_code == 422, answer.text


def test_prism_rejects_a_call_with_a_malformed_field_through_the_adapter(
    prism: Prism, proxy: RecordingProxy
) -> None:
    adapter = TwilioTelephony(ACCOUNT_SID, AUTH_TOKEN, proxy.base_url, LINE)
    with pytest.raises(TelephonyError) as refused:
        adapter.place_call(OutboundCall(to=ANALYST, url="not a url", status_callback=f"{PUBLIC}/x"))
    assert refused.value.status == 422
    [exchange] = proxy.exchanges
    with pytest.raises(AssertionError, match="Prism refused"):
        assert_valid(prism, exchange, CALLS)


def test_prism_rejects_requests_without_credentials(prism: Prism) -> None:
    answer = requests.post(
        f"{prism.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        data={"To": ANALYST, "From": LINE, "Body": "hello"},
        timeout=30,
    )
    assert answer.status_code == 401


def test_the_description_comes_from_a_package_pinned_in_the_lock_file() -> None:
    # A fresh clone must hold everything the test reads: `npm ci` installs exactly this.
    manifest = json.loads((REPO / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((REPO / "package-lock.json").read_text(encoding="utf-8"))
    pinned = manifest["devDependencies"][SPEC_PACKAGE]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), f"{SPEC_PACKAGE} {pinned!r} is not exact"
    assert lock["packages"][""]["devDependencies"][SPEC_PACKAGE] == pinned
    assert lock["packages"][f"node_modules/{SPEC_PACKAGE}"]["version"] == pinned
    assert SPEC.is_relative_to(REPO / "node_modules" / SPEC_PACKAGE)


def test_the_patch_declares_array_fields_as_repeated_keys(tmp_path: Path) -> None:
    # Unpatched, Prism reads a single StatusCallbackEvent as a string and answers 422.
    if not SPEC.exists():
        pytest.skip(f"Twilio's OpenAPI description is not at {SPEC}: run `npm ci`")
    target = tmp_path / "patched.json"
    assert patched_spec(SPEC, target) >= 2
    original = form_schema(json.loads(SPEC.read_text(encoding="utf-8")), CALLS)
    patched = json.loads(target.read_text(encoding="utf-8"))
    media = patched["paths"][CALLS]["post"]["requestBody"]["content"][FORM]
    assert original["properties"]["StatusCallbackEvent"]["type"] == "array"
    assert media["encoding"]["StatusCallbackEvent"] == {"style": "form", "explode": True}
    assert media["encoding"]["RecordingStatusCallbackEvent"] == {"style": "form", "explode": True}


def test_a_field_the_description_does_not_name_fails_the_check(prism: Prism) -> None:
    # Prism accepts unknown form fields; the field check is what catches a misspelling.
    exchange = Exchange(
        "POST", "/Calls.json", [("To", ANALYST), ("From", LINE), ("StatusCallBack", "x")], 201, ""
    )
    with pytest.raises(AssertionError, match="StatusCallBack"):
        assert_valid(prism, exchange, CALLS)


def test_the_pages_the_app_sends_for_an_emergency_are_valid(
    prism: Prism, proxy: RecordingProxy, database_url: str, clock: ManualClock, tmp_path: Path
) -> None:
    app = create_app(
        app_config(database_url, proxy.base_url, VOICELINE_SPOOL_DIR=str(tmp_path / "spool")),
        clock=clock,  # Sunday 02:00 in Oregon: Acme Dental's emergency line is answering
    )
    with extensions.database(app).session() as session:
        load_directory(session, read_directory_file(EXAMPLE_DIRECTORY))
    call = CallDriver(app.test_client(), "+15035550111")  # Pat Jones, Acme Dental
    call.dial()
    call.press("1")
    call.leave_message()  # the line commits the incident, then pages in the background
    deadline = time.monotonic() + 10
    while len(proxy.exchanges) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)

    by_resource = {exchange.path.rsplit("/", 1)[1]: exchange for exchange in proxy.exchanges}
    assert sorted(by_resource) == ["Calls.json", "Messages.json"], proxy.exchanges
    assert_valid(prism, by_resource["Messages.json"], MESSAGES)
    assert_valid(prism, by_resource["Calls.json"], CALLS)
    sms, voice = dict(by_resource["Messages.json"].fields), dict(by_resource["Calls.json"].fields)
    assert "Acme Dental" in sms["Body"] and sms["StatusCallback"].startswith(PUBLIC_URL)
    assert voice["MachineDetection"] in ("Enable", "DetectMessageEnd")
    for name in ("Url", "StatusCallback", "AsyncAmdStatusCallback"):
        assert voice[name].startswith(PUBLIC_URL), (name, voice[name])
