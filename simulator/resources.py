"""The simulator's Twilio resources (messages, calls, recordings, numbers) and their JSON shapes.

Field names and formats follow Twilio's 2010-04-01 API: 34-character SIDs, RFC 2822 dates,
string durations, ``uri`` and ``subresource_uris`` relative to the API root.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any, Literal

from werkzeug.wrappers import Response

API_VERSION = "2010-04-01"
#: A phone number in E.164, the only form Twilio accepts for ``To`` and ``From``.
E164 = re.compile(r"^\+[1-9]\d{6,14}$")

#: Messages Twilio puts in error bodies for the codes the simulator can answer with.
ERROR_MESSAGES: dict[int, str] = {
    20003: "Authenticate",
    20004: "Method not allowed",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    21201: "No 'To' number is specified",
    21205: "Url parameter is required.",
    21210: "'From' phone number not verified",
    21211: "The 'To' number is not a valid phone number.",
    21213: "No 'From' number is specified",
    21218: "Invalid call status",
    21220: "Call is not in-progress. Cannot redirect.",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    20001: "Internal server error",
}


class SimulatorError(ValueError):
    """Raised when the simulator is asked to do something it cannot."""


@dataclass(frozen=True)
class RecordedRequest:
    """One request the API received, kept for assertions."""

    method: str
    path: str
    params: tuple[tuple[str, str], ...]
    status: int
    is_authorized: bool

    def get(self, name: str) -> str | None:
        """Return the first value of a form parameter, or None."""
        return next((value for key, value in self.params if key == name), None)

    def getlist(self, name: str) -> list[str]:
        """Return every value of a repeated form parameter."""
        return [value for key, value in self.params if key == name]


@dataclass(frozen=True)
class ApiEvent:
    """Something the engine must act on: a message or call was created or updated."""

    kind: Literal["message_created", "call_created", "call_updated"]
    sid: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class ScriptedFailure:
    """A failure the next matching create request will get instead of a resource."""

    kind: Literal["sms", "call"]
    to: str | None
    status: int
    code: int
    message: str
    times: int


class ApiError(Exception):
    """An error answer in Twilio's shape; raised inside request handling only."""

    def __init__(self, status: int, code: int, message: str | None = None) -> None:
        super().__init__(message or ERROR_MESSAGES.get(code, "Error"))
        self.status = status
        self.code = code
        self.message = message or ERROR_MESSAGES.get(code, "Error")

    def to_response(self) -> Response:
        """Render the error as Twilio's JSON error body."""
        body = {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        response = json_response(body, self.status)
        if self.status == 401:
            response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        return response


def json_response(body: Any, status: int = 200) -> Response:
    """Build a JSON response."""
    return Response(json.dumps(body), status=status, mimetype="application/json")


def new_sid(prefix: str) -> str:
    """Return a fresh Twilio-style SID: a two-letter prefix and 32 hex digits."""
    return prefix + uuid.uuid4().hex


def rfc2822(moment: datetime | None) -> str | None:
    """Format an aware datetime the way Twilio's JSON does, or None."""
    return None if moment is None else format_datetime(moment)


@dataclass
class MessageRecord:
    """One SMS, outbound (created through the API) or inbound (sent by a virtual phone)."""

    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    direction: str
    status: str
    created_at: datetime
    updated_at: datetime
    status_callback: str | None = None
    error_code: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Render the resource as Twilio's Message JSON."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.created_at),
            "date_sent": rfc2822(self.updated_at) if self.status != "queued" else None,
            "date_updated": rfc2822(self.updated_at),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": ERROR_MESSAGES.get(self.error_code) if self.error_code else None,
            "from": self.from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": str(max(1, -(-len(self.body) // 160))),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": self.to,
            "uri": f"{uri}.json",
        }


@dataclass
class CallRecord:
    """One call leg: inbound, outbound through the API, or the child leg of a ``<Dial>``."""

    sid: str
    account_sid: str
    to: str
    from_: str
    direction: str
    status: str
    created_at: datetime
    updated_at: datetime
    url: str | None = None
    method: str = "POST"
    twiml: str | None = None
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_events: tuple[str, ...] = ("completed",)
    machine_detection: str | None = None
    async_amd: bool = False
    async_amd_status_callback: str | None = None
    timeout: int = 60
    parent_call_sid: str | None = None
    answered_by: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Render the resource as Twilio's Call JSON."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": self.answered_by,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": rfc2822(self.created_at),
            "date_updated": rfc2822(self.updated_at),
            "direction": self.direction,
            "duration": None if self.duration is None else str(self.duration),
            "end_time": rfc2822(self.end_time),
            "forwarded_from": None,
            "from": self.from_,
            "from_formatted": self.from_,
            "group_sid": None,
            "parent_call_sid": self.parent_call_sid,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": self.sid,
            "start_time": rfc2822(self.start_time),
            "status": self.status,
            "subresource_uris": {
                "recordings": f"{uri}/Recordings.json",
                "notifications": f"{uri}/Notifications.json",
            },
            "to": self.to,
            "to_formatted": self.to,
            "trunk_sid": None,
            "uri": f"{uri}.json",
        }


@dataclass
class RecordingRecord:
    """One recording made by ``<Record>``; ``text`` is what the caller said into it."""

    sid: str
    account_sid: str
    call_sid: str
    duration: int
    text: str
    created_at: datetime
    status: str = "completed"

    def to_json(self, base_url: str) -> dict[str, Any]:
        """Render the resource as Twilio's Recording JSON, media served from ``base_url``."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "call_sid": self.call_sid,
            "channels": 1,
            "conference_sid": None,
            "date_created": rfc2822(self.created_at),
            "date_updated": rfc2822(self.created_at),
            "duration": str(self.duration),
            "encryption_details": None,
            "error_code": None,
            "media_url": f"{base_url}{uri}",
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "source": "RecordVerb",
            "start_time": rfc2822(self.created_at),
            "status": self.status,
            "subresource_uris": {"transcriptions": f"{uri}/Transcriptions.json"},
            "uri": f"{uri}.json",
        }


@dataclass
class TwilioNumber:
    """A number the account owns, with the URLs set for it in Twilio's console."""

    number: str
    voice_url: str | None
    sms_url: str | None
    voice_method: str = "POST"
    sms_method: str = "POST"
    status_callback: str | None = None
