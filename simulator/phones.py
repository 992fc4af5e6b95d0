"""Virtual handsets: what customers and analysts hold in the simulator.

A ``Phone`` has an SMS inbox and calls. Tests and the handset page use the same methods::

    leg = caller.dial(line).press("1").say("server room flooded").hang_up()
    analyst.expect_sms(contains="Acme").reply("A")
    analyst.expect_call().answer().press("2")

Every method returns only after the app has answered every request it caused (the engine
pumps before returning), so a test reads state without racing the simulator.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

from simulator.resources import CallRecord, SimulatorError
from simulator.rest import FakeTwilioApi
from simulator.twiml import CallSession
from simulator.verbs import Heard

T = TypeVar("T")
Role = Literal["caller", "callee", "dialed"]
MACHINE_ANSWERS = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other")


class PhoneSwitchboard(Protocol):
    """What a phone asks of the switchboard (``simulator.calls``) about its calls."""

    def answer(self, leg: CallLeg, by: str) -> None:
        """Pick up a ringing leg."""
        ...

    def refuse(self, leg: CallLeg, status: str) -> None:
        """End a ringing leg unanswered."""
        ...

    def speak_from(self, leg: CallLeg, text: str) -> None:
        """Carry words a dialled phone said to its caller."""
        ...

    def hang_up_dialed(self, leg: CallLeg) -> None:
        """End a dialled phone's bridged leg."""
        ...

    def place_inbound_call(self, phone: Phone, to: str, *, hang_up_after: str | None) -> CallLeg:
        """Call the app's number from ``phone``."""
        ...


class PhoneHost(Protocol):
    """What a phone needs of the simulator (``simulator.engine``) that holds it."""

    @property
    def api(self) -> FakeTwilioApi:
        """Return the REST API the calls are recorded on."""
        ...

    @property
    def switchboard(self) -> PhoneSwitchboard:
        """Return the switchboard that rings, answers and bridges calls."""
        ...

    @property
    def lock(self) -> AbstractContextManager[object]:
        """Return the lock that serialises the engine."""
        ...

    def pump(self) -> None:
        """Deliver everything the app caused."""
        ...

    def deliver_inbound_sms(self, phone: Phone, to: str, body: str) -> None:
        """Post an SMS from ``phone`` to the app."""
        ...

    def wait_for(self, find: Callable[[], T | None], timeout: float | None = None) -> T | None:
        """Pump until ``find`` returns something or ``timeout`` seconds pass."""
        ...


@dataclass
class ReceivedSms:
    """One SMS that reached a phone."""

    phone: Phone
    sid: str
    from_: str
    body: str
    is_consumed: bool = False

    def reply(self, body: str) -> Phone:
        """Text ``body`` back to the sender; return the phone for further expectations."""
        self.phone.send_sms(self.from_, body)
        return self.phone


@dataclass
class CallLeg:
    """A phone's end of one call: the caller's, a paged analyst's, or a dialled party's."""

    sim: PhoneHost
    phone: Phone
    sid: str
    role: Role
    session: CallSession | None = None
    parent: CallSession | None = None
    is_consumed: bool = True
    state: Literal["ringing", "active", "bridged", "ended"] = "ringing"
    own_heard: list[Heard] = field(default_factory=list)
    talk_seconds: float = 0.0

    @property
    def record(self) -> CallRecord:
        """Return the call as the REST API reports it."""
        return self.sim.api.calls[self.sid]

    @property
    def status(self) -> str:
        """Return Twilio's status of this leg (ringing, in-progress, completed, busy...)."""
        return self.record.status

    @property
    def other_party(self) -> str:
        """Return the number at the other end."""
        return self.record.to if self.role == "caller" else self.record.from_

    @property
    def heard(self) -> list[Heard]:
        """Return everything this phone heard on the call."""
        return self.session.heard if self.session is not None else self.own_heard

    @property
    def transcript(self) -> str:
        """Return what this phone heard, one line each."""
        return "\n".join(line.text for line in self.heard)

    @property
    def is_ended(self) -> bool:
        """Tell whether the call is over for this phone."""
        if self.session is not None:
            return self.session.state == "ended"
        return self.state == "ended"

    @property
    def waiting_for(self) -> str:
        """Say what the call waits for: ringing, gathering, recording, dialing, bridged..."""
        if self.session is not None:
            return self.session.state
        return self.state

    def expect_heard(self, text: str) -> CallLeg:
        """Fail unless the phone heard ``text`` (case-insensitive) on this call."""
        if text.lower() not in self.transcript.lower():
            raise AssertionError(
                f"{self.phone} did not hear {text!r}; it heard:\n{self.transcript}"
            )
        return self

    # -- a ringing phone ----------------------------------------------------------------------

    def answer(self, by: str = "human") -> CallLeg:
        """Pick up; ``by`` is ``human`` or one of Twilio's machine answers."""
        if by != "human" and by not in MACHINE_ANSWERS:
            raise SimulatorError(f"answered by {by!r}: use human or one of {MACHINE_ANSWERS}")
        return self._act(lambda: self.sim.switchboard.answer(self, by))

    def answer_by_machine(self, kind: str = "machine_end_beep") -> CallLeg:
        """Let voicemail pick up."""
        return self.answer(by=kind)

    def decline(self) -> CallLeg:
        """Reject the call: Twilio sees busy."""
        return self._act(lambda: self.sim.switchboard.refuse(self, "busy"))

    def busy(self) -> CallLeg:
        """Be busy on another call."""
        return self.decline()

    def no_answer(self) -> CallLeg:
        """Let it ring out."""
        return self._act(lambda: self.sim.switchboard.refuse(self, "no-answer"))

    def fail(self) -> CallLeg:
        """Make the call fail in the network (unreachable, bad number)."""
        return self._act(lambda: self.sim.switchboard.refuse(self, "failed"))

    # -- a call in progress -------------------------------------------------------------------

    def press(self, digits: str) -> CallLeg:
        """Press keys."""
        return self._act(lambda: self._in_call().press(digits), on_bridge=lambda: None)

    def say(self, text: str) -> CallLeg:
        """Speak (into a recording, a speech Gather, or to the other party of a bridge)."""
        return self._act(
            lambda: self._in_call().say(text),
            on_bridge=lambda: self.sim.switchboard.speak_from(self, text),
        )

    def wait_out(self) -> CallLeg:
        """Stay silent until the Gather, Record or Dial in progress times out."""
        return self._act(lambda: self._in_call().wait_out())

    no_input = wait_out

    def hang_up(self) -> CallLeg:
        """Hang up."""
        return self._act(
            lambda: self._in_call().hang_up(),
            on_bridge=lambda: self.sim.switchboard.hang_up_dialed(self),
        )

    def _in_call(self) -> CallSession:
        """Return the session this phone drives, or say why there is none."""
        if self.session is None:
            raise SimulatorError(f"{self.phone} has no call in progress ({self.state})")
        return self.session

    def _act(
        self, action: Callable[[], object], on_bridge: Callable[[], object] | None = None
    ) -> CallLeg:
        """Run one phone action under the engine lock, then deliver what it caused."""
        with self.sim.lock:
            self.sim.pump()
            if self.role == "dialed" and self.session is None and self.state == "bridged":
                if on_bridge is None:
                    raise SimulatorError(f"{self.phone} is bridged; it can press, say or hang up")
                on_bridge()
            else:
                action()
            self.sim.pump()
        return self


