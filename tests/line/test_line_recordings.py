"""The line, part two: recordings that arrive empty, late, twice or out of order, and repeat callers."""

from __future__ import annotations

from datetime import timedelta

from line_desk import PAT, ROBIN, count, events, incidents
from sqlalchemy import select

from tests.line_helpers import path_of
from voiceline import extensions
from voiceline.incidents.models import Recording
from voiceline.line.models import Call

# --- recordings: empty, hang-ups, duplicates, order --------------------------------------


def test_empty_recording_still_leaves_a_missed_call_incident(line, caller) -> None:
    call = caller(PAT)
    call.dial()
    record = call.press("1")
    fallthrough = record.one("Redirect").text or ""
    goodbye = call.post(path_of(fallthrough))
    assert "We did not hear a message" in goodbye.says()
    [incident] = incidents(line)
    assert incident.summary.startswith("Missed emergency call from Pat Jones")
    assert incident.next_due_at is not None  # someone still calls back


def test_absent_recording_callback_also_leaves_one_incident(line, caller) -> None:
    call = caller(PAT)
    call.dial()
    call.press("1")
    _, status = call.record()
    assert call.post_callback(status, RecordingStatus="absent", RecordingSid="RE" + "9" * 32) == 204
    assert call.post_callback(status, RecordingStatus="absent", RecordingSid="RE" + "9" * 32) == 204
    [incident] = incidents(line)
    assert incident.summary.startswith("Missed emergency call")
    assert count(line, Recording) == 0


def test_hang_up_before_the_beep_leaves_a_missed_emergency(line, caller) -> None:
    call = caller(PAT)
    call.dial()  # hears the menu, hangs up without pressing anything
    assert call.hang_up() == 204
    [incident] = incidents(line)
    assert incident.priority == "emergency"
    assert incident.summary.startswith("Missed emergency call from Pat Jones (Acme Dental)")
    assert incident.next_due_at is not None


def test_hang_up_after_the_message_adds_nothing(line, caller) -> None:
    call = caller(PAT)
    call.dial()
    call.press("1")
    call.leave_message()
    call.hang_up()
    assert len(incidents(line)) == 1


def test_duplicate_recording_callbacks_create_nothing_twice(line, caller) -> None:
    call = caller(PAT)
    call.dial()
    call.press("1")
    action, status = call.record()
    recording = {
        "RecordingSid": "RE" + "7" * 32,
        "RecordingUrl": "https://api.twilio.com/x/Recordings/RE" + "7" * 32,
        "RecordingDuration": "9",
    }
    for _ in range(2):
        assert call.post_callback(status, RecordingStatus="completed", **recording) == 204
        call.post(action, Digits="hangup", **recording)
    [incident] = incidents(line)
    assert count(line, Recording) == 1
    assert events(line, incident.id).count("opened") == 1
    assert events(line, incident.id).count("handed_over_to_paging") == 1


def test_recording_callback_before_the_action(line, caller) -> None:
    call = caller(PAT)
    call.dial()
    call.press("1")
    thanks, _ = call.leave_message(callback_first=True)
    assert "within 30 minutes" in thanks.says()
    [incident] = incidents(line)
    assert incident.summary.startswith("Emergency message from Pat Jones")
    assert count(line, Recording) == 1


def test_twilio_retrying_the_voice_webhook_is_harmless(line, caller) -> None:
    call = caller(PAT)
    first = call.dial()
    second = call.dial()
    assert first.says() == second.says()
    assert count(line, Call) == 1


# --- repeat callers ---------------------------------------------------------------------


def test_a_repeat_call_hears_the_status_and_adds_to_the_same_incident(line, caller, clock):
    first = caller(PAT)
    first.dial()
    first.press("1")
    first.leave_message()
    [incident] = incidents(line)
    clock.advance(timedelta(minutes=12))
    again = caller(ROBIN)  # a colleague at the same customer calls
    status = again.dial()
    assert "We received your message 12 minutes ago" in status.says()
    assert "will call you back within 30 minutes" in status.says()
    assert "add to your message" in status.says()
    thanks, _ = again.leave_message()
    assert "added this to your message" in thanks.says()
    [same] = incidents(line)
    assert same.id == incident.id
    assert same.clock_started_at == incident.clock_started_at
    assert count(line, Recording) == 2
    kinds = events(line, incident.id)
    assert kinds.count("handed_over_to_paging") == 1  # no duplicate paging
    assert "caller_called_again" in kinds and "caller_added_message" in kinds
    with extensions.database(line).session() as session:
        repeat = session.scalars(select(Call).filter_by(call_sid=again.call_sid)).one()
        assert repeat.incident_id == incident.id and repeat.route == "repeat"


def test_a_call_whose_end_was_never_reported_is_swept_into_a_missed_call(line, caller, clock):
    from voiceline.line.missed_calls import sweep_unfinished_calls

    call = caller(PAT)
    call.dial()  # hangs up in the menu; the number has no 'call status changes' URL
    with extensions.database(line).session() as session:
        assert sweep_unfinished_calls(session, clock.now() + timedelta(minutes=14)) == []
    with extensions.database(line).session() as session:
        [incident_id] = sweep_unfinished_calls(session, clock.now() + timedelta(minutes=16))
    with extensions.database(line).session() as session:
        assert sweep_unfinished_calls(session, clock.now() + timedelta(minutes=30)) == []
    [incident] = incidents(line)
    assert incident.id == incident_id
    assert incident.summary.startswith("Missed emergency call from Pat Jones")


def test_an_open_next_business_day_message_does_not_block_the_emergency_menu(line, caller, clock):
    first = caller(PAT)
    first.dial()
    first.press("2")
    first.leave_message()
    clock.advance(timedelta(minutes=60))
    colleague = caller(ROBIN)
    menu = colleague.dial()
    assert menu.has("Gather") and "If your business is down" in menu.says()
    colleague.press("1")
    colleague.leave_message()
    standard, emergency = incidents(line)
    assert (standard.priority, emergency.priority) == ("standard", "emergency")
    assert emergency.next_due_at is not None  # the emergency is paged


def test_a_repeat_call_after_a_missed_emergency_says_the_call_was_logged(line, caller, clock):
    first = caller(PAT)
    first.dial()
    first.hang_up()  # a missed emergency, paged
    clock.advance(timedelta(minutes=5))
    status = caller(PAT).dial()
    assert "We logged your earlier call 5 minutes ago" in status.says()
    assert "We received your message" not in status.says()
