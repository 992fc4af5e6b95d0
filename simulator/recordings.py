"""What a finished ``<Record>`` leaves: the recording and Twilio's callbacks, apart from the call."""

from __future__ import annotations

import math
from typing import Any, TypeVar

from simulator.verbs import Recording, SessionHost, speaking_seconds

Session = TypeVar("Session")


def file_recording(
    host: SessionHost[Session],
    session: Session,
    recording: Recording,
    *,
    digits: str | None,
    hung_up: bool,
) -> dict[str, str] | None:
    """Store what was said, send Twilio's callbacks, and return the action's parameters."""
    text = " ".join(recording.words)
    params = host.call_params(session)
    if not text:  # Twilio stores nothing, and the call goes on with the next verb
        if recording.status_callback and "absent" in recording.status_events:
            status = dict(params, RecordingStatus="absent", RecordingDuration="0")
            _recording_callback(host, recording, status)
        return None
    duration = max(1, math.ceil(speaking_seconds(text)))
    sid, media_url = host.store_recording(session, text, duration)
    result = {
        "RecordingUrl": media_url,
        "RecordingSid": sid,
        "RecordingDuration": str(duration),
    }
    if digits is not None:
        result["Digits"] = digits
    if hung_up:  # nobody is left to hear the action's answer, but Twilio still asks
        host.notify(recording.action, recording.method, dict(params, **result), "action")
    if recording.status_callback and "completed" in recording.status_events:
        status = dict(params, RecordingStatus="completed", **result)
        status.pop("Digits", None)
        _recording_callback(host, recording, status)
    if recording.transcribe_callback and 2 <= duration <= 120:
        transcription = dict(params, **result, TranscriptionText=text)
        transcription.update(
            TranscriptionSid="TR" + sid[2:],
            TranscriptionStatus="completed",
            TranscriptionType="fast",
        )
        transcription.pop("Digits", None)
        url = recording.transcribe_callback
        host.queue_callback(url, "POST", transcription, "transcription")
    return result


def _recording_callback(
    host: SessionHost[Any], recording: Recording, params: dict[str, str]
) -> None:
    """Queue a recording status callback."""
    assert recording.status_callback is not None
    params.update(RecordingSource="RecordVerb", RecordingChannels="1", ErrorCode="0")
    url = recording.status_callback
    host.queue_callback(url, recording.status_callback_method, params, "recording-status")
