"""The engine: the fake REST API, the virtual phones and the app, tied together like Twilio.

``Simulator`` owns a running ``FakeTwilioApi``, a ``Courier`` that signs and sends every
request to the app, the account's Twilio numbers (where the app's Voice and Messaging URLs
are configured) and the phones. ``pump()`` turns what the app asked the REST API for into
phone events (an SMS lands, a phone rings) and delivers the queued callbacks; every phone
action pumps before and after, so tests see a settled world.

One lock (``lock``) serialises the engine; the REST server thread never takes it, so the
app may call the API while it is answering one of our webhooks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal, TypeVar
from xml.etree import ElementTree as ET

from twilio.rest import Client

from simulator.calls import Switchboard
from simulator.phones import Phone, ReceivedSms
from simulator.resources import (
    API_VERSION,
    E164,
    MessageRecord,
    SimulatorError,
    TwilioNumber,
    new_sid,
)
from simulator.rest import Clock, FakeTwilioApi, utc_now
from simulator.webhooks import Courier, Exchange, HttpTransport, Transport

T = TypeVar("T")
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})


class Simulator:
    """A Twilio account in a box: REST API, numbers, phones, and the webhooks they cause."""

    def __init__(
        self,
        *,
        transport: Transport | None = None,
        account_sid: str | None = None,
        auth_token: str = "simulator-auth-token",
        clock: Clock = utc_now,
        port: int = 0,
        wait_timeout: float = 5.0,
    ) -> None:
        self.api = FakeTwilioApi(account_sid, auth_token, clock=clock, port=port)
        self.courier = Courier(transport or HttpTransport(), auth_token)
        self.clock = clock
        self.wait_timeout = wait_timeout
        self.numbers: dict[str, TwilioNumber] = {}
        self.phones: dict[str, Phone] = {}
        self.lock = threading.RLock()
        self.is_strict = True
        self.switchboard = Switchboard(
            self, self.api, self.courier, clock, self.numbers, self.phone
        )

    # -- lifecycle and setup -----------------------------------------------------------------

    def start(self) -> Simulator:
        """Start the REST API; return self."""
        self.api.start()
        return self

    def stop(self) -> None:
        """Stop the REST API and release the transport's connections."""
        self.api.stop()
        close = getattr(self.courier.transport, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Return the REST API root for ``client.api.base_url``."""
        return self.api.base_url

    def rest_client(self) -> Client:
        """Return a ``twilio.rest.Client`` that talks to this simulator's REST API."""
        client = Client(self.account_sid, self.auth_token)
        client.api.base_url = self.base_url
        return client

    @property
    def account_sid(self) -> str:
        """Return the account SID (the basic-auth user)."""
        return self.api.account_sid

    @property
    def auth_token(self) -> str:
        """Return the auth token (basic-auth password and webhook signing key)."""
        return self.api.auth_token

    def add_number(
        self,
        number: str,
        *,
        voice_url: str | None = None,
        sms_url: str | None = None,
        status_callback: str | None = None,
    ) -> TwilioNumber:
        """Own a Twilio number and point its Voice and Messaging URLs at the app."""
        if not E164.match(number):
            raise SimulatorError(f"{number!r} is not an E.164 phone number")
        self.numbers[number] = TwilioNumber(
            number, voice_url, sms_url, status_callback=status_callback
        )
        return self.numbers[number]

    def add_line(self, number: str, app_url: str, *, call_status: bool = False) -> TwilioNumber:
        """Own a number routed to the app's ``/twilio/voice`` and ``/twilio/sms``.

        With ``call_status``, the number's "call status changes" URL is the app's
        ``/twilio/status/call`` too, as Voiceline's README has it set in Twilio's console.
        """
        root = app_url.rstrip("/")
        return self.add_number(
            number,
            voice_url=f"{root}/twilio/voice",
            sms_url=f"{root}/twilio/sms",
            status_callback=f"{root}/twilio/status/call" if call_status else None,
        )

    def phone(self, number: str, name: str = "", group: str = "") -> Phone:
        """Return the virtual phone with ``number``, creating it on first use."""
        if not E164.match(number):
            raise SimulatorError(f"{number!r} is not an E.164 phone number")
        with self.lock:
            if number not in self.phones:
                self.phones[number] = Phone(self, number, name, group)
            phone = self.phones[number]
            if name and phone.name == number:
                phone.name = name
            phone.group = group or phone.group
            return phone

    # -- misbehaving like Twilio -------------------------------------------------------------

    @property
    def duplicate_callbacks(self) -> bool:
        """Tell whether every asynchronous callback is delivered twice."""
        return self.courier.duplicate_callbacks

    @duplicate_callbacks.setter
    def duplicate_callbacks(self, value: bool) -> None:
        self.courier.duplicate_callbacks = value

    def hold_status_callbacks(self) -> None:
        """Keep asynchronous callbacks back until ``release_status_callbacks``."""
        self.courier.hold()

    def release_status_callbacks(
        self, order: Literal["fifo", "reverse", "shuffle"] = "fifo", seed: int = 0
    ) -> int:
        """Deliver the held callbacks in ``order``; return how many requests were made."""
        with self.lock:
            return self.courier.release(order, seed)

    def fail_next(self, kind: Literal["sms", "call"], **failure: object) -> None:
        """Script a REST failure (see ``FakeTwilioApi.fail_next``)."""
        self.api.fail_next(kind, **failure)  # type: ignore[arg-type]

    # -- what tests look at ------------------------------------------------------------------

    @property
    def errors(self) -> list[str]:
        """Return what Twilio's debugger would show: failed webhooks, bad TwiML."""
        return list(self.courier.errors)

    def webhooks(self, kind: str | None = None) -> list[Exchange]:
        """Return the requests made to the app (of one kind), oldest first."""
        return self.courier.sent(kind)

    def unexpected(self) -> list[str]:
        """Describe every SMS or call no test looked at, and every webhook error."""
        with self.lock:
            self.pump()
            found = [item for phone in self.phones.values() for item in phone.unexpected()]
        return found + [f"webhook error: {error}" for error in self.courier.errors]

    def allow_unexpected(self) -> None:
        """Let SMS and calls nobody expected pass at teardown (see ``simulator.testing``)."""
        self.is_strict = False

    def wait_for(self, find: Callable[[], T | None], timeout: float | None = None) -> T | None:
        """Pump until ``find`` returns something or ``timeout`` seconds pass."""
        deadline = time.monotonic() + (self.wait_timeout if timeout is None else timeout)
        while True:
            with self.lock:
                self.pump()
                found = find()
            remaining = deadline - time.monotonic()
            if found is not None or remaining <= 0:
                return found
            # Wake as soon as the app calls the REST API; the poll bounds a missed wake-up.
            self.api.has_events.wait(min(remaining, 0.05))

    # -- the pump -----------------------------------------------------------------------------

    def pump(self) -> None:
        """Act on what the app asked the REST API for, then deliver queued callbacks."""
        with self.lock:
            while True:
                events = self.api.take_events()
                for event in events:
                    if event.kind == "message_created":
                        self._deliver_outbound_sms(event.sid)
                    elif event.kind == "call_created":
                        self.switchboard.ring_for_api_call(event.sid)
                    else:
                        self.switchboard.apply_update(event.sid, event.params)
                self.courier.flush()
                if not events and not self.api.has_events.is_set():
                    return

    def _deliver_outbound_sms(self, sid: str) -> None:
        """Hand an SMS the app sent to the phone, with sent/delivered callbacks."""
        record = self.api.messages[sid]
        phone = self.phone(record.to)
        for status in ("sent", "undelivered" if phone.is_unreachable else "delivered"):
            changes: dict[str, object] = {"status": status}
            if status == "undelivered":
                changes["error_code"] = 30003
            self.api.update_message(sid, **changes)
            if record.status_callback:
                params = self._message_params(record)
                if status == "undelivered":
                    params["ErrorCode"] = "30003"
                self.courier.queue("message-status", "POST", record.status_callback, params)
        if not phone.is_unreachable:
            phone.inbox.append(_received(phone, record))

    def _message_params(self, record: MessageRecord) -> dict[str, str]:
        """Return a message status callback's parameters."""
        return {
            "MessageSid": record.sid,
            "SmsSid": record.sid,
            "AccountSid": record.account_sid,
            "From": record.from_,
            "To": record.to,
            "MessageStatus": record.status,
            "SmsStatus": record.status,
            "ApiVersion": API_VERSION,
        }

    def deliver_inbound_sms(self, phone: Phone, to: str, body: str) -> None:
        """Post an SMS from ``phone`` to the app's Messaging URL; deliver TwiML replies."""
        number = self.numbers.get(to)
        if number is None or not number.sms_url:
            raise SimulatorError(f"{to} is not a Twilio number with a Messaging URL")
        now = self.clock()
        record = MessageRecord(
            new_sid("SM"), self.account_sid, to, phone.number, body, "inbound", "received", now, now
        )
        self.api.add_message(record)
        keyword = body.strip().upper()
        if keyword in OPT_OUT_WORDS:
            self.api.blocked_recipients.add(phone.number)
        elif keyword in OPT_IN_WORDS:
            self.api.blocked_recipients.discard(phone.number)
        params = {
            "MessageSid": record.sid,
            "SmsSid": record.sid,
            "SmsMessageSid": record.sid,
            "AccountSid": self.account_sid,
            "From": phone.number,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": API_VERSION,
        }
        twiml = self.courier.fetch_twiml("sms", number.sms_method, number.sms_url, params)
        if twiml is not None:
            self._send_messaging_replies(twiml, phone, number)

    def _send_messaging_replies(self, twiml: str, phone: Phone, number: TwilioNumber) -> None:
        """Carry out the ``<Message>`` verbs of a Messaging TwiML answer."""
        try:
            root = ET.fromstring(twiml)
        except ET.ParseError as error:
            self.courier.errors.append(f"12100 messaging TwiML parse failure: {error}")
            return
        for verb in root:
            if verb.tag != "Message":
                self.courier.errors.append(
                    f"12200 <{verb.tag}> in messaging TwiML is not simulated"
                )
                continue
            body_element = verb.find("Body")
            text = "".join((body_element if body_element is not None else verb).itertext()).strip()
            to = verb.get("to", phone.number)
            now = self.clock()
            reply = MessageRecord(
                new_sid("SM"),
                self.account_sid,
                to,
                verb.get("from", number.number),
                text,
                "outbound-reply",
                "delivered",
                now,
                now,
            )
            self.api.add_message(reply)
            target = self.phone(to)
            target.inbox.append(_received(target, reply))


def _received(phone: Phone, record: MessageRecord) -> ReceivedSms:
    """Turn a delivered message into an inbox entry."""
    return ReceivedSms(phone, record.sid, record.from_, record.body)
