"""The telephony adapter: the only module that imports ``twilio.rest``.

The product talks to the small ``Telephony`` protocol. Two backends implement it:

- ``TwilioTelephony``: Twilio's REST API (or any Twilio-compatible API, including the
  built-in simulator) at ``TWILIO_API_BASE_URL``;
- ``ConsoleTelephony``: no credentials configured; every text and call is written to the
  log and kept in memory, so the product runs (and says so) without an account.

Errors come out as one exception, whichever form Twilio answered in (a legacy error
body, raised as ``TwilioRestException``, or RFC 9457 problem details, raised as
``TwilioServiceException``), classified by ``voiceline.twilio_errors``::

    TelephonyError            (code, status, is_temporary)
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

import requests
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from voiceline.config import Settings
from voiceline.errors import VoicelineError
from voiceline.twilio_errors import classify, meaning_of

log = logging.getLogger(__name__)

REQUEST_TIMEOUT_SECONDS = 10.0
# What Twilio answers a text or a call without a 'From' number; we answer it first.
NO_SENDER_CODES = {"sms": 21603, "call": 21213}
NO_CALLER_ID = "no caller ID: set TWILIO_FROM_NUMBER or the directory's service.emergency_number"

#: Returns the number pages come from when TWILIO_FROM_NUMBER is unset (the directory's).
CallerIdLookup = Callable[[], str | None]


class TelephonyError(VoicelineError):
    """A text or call the provider refused or that could not be requested."""

    def __init__(
        self, message: str, *, code: int | None, status: int | None, is_temporary: bool
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.is_temporary = is_temporary


@dataclass(frozen=True)
class Sent:
    """What the provider said about a text or call it accepted."""

    sid: str
    status: str


@dataclass(frozen=True)
class OutboundCall:
    """A voice call to place: where, and the callbacks that follow it."""

    to: str
    url: str
    status_callback: str
    machine_detection: bool = True
    amd_callback: str | None = None
    timeout_seconds: int = 30


class Telephony(Protocol):
    """What the product needs from a telephony provider."""

    name: str

    def send_sms(self, to: str, body: str, status_callback: str | None = None) -> Sent: ...

    def place_call(self, call: OutboundCall) -> Sent: ...

    def cancel_call(self, sid: str) -> None: ...

    def fetch_recording(self, url: str) -> tuple[bytes, str]: ...


class TwilioTelephony:
    """Twilio's REST API, or a compatible one at ``api_base_url``."""

    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        api_base_url: str,
        from_number: str | None,
        caller_id_lookup: CallerIdLookup | None = None,
    ) -> None:
        self.from_number = from_number
        self.caller_id_lookup = caller_id_lookup
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.api_base_url = api_base_url.rstrip("/")
        self.client = Client(
            account_sid,
            auth_token,
            http_client=TwilioHttpClient(timeout=REQUEST_TIMEOUT_SECONDS),
        )
        self.client.api.base_url = self.api_base_url

    def use_caller_id_lookup(self, lookup: CallerIdLookup) -> None:
        """Read the caller ID at send time with ``lookup`` when TWILIO_FROM_NUMBER is unset."""
        self.caller_id_lookup = lookup

    def caller_id(self, kind: str = "sms") -> str:
        """Return the number a text or call goes out from, asked afresh at every send."""
        # TWILIO_FROM_NUMBER wins; otherwise the directory's emergency number, which may
        # change while the process runs. Without either, refuse with the code Twilio
        # itself answers a request without 'From': permanent, since no retry can help.
        if self.from_number:
            return self.from_number
        if self.caller_id_lookup is not None:
            try:
                number = self.caller_id_lookup()
            except Exception as exc:  # the directory is unreadable now: try again later
                raise TelephonyError(
                    f"could not read the caller ID from the directory: {exc}",
                    code=None,
                    status=None,
                    is_temporary=True,
                ) from exc
            if number:
                return number
        raise TelephonyError(
            NO_CALLER_ID, code=NO_SENDER_CODES[kind], status=None, is_temporary=False
        )

    def send_sms(self, to: str, body: str, status_callback: str | None = None) -> Sent:
        """Send a text message."""
        try:
            message = self.client.messages.create(
                to=to, from_=self.caller_id("sms"), body=body, status_callback=status_callback
            )
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _provider_error(exc) from exc
        except (TwilioException, requests.RequestException) as exc:
            raise TelephonyError(str(exc), code=None, status=None, is_temporary=True) from exc
        return Sent(sid=str(message.sid), status=str(message.status))

    def place_call(self, call: OutboundCall) -> Sent:
        """Place an outbound call that fetches its TwiML from ``call.url``."""
        extra: dict[str, object] = {}
        if call.machine_detection:
            extra["machine_detection"] = "DetectMessageEnd"
            extra["async_amd"] = "true"
            if call.amd_callback:
                extra["async_amd_status_callback"] = call.amd_callback
        try:
            created = self.client.calls.create(
                to=call.to,
                from_=self.caller_id("call"),
                url=call.url,
                status_callback=call.status_callback,
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                timeout=call.timeout_seconds,
                **extra,  # type: ignore[arg-type]
            )
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _provider_error(exc) from exc
        except (TwilioException, requests.RequestException) as exc:
            raise TelephonyError(str(exc), code=None, status=None, is_temporary=True) from exc
        return Sent(sid=str(created.sid), status=str(created.status))

    def cancel_call(self, sid: str) -> None:
        """End an outbound call, ringing or answered ('completed' does both on Twilio)."""
        try:
            self.client.calls(sid).update(status="completed")
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _provider_error(exc) from exc
        except (TwilioException, requests.RequestException) as exc:
            raise TelephonyError(str(exc), code=None, status=None, is_temporary=True) from exc

    def fetch_recording(self, url: str) -> tuple[bytes, str]:
        """Fetch a recording's audio with the account's credentials."""
        wanted, base = urlsplit(url), urlsplit(self.api_base_url)
        if (wanted.scheme, wanted.netloc) != (base.scheme, base.netloc):
            raise TelephonyError(
                f"refusing to send credentials to {urlsplit(url).netloc}",
                code=None,
                status=None,
                is_temporary=False,
            )
        if not url.endswith((".mp3", ".wav")):
            url = url + ".mp3"
        # twilio's HTTP client decodes bodies as text; audio needs the raw bytes.
        try:
            response = requests.get(
                url, auth=(self.account_sid, self.auth_token), timeout=REQUEST_TIMEOUT_SECONDS
            )
        except requests.RequestException as exc:
            raise TelephonyError(str(exc), code=None, status=None, is_temporary=True) from exc
        if response.status_code != 200:
            raise TelephonyError(
                f"recording fetch answered {response.status_code}",
                code=None,
                status=response.status_code,
                is_temporary=classify(response.status_code, None).is_temporary,
            )
        content_type = "audio/mpeg" if url.endswith(".mp3") else "audio/wav"
        return response.content, content_type


