"""A TwiML interpreter: one call leg following the app's TwiML the way Twilio does."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Literal
from urllib.parse import urljoin

from simulator.recordings import file_recording
from simulator.resources import SimulatorError
from simulator.verbs import (
    Dialing,
    Gathering,
    Heard,
    Recording,
    SessionHost,
    TwimlError,
    number_attribute,
    parse_document,
    read_dial,
    read_gather,
    read_record,
    speaking_seconds,
)

State = Literal["running", "gathering", "recording", "dialing", "bridged", "ended"]
APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."
_MAX_DOCUMENTS_PER_STEP = 50


# A session runs verbs until one needs the far end (Gather, Record, Dial). Talking verbs take
# no wall-clock time, only ``elapsed``: time passes when the driver says so (``wait_out``),
# which keeps tests fast and deterministic. Everything outside the call (HTTP, recordings,
# other phones, the call's end) goes through ``host``: the switchboard in simulator.calls.
class CallSession:
    """One call leg following TwiML; driven by ``press``, ``say``, ``wait_out`` and ``hang_up``."""

    def __init__(
        self, host: SessionHost[CallSession], call_sid: str, *, hang_up_after: str | None = None
    ):
        self.host = host
        self.call_sid = call_sid
        self.state: State = "running"
        self.heard: list[Heard] = []
        self.elapsed = 0.0
        self.call_status = "in-progress"
        self.hang_up_after = hang_up_after.lower() if hang_up_after else None
        self.gathering: Gathering | None = None
        self.recording: Recording | None = None
        self.dialing: Dialing | None = None
        self._verbs: list[ET.Element] = []
        self._position = 0
        self._document_url: str | None = None
        self._wants_hang_up = False
        self._documents_this_step = 0

    # -- what drives the call ---------------------------------------------------------------

    def start(self, url: str | None, method: str = "POST", *, twiml: str | None = None) -> None:
        """Begin the call on inline TwiML or on the document at ``url``."""
        self._documents_this_step = 0
        if twiml is not None:
            self._load(twiml, url)
        elif url is not None:
            self._follow(url, method, {})
        else:
            raise SimulatorError("a call needs a TwiML URL or inline TwiML")
        self._run()

    def press(self, digits: str) -> None:
        """Press keys on the keypad, one at a time."""
        self._documents_this_step = 0
        for key in digits:
            if key not in "0123456789*#":
                raise SimulatorError(f"{key!r} is not a key on a phone keypad")
            if self.state == "gathering" and self.gathering and self.gathering.accepts_dtmf:
                self._gather_key(self.gathering, key)
            elif self.state == "recording" and self.recording:
                if key in self.recording.finish_on_key:
                    self._finish_recording(digits=key, hung_up=False)
            elif self.state == "bridged":
                self.heard.append(Heard("dtmf", key))
            else:
                raise SimulatorError(
                    f"pressed {key!r} but nothing is listening: the call is {self.state}"
                )
            self._run()

    def say(self, text: str) -> None:
        """Speak into the phone."""
        self._documents_this_step = 0
        if self.state == "recording" and self.recording:
            self.recording.words.extend(text.split())
            self.elapsed += speaking_seconds(text)
            if speaking_seconds(" ".join(self.recording.words)) >= self.recording.max_length:
                self._finish_recording(digits=None, hung_up=False)
        elif self.state == "gathering" and self.gathering and self.gathering.accepts_speech:
            gathering = self._take_gathering()
            self._submit(gathering, {"SpeechResult": text, "Confidence": "0.92"})
        elif self.state == "bridged":
            self.host.speak_to_bridge(self, text)
        else:
            raise SimulatorError(
                f"said {text!r} but nothing is listening: the call is {self.state}"
            )
        self._run()

    def wait_out(self) -> None:
        """Stay silent until whatever is waiting times out."""
        self._documents_this_step = 0
        if self.state == "gathering" and self.gathering:
            gathering = self._take_gathering()
            self.elapsed += gathering.timeout
            if gathering.digits or gathering.action_on_empty_result:
                self._submit(gathering, {"Digits": gathering.digits})
            else:
                self.state = "running"
        elif self.state == "recording" and self.recording:
            self.elapsed += self.recording.timeout
            self._finish_recording(digits=None, hung_up=False)
        elif self.state == "dialing" and self.dialing:
            self.elapsed += self.dialing.timeout
            self._finish_dial(self.host.stop_dial(self, self.dialing, "no-answer"), "no-answer")
        else:
            raise SimulatorError(f"nothing is waiting to time out: the call is {self.state}")
        self._run()

    def hang_up(self) -> None:
        """Hang up this leg, whatever it is doing."""
        if self.state == "ended":
            raise SimulatorError("the call has already ended")
        self.call_status = "completed"
        if self.state == "recording" and self.recording:
            self._finish_recording(digits="hangup", hung_up=True)
        elif self.state in ("dialing", "bridged") and self.dialing:
            dialing, was_bridged = self.dialing, self.state == "bridged"
            status = "completed" if was_bridged else "canceled"
            duration = self.host.stop_dial(self, dialing, status)
            if dialing.action:
                params = dialing.action_params(status, duration)
                self.host.notify(dialing.action, dialing.method, params, "dial-action")
        self._end("completed")

    # -- what the engine tells the call ------------------------------------------------------

    def bridge_answered(self) -> None:
        """The dialled phone answered: the two parties are connected."""
        if self.state != "dialing" or self.dialing is None:
            raise SimulatorError(f"no dial is ringing on this call: it is {self.state}")
        self.state = "bridged"
        self.heard.append(Heard("note", f"connected to {self.dialing.number}"))

    def bridge_ended(self, status: str, duration: int) -> None:
        """The dialled leg ended (hung up, busy, no answer, failed): continue the call."""
        if self.state not in ("dialing", "bridged"):
            return
        self._documents_this_step = 0
        self._finish_dial(duration, status)
        self._run()

    def hear_from_bridge(self, who: str, text: str) -> None:
        """Hear what the other party of a bridge said."""
        self.heard.append(Heard("party", f"{who}: {text}"))

    def redirect(
        self, *, twiml: str | None = None, url: str | None = None, method: str = "POST"
    ) -> None:
        """Replace what the call is doing with new TwiML (a REST update)."""
        if self.state == "ended":
            return
        self._stop_dialing()
        self.gathering = self.recording = self.dialing = None
        self.state = "running"
        self.start(url, method, twiml=twiml)

    def end_remotely(self) -> None:
        """The call was ended through the REST API."""
        if self.state == "ended":
            return
        self._stop_dialing()
        self.call_status = "completed"
        self._end("completed")

    def _stop_dialing(self) -> None:
        """End a dialled leg the call is leaving: cancel it if ringing, else complete it."""
        if self.state in ("dialing", "bridged") and self.dialing:
            status = "canceled" if self.state == "dialing" else "completed"
            self.host.stop_dial(self, self.dialing, status)

    @property
    def transcript(self) -> str:
        """Return everything heard, one line each."""
        return "\n".join(line.text for line in self.heard)

    # -- running verbs -----------------------------------------------------------------------

    def _run(self) -> None:
        """Execute verbs until one waits for the far end or the document ends."""
        while self.state == "running":
            if self._position >= len(self._verbs):
                self._end("completed")
                return
            verb = self._verbs[self._position]
            self._position += 1
            try:
                self._execute(verb)
            except TwimlError as error:
                self.host.report_error(self, str(error))
                self._application_error()
                return
            if self._wants_hang_up:
                # A scripted caller hangs up the moment they heard their cue, whatever waits.
                self._wants_hang_up = False
                if self.state != "ended":
                    self.hang_up()
                return

    def _execute(self, verb: ET.Element) -> None:
        """Carry out one verb."""
        tag = verb.tag
        if tag in ("Say", "Play", "Pause"):
            self._speak(verb)
        elif tag == "Gather":
            self._begin_gather(verb)
        elif tag == "Record":
            self._begin_record(verb)
        elif tag == "Dial":
            self._begin_dial(verb)
        elif tag == "Redirect":
            target = (verb.text or "").strip()
            self._follow(self._url(target), verb.get("method", "POST").upper(), {})
        elif tag == "Hangup":
            self.call_status = "completed"
            self._end("completed")
        elif tag == "Reject":
            self._end("busy" if verb.get("reason") == "busy" else "no-answer")
        else:
            self.heard.append(Heard("note", f"<{tag}> is not simulated; skipped"))

    def _speak(self, verb: ET.Element) -> None:
        """Hear a talking verb: Say, Play or Pause."""
        if verb.tag == "Pause":
            self.elapsed += number_attribute(verb, "length", 1)
            return
        loops = max(1, number_attribute(verb, "loop", 1))
        if verb.tag == "Say":
            text = " ".join("".join(verb.itertext()).split())
            for _ in range(loops):
                self._hear(Heard("say", text))
                self.elapsed += speaking_seconds(text)
            return
        if verb.get("digits"):
            self._hear(Heard("dtmf", verb.get("digits", "")))
        url = (verb.text or "").strip()
        if url:
            words = self.host.media_transcript(self._url(url))
            text = f"[recording] {words}" if words is not None else f"[audio] {url}"
            for _ in range(loops):
                self._hear(Heard("play", text))
                self.elapsed += speaking_seconds(words or "a b c d e")

    def _hear(self, line: Heard) -> None:
        """Add to what the phone heard; a scripted caller may hang up on hearing it."""
        self.heard.append(line)
        if self.hang_up_after and self.hang_up_after in line.text.lower():
            self.hang_up_after = None
            self._wants_hang_up = True

    def _begin_gather(self, verb: ET.Element) -> None:
        """Speak a Gather's prompts and start waiting for input."""
        gathering = read_gather(verb, self._url)
        for child in verb:
            if child.tag in ("Say", "Play", "Pause"):
                self._speak(child)
        self.gathering = gathering
        self.state = "gathering"

    def _gather_key(self, gathering: Gathering, key: str) -> None:
        """Take one key during a Gather; submit when the input is complete."""
        if key == gathering.finish_on_key and gathering.finish_on_key:
            self._submit(self._take_gathering(), {"Digits": gathering.digits, "FinishedOnKey": key})
        else:
            gathering.digits += key
            if gathering.num_digits is not None and len(gathering.digits) >= gathering.num_digits:
                self._submit(self._take_gathering(), {"Digits": gathering.digits})
        self._run()

    def _take_gathering(self) -> Gathering:
        """Stop gathering and return what was being gathered."""
        gathering = self.gathering
        assert gathering is not None
        self.gathering = None
        self.state = "running"
        return gathering

    def _submit(self, gathering: Gathering, params: dict[str, str]) -> None:
        """Post a Gather's result to its action and follow the answer."""
        self._follow(gathering.action, gathering.method, params)

    def _begin_record(self, verb: ET.Element) -> None:
        """Beep and start listening."""
        self.recording = read_record(verb, self._url)
        self.state = "recording"
        if verb.get("playBeep", "true") == "true":
            self._hear(Heard("beep", "[beep]"))

    def _finish_recording(self, *, digits: str | None, hung_up: bool) -> None:
        """Close a Record: file it (or report it absent) and move on as Twilio does."""
        recording = self.recording
        assert recording is not None
        self.recording = None
        self.state = "running"
        result = file_recording(self.host, self, recording, digits=digits, hung_up=hung_up)
        if result is not None and not hung_up:
            self._follow(recording.action, recording.method, result)

    def _begin_dial(self, verb: ET.Element) -> None:
        """Ring the dialled number and wait for it."""
        dialing = read_dial(verb, self._url)
        self.dialing = dialing
        self.state = "dialing"
        if not dialing.number or not self.host.start_dial(self, dialing):
            self.heard.append(Heard("note", f"could not dial {dialing.number!r}"))
            self._finish_dial(0, "failed")

    def _finish_dial(self, duration: int, status: str) -> None:
        """After a Dial: post its action and follow it, or go on with the next verb."""
        dialing = self.dialing
        assert dialing is not None
        self.dialing = None
        self.state = "running"
        if status != "completed" or duration == 0:
            self.heard.append(Heard("note", f"dial {status}"))
        if dialing.action:
            self._follow(dialing.action, dialing.method, dialing.action_params(status, duration))

    # -- documents ---------------------------------------------------------------------------

    def _follow(self, url: str, method: str, extra: dict[str, str]) -> None:
        """Request TwiML from the app and load it; an app error ends the call like Twilio."""
        self._documents_this_step += 1
        if self._documents_this_step > _MAX_DOCUMENTS_PER_STEP:
            raise TwimlError(f"more than {_MAX_DOCUMENTS_PER_STEP} documents in a row: a loop?")
        params = dict(self.host.call_params(self), **extra)
        text = self.host.fetch_twiml(self, url, method, params)
        if text is None:
            self._application_error()
            return
        self._load(text, url)

    def _load(self, text: str, url: str | None) -> None:
        """Make ``text`` the current document."""
        try:
            root = parse_document(text)
        except TwimlError as error:
            self.host.report_error(self, f"{error} (from {url or 'inline TwiML'})")
            self._application_error()
            return
        self._verbs = list(root)
        self._position = 0
        self._document_url = url

    def _application_error(self) -> None:
        """Say what Twilio says when the app fails, and end the call."""
        self.heard.append(Heard("say", APPLICATION_ERROR))
        self._verbs, self._position = [], 0
        self.call_status = "completed"
        self._end("completed")

    def _url(self, target: str | None) -> str:
        """Resolve an action URL against the current document; none means the document."""
        base = self._document_url or ""
        if not target:
            if not base:
                raise TwimlError("a verb without an action URL in inline TwiML")
            return base
        return urljoin(base, target)

    def _end(self, status: str) -> None:
        """End the call once."""
        if self.state == "ended":
            return
        self.state = "ended"
        self._documents_this_step = 0
        self.gathering = self.recording = self.dialing = None
        self.host.end_call(self, status)
