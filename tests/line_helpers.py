"""Helpers for driving the emergency line the way Twilio does, and reading its TwiML."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask.testing import FlaskClient

from tests.conftest import LINE_NUMBER, PUBLIC_URL, post_signed

_sids = itertools.count(1)


def new_sid(prefix: str) -> str:
    return f"{prefix}{next(_sids):032x}"


@dataclass
class TwiML:
    """A parsed TwiML document."""

    root: ET.Element

    @classmethod
    def parse(cls, data: bytes) -> TwiML:
        root = ET.fromstring(data)
        assert root.tag == "Response", data
        return cls(root)

    def verbs(self) -> list[str]:
        return [child.tag for child in self.root]

    def says(self) -> str:
        return " ".join((el.text or "") for el in self.root.iter("Say"))

    def one(self, tag: str) -> ET.Element:
        found = list(self.root.iter(tag))
        assert len(found) == 1, f"expected one <{tag}> in {ET.tostring(self.root)!r}"
        return found[0]

    def has(self, tag: str) -> bool:
        return any(True for _ in self.root.iter(tag))


def path_of(url: str) -> str:
    """Return the path and query of one of our public callback URLs."""
    assert url.startswith(PUBLIC_URL), url
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class CallDriver:
    """One inbound call, driven step by step with signed requests."""

    def __init__(self, client: FlaskClient, from_number: str, call_sid: str | None = None):
        self.client = client
        self.from_number = from_number
        self.call_sid = call_sid or new_sid("CA")
        self.last: TwiML | None = None

    def params(self, **extra: str) -> dict[str, str]:
        base = {
            "CallSid": self.call_sid,
            "AccountSid": "AC" + "0" * 31 + "1",
            "From": self.from_number,
            "To": LINE_NUMBER,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        base.update(extra)
        return base

    def post(self, path: str, **extra: str) -> TwiML:
        response = post_signed(self.client, path, self.params(**extra))
        assert response.status_code == 200, response.data
        assert response.mimetype == "text/xml"
        self.last = TwiML.parse(response.data)
        return self.last

    def post_callback(self, path: str, **extra: str) -> int:
        response = post_signed(self.client, path, self.params(**extra))
        return response.status_code

    def dial(self) -> TwiML:
        return self.post("/twilio/voice", CallStatus="ringing")

    def press(self, digits: str) -> TwiML:
        assert self.last is not None
        gather = self.last.one("Gather")
        return self.post(path_of(gather.get("action", "")), Digits=digits)

    def no_input(self) -> TwiML:
        """Let the Gather time out: Twilio moves on to the verb after it (the Redirect)."""
        assert self.last is not None
        redirect = self.last.one("Redirect")
        return self.post(path_of(redirect.text or ""))

    def record(self, recording_sid: str | None = None, duration: int = 14) -> tuple[str, str]:
        """Return the action and status-callback paths of the current <Record>."""
        assert self.last is not None
        record = self.last.one("Record")
        return path_of(record.get("action", "")), path_of(record.get("recordingStatusCallback", ""))

    def leave_message(
        self, duration: int = 14, *, callback_first: bool = False
    ) -> tuple[TwiML, str]:
        """Speak, then Twilio posts the action and the recording status callback."""
        action, status = self.record()
        recording_sid = new_sid("RE")
        url = f"https://api.twilio.com/2010-04-01/Accounts/AC{'0' * 31}1/Recordings/{recording_sid}"
        recording = {
            "RecordingSid": recording_sid,
            "RecordingUrl": url,
            "RecordingDuration": str(duration),
        }
        if callback_first:
            assert self.post_callback(status, RecordingStatus="completed", **recording) == 204
        twiml = self.post(action, Digits="#", **recording)
        if not callback_first:
            assert self.post_callback(status, RecordingStatus="completed", **recording) == 204
        return twiml, recording_sid

    def hang_up(self) -> int:
        return self.post_callback("/twilio/status/call", CallStatus="completed", CallDuration="20")