def _provider_error(exc: TwilioRestException | TwilioServiceException) -> TelephonyError:
    """Turn either form of Twilio error into a TelephonyError that keeps code and status."""
    code, status = _as_int(exc.code), _as_int(exc.status)
    said = exc.msg if isinstance(exc, TwilioRestException) else exc.detail or exc.title
    meaning = meaning_of(code)
    told = f"Twilio error {code} ({meaning}): {said}" if meaning else f"Twilio error {code}: {said}"
    return TelephonyError(
        told, code=code, status=status, is_temporary=classify(status, code).is_temporary
    )


def _as_int(value: object) -> int | None:
    """Read a code or status from an error body, which may carry it as text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


@dataclass
class ConsoleTelephony:
    """No provider: log every text and call and keep them in memory."""

    name: str = "console"
    sent: list[tuple[str, str, str]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _sid(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}{next(self._ids):032x}"

    def send_sms(self, to: str, body: str, status_callback: str | None = None) -> Sent:
        """Log the text instead of sending it."""
        sid = self._sid("SM")
        self.sent.append(("sms", to, body))
        log.warning("console telephony: SMS to %s: %s", to, body)
        return Sent(sid=sid, status="queued")

    def place_call(self, call: OutboundCall) -> Sent:
        """Log the call instead of placing it."""
        sid = self._sid("CA")
        self.sent.append(("call", call.to, call.url))
        log.warning("console telephony: call to %s would fetch %s", call.to, call.url)
        return Sent(sid=sid, status="queued")

    def cancel_call(self, sid: str) -> None:
        """Log the hang-up instead of asking a provider."""
        self.sent.append(("cancel", sid, ""))
        log.warning("console telephony: would hang up %s", sid)

    def fetch_recording(self, url: str) -> tuple[bytes, str]:
        """There is no provider to fetch from."""
        raise TelephonyError(
            "no telephony provider configured", code=None, status=None, is_temporary=False
        )


def telephony_from_settings(
    settings: Settings, caller_id_lookup: CallerIdLookup | None = None
) -> Telephony:
    """Return the backend the settings call for, logging which one it is."""
    if settings.has_twilio_credentials:
        assert settings.twilio_account_sid and settings.twilio_auth_token
        return TwilioTelephony(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.twilio_api_base_url,
            settings.twilio_from_number,
            caller_id_lookup,
        )
    return ConsoleTelephony()