class Phone:
    """A virtual handset with a number, an inbox and calls."""

    def __init__(self, sim: PhoneHost, number: str, name: str = "", group: str = "") -> None:
        self.sim = sim
        self.number = number
        self.name = name or number
        self.group = group
        self.inbox: list[ReceivedSms] = []
        self.calls: list[CallLeg] = []
        self.is_unreachable = False

    def __repr__(self) -> str:
        return f"<Phone {self.name} {self.number}>"

    def __str__(self) -> str:
        return f"{self.name} ({self.number})" if self.name != self.number else self.number

    def send_sms(self, to: str, body: str) -> Phone:
        """Text the app's number ``to``; its TwiML replies land in this inbox."""
        with self.sim.lock:
            self.sim.pump()
            self.sim.deliver_inbound_sms(self, to, body)
            self.sim.pump()
        return self

    def dial(self, to: str, *, hang_up_after: str | None = None) -> CallLeg:
        """Call the app's number ``to``; optionally hang up right after hearing a phrase."""
        with self.sim.lock:
            self.sim.pump()
            leg = self.sim.switchboard.place_inbound_call(self, to, hang_up_after=hang_up_after)
            self.sim.pump()
        return leg

    def expect_sms(
        self, contains: str | None = None, *, from_: str | None = None, timeout: float | None = None
    ) -> ReceivedSms:
        """Take the oldest unread SMS matching ``contains``/``from_``, waiting if need be."""

        def match() -> ReceivedSms | None:
            return next(
                (
                    sms
                    for sms in self.inbox
                    if not sms.is_consumed
                    and (contains is None or contains.lower() in sms.body.lower())
                    and (from_ is None or sms.from_ == from_)
                ),
                None,
            )

        found = self.sim.wait_for(match, timeout)
        if found is None:
            unread = [sms.body for sms in self.inbox if not sms.is_consumed]
            raise AssertionError(
                f"{self} got no SMS containing {contains!r}; unread messages: {unread}"
            )
        found.is_consumed = True
        return found

    def expect_call(self, *, from_: str | None = None, timeout: float | None = None) -> CallLeg:
        """Take the oldest ringing call not yet looked at, waiting if need be."""

        def match() -> CallLeg | None:
            return next(
                (
                    leg
                    for leg in self.calls
                    if not leg.is_consumed and (from_ is None or leg.record.from_ == from_)
                ),
                None,
            )

        found = self.sim.wait_for(match, timeout)
        if found is None:
            raise AssertionError(f"{self} did not ring (from {from_ or 'anyone'})")
        found.is_consumed = True
        return found

    def expect_no_sms(self) -> Phone:
        """Fail if an unread SMS is waiting."""
        with self.sim.lock:
            self.sim.pump()
            unread = [sms.body for sms in self.inbox if not sms.is_consumed]
        if unread:
            raise AssertionError(f"{self} has unexpected SMS: {unread}")
        return self

    @property
    def ringing(self) -> list[CallLeg]:
        """Return the calls ringing on this phone now."""
        return [leg for leg in self.calls if leg.state == "ringing" and leg.role != "caller"]

    @property
    def active_call(self) -> CallLeg | None:
        """Return the call in progress on this phone, if any."""
        return next((leg for leg in reversed(self.calls) if not leg.is_ended), None)

    def unexpected(self) -> list[str]:
        """Describe the SMS and calls that reached this phone and no test looked at."""
        found = [
            f"SMS to {self} from {s.from_}: {s.body!r}" for s in self.inbox if not s.is_consumed
        ]
        found += [
            f"call to {self} from {leg.record.from_}" for leg in self.calls if not leg.is_consumed
        ]
        return found
