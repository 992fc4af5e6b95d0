"""The incident's log told in sentences: every kind the code logs, names, order, the rest.

Pure tests of ``escalation.timeline``: plain records in, sentences out. The lines below
are shaped as each area logs them (see the ``log_event`` calls they name).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from escalation.sentences import SENTENCES
from escalation.timeline import Context, Entry, timeline

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # Sun 02:00 in Oregon
CTX = Context(
    caller="Pat Jones",
    caller_number="+15035550111",
    names={"alex": "Alex Rivera", "jordan": "Jordan Lee", "casey": "Casey Nguyen"},
    zone=ZoneInfo("America/Los_Angeles"),
    currency="USD",
    acknowledger="Alex Rivera",
)


@dataclass
class Record:
    """A stored log line, as the timeline reads it."""

    kind: str
    actor: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    at: datetime = T0
    id: int = 0


def told(*records: Record) -> list[Entry]:
    numbered = [
        Record(r.kind, r.actor, r.detail, r.at, r.id or n) for n, r in enumerate(records, 1)
    ]
    return timeline(numbered, CTX)


def say(kind: str, actor: str | None = None, **detail: Any) -> str:
    """Return the sentence for one line."""
    return told(Record(kind, actor, detail))[0].sentence


@pytest.mark.parametrize(
    ("record", "sentence"),
    [
        # voiceline.line: the caller
        (Record("opened", "+15035550111", {"priority": "emergency", "missed": False}), "Pat Jones called the emergency line"),
        (Record("opened", "+15035550111", {"priority": "emergency", "missed": True}), "Pat Jones called but hung up before leaving a message"),
        (Record("opened", "+15035550111", {"priority": "standard"}), "Pat Jones called and left a message for the next business day"),
        (Record("message_recorded", None, {"recording_sid": "RE1", "duration_seconds": 8}), "Pat Jones left a message (8 s)"),
        (Record("caller_added_message", None, {"duration_seconds": 75}), "Pat Jones added to their message (1 min 15 s)"),
        (Record("caller_called_again", "+15035550111", {"call_sid": "CA1"}), "Pat Jones called again and heard how the incident stands"),
        (Record("billable_consent", "+15035550111", {"rate": "1.5x"}), "Pat Jones agreed to pay for emergency support (1.5x the standard rate)"),
        # escalation.dispatch and escalation.callbacks: the pages
        (Record("page_sent", None, {"key": "0.0.alex.sms.1", "channel": "sms", "sid": "SM1"}), "Alex Rivera was texted"),
        (Record("page_sent", None, {"key": "0.1.jordan.voice.2", "channel": "voice"}), "Jordan Lee was called (attempt 2)"),
        (Record("page_sent", None, {"key": "reminder.alex.sms.1", "channel": "sms"}), "Alex Rivera was texted a reminder to call back"),
        (Record("page_sent", None, {"key": "warning.casey.voice.1"}), "Casey Nguyen was called a warning: the callback is late"),
        (Record("page_status", "jordan", {"key": "0.1.jordan.voice.1", "status": "busy"}), "Jordan Lee did not answer the call (busy)"),
        (Record("page_status", "jordan", {"key": "0.1.jordan.voice.1", "status": "no-answer"}), "Jordan Lee did not answer the call (no answer)"),
        (Record("page_status", "alex", {"key": "0.0.alex.sms.1", "status": "delivered"}), "The text reached Alex Rivera"),
        (Record("page_status", "alex", {"key": "0.0.alex.sms.1", "status": "undelivered", "code": 30003}), "The text to Alex Rivera was not delivered (error 30003: unreachable destination handset: switched off or no signal)"),
        (Record("page_status", "alex", {"key": "0.0.alex.voice.1", "status": "completed", "answered_by": "machine_end_beep"}), "The call to Alex Rivera ended at a voicemail box"),
        (Record("page_status", "alex", {"key": "0.0.alex.voice.1", "status": "completed", "answered_by": "human"}), "Alex Rivera's page call ended"),
        (Record("page_machine", "alex", {"key": "0.0.alex.voice.1", "answered_by": "machine_start"}), "A voicemail box answered the call to Alex Rivera: not counted"),
        (Record("page_send_failed", None, {"key": "0.0.alex.sms.1", "code": 21211, "temporary": False, "detail": "HTTP 400"}), "The text to Alex Rivera could not be sent: invalid 'To' phone number"),
        (Record("page_queued", "alex", {"key": "0.0.alex.sms.2", "send_at": "2026-11-22T10:01:00+00:00"}), "The text to Alex Rivera is held until Sun 22 Nov 2026 02:01:00 PST: too many pages to one phone"),
        (Record("page_in_doubt", None, {"key": "0.0.alex.sms.1"}), "No word from Twilio about the text to Alex Rivera; sending it again"),
        (Record("sms_opted_out", "alex", {"number": "+15035550201"}), "Alex Rivera texted STOP: texts cannot reach them until START"),
        # escalation.engine, through the runner
        (Record("escalation_started", None, {"detail": "policy 'Tier 1, then Tier 2': 2 steps, 2 passes", "event": "Opened"}), "Paging started, following “Tier 1, then Tier 2”"),
        (Record("step_started", None, {"detail": "step 2 of pass 1: paging casey, jordan by sms+voice; due 2026-11-22T10:10:00+00:00"}), "Step 2: paging Casey Nguyen and Jordan Lee by text and call"),
        (Record("step_started", None, {"detail": "step 1 of pass 2: paging alex by voice; due x"}), "Step 1 (round 2): paging Alex Rivera by call"),
        (Record("step_timed_out", None, {"detail": "step 1 of pass 1: nobody acknowledged in time"}), "Nobody acknowledged step 1 in time"),
        (Record("step_dead", None, {"detail": "step 2 of pass 1: no page can reach anyone; escalating now"}), "No page of step 2 can reach anyone; paging the next step now"),
        (Record("repeat", None, {"detail": "starting pass 2 of 2"}), "Starting round 2 of 2"),
        (Record("exhausted", None, {"detail": "nobody acknowledged after 2 pass(es) of the policy"}), "Nobody acknowledged after 2 rounds of paging; the admins were told"),
        (Record("acknowledged", "alex", {"detail": "by alex via sms", "event": "Acknowledged"}), "Alex Rivera acknowledged by text reply"),
        (Record("declined", "jordan", {"detail": "jordan via voice; escalating now"}), "Jordan Lee declined on the page call; paging the next step"),
        (Record("declined", "admin dana", {"detail": "admin dana via web; escalating now"}), "Admin dana escalated the incident; paging the next step"),
        (Record("ack_withdrawn", "alex", {"detail": "alex can no longer take it; escalating now"}), "Alex Rivera gave the incident back; paging the next step"),
        (Record("ack_refused", "casey", {"detail": "casey via sms: not paged for this incident"}), "Casey Nguyen's acknowledgement was not accepted: not paged for this incident"),
        (Record("called_back", "alex", {"detail": "by alex via voice, measured on the bridge"}), "Alex Rivera called Pat Jones back on the bridged call"),
        (Record("resolved", "admin dana", {"detail": "resolved by admin dana"}), "Admin dana resolved the incident"),
        (Record("fallback", None, {"detail": "alex: sms failed, paging by voice"}), "Alex Rivera could not get a text, so they get a call instead"),
        (Record("page_failed", None, {"detail": "page 0.0.alex.sms.1 failed (code 30006): giving up on this channel"}), "Gave up texting Alex Rivera: it failed"),
        (Record("reminder", None, {"detail": "no callback yet and the deadline is ..."}), "The callback is nearly due and nobody has called back: reminding Alex Rivera"),
        (Record("warned", None, {"detail": "step 2: jordan"}), "Warned Jordan Lee that the callback is nearly due"),
        (Record("admins_notified", None, {"detail": "jordan is unreachable: every channel failed"}), "The admins were told: jordan is unreachable: every channel failed"),
        (Record("paging_failed", None, {"detail": "no escalation policy applies: nobody was paged"}), "Nobody could be paged: no escalation policy applies: nobody was paged"),
        # escalation.voice_pages: the bridge to the caller
        (Record("bridge_started", "alex", {"key": "0.0.alex.voice.1", "to": "+15035550111"}), "Connecting Alex Rivera to Pat Jones"),
        (Record("bridge_failed", "alex", {"status": "no-answer"}), "Pat Jones did not answer Alex Rivera's callback (no answer)"),
        (Record("bridge_ended", "alex", {"seconds": "250"}), "Alex Rivera's call with Pat Jones ended after 4 min 10 s"),
        # escalation.voice_bundles: a call that read several incidents
        (Record("bundle_acknowledged", "alex", {"key": "0.0.alex.voice.1", "call": "CA1", "bundle": [4, 5]}), "Alex Rivera acknowledged it on one call that named several incidents"),
        # voiceline.sla: the promise
        (Record("callback_recorded", "alex", {"via": "bridge", "target": "30m wall", "is_met": True, "wall_seconds": 720}), "Alex Rivera called back on the bridged call 12 min after the message"),
        (Record("callback_recorded", "alex", {"via": "web", "target": "30m wall", "is_met": False, "wall_seconds": 2700, "minutes_over": 15, "credit": "150.00"}), "Alex Rivera called back logged by hand 45 min after the message, 15 min late; credit owed $150.00"),
        (Record("callback_recorded", None, {"via": "web", "target": None}), "Callback recorded"),
        (Record("restored", "admin dana", {"target": "4h business", "is_met": True, "wall_seconds": 9000, "business_seconds": 3600}), "Service was marked restored 1 h after the message"),
        (Record("sla_paused", "admin dana", {"reason": "waiting for access to the server room", "metrics": ["callback"]}), "Admin dana paused the promise clock: waiting for access to the server room"),
        (Record("sla_resumed", "admin dana", {"deadlines": {"callback": "2026-11-22T11:15:00+00:00"}}), "Admin dana restarted the promise clock; callback now due Sun 22 Nov 2026 03:15:00 PST"),
        (Record("sla_not_started", None, {"metric": "restoration", "error": "no business hours"}), "The restoration promise could not be started: no business hours"),
        # the admin page
        (Record("note", "admin dana", {"text": "Building closed until 6."}), "Admin dana added a note"),
    ],
)  # fmt: skip
def test_each_kind_reads_as_a_sentence(record: Record, sentence: str) -> None:
    assert told(record)[0].sentence == sentence


def test_a_missed_promise_is_marked_and_a_kept_one_too() -> None:
    late, kept = told(
        Record("callback_recorded", "alex", {"is_met": False, "minutes_over": 5}),
        Record("callback_recorded", "alex", {"is_met": True}),
    )
    assert (late.badge, late.tone, kept.badge, kept.tone) == ("breached", "bad", "met", "good")


def test_a_note_keeps_its_text_as_written() -> None:
    [entry] = told(Record("note", "admin dana", {"text": "<b>Spoke to Pat</b>"}))
    assert entry.quote == "<b>Spoke to Pat</b>"  # the template escapes it


def test_an_unknown_kind_still_shows_plainly_with_its_detail() -> None:
    [entry] = told(Record("widget_frobnicated", "alex", {"widget": "W-7", "count": 3}))
    assert entry.sentence == "Widget frobnicated (Alex Rivera)"
    assert not entry.is_technical
    assert entry.facts == (
        ("kind", "widget_frobnicated"),
        ("by", "alex"),
        ("widget", "W-7"),
        ("count", "3"),
    )


def test_a_line_with_unexpected_detail_still_shows_plainly() -> None:
    odd = told(
        Record("message_recorded", None, {"duration_seconds": "eight"}),
        Record("bridge_ended", "alex", {"seconds": None}),
        Record("sla_resumed", "alex", {"deadlines": ["not", "a", "mapping"]}),
    )
    assert [e.sentence for e in odd] == [
        "Message recorded",
        "Alex Rivera's call with Pat Jones ended",
        "Sla resumed (Alex Rivera)",
    ]


def test_echoes_and_bookkeeping_are_technical_and_the_story_is_not() -> None:
    technical = {"page_queued", "page_delivered", "page_no_answer", "timer_idle", "ignored", "handed_over_to_paging", "pages_cancelled"}  # fmt: skip
    entries = told(*(Record(k, None, {"key": "0.0.alex.sms.1"}) for k in sorted(SENTENCES)))
    assert technical <= {e.kind for e in entries if e.is_technical}
    story = {"opened", "page_sent", "page_status", "acknowledged", "called_back", "note"}
    assert not story & {e.kind for e in entries if e.is_technical}


def test_lines_are_told_by_time_then_by_when_they_were_written() -> None:
    later = T0 + timedelta(minutes=2)
    entries = told(
        Record("opened", "+15035550111", {"priority": "billable"}, at=later, id=1),
        Record("billable_consent", "+15035550111", {"rate": "1.5x"}, at=T0, id=2),
        Record("message_recorded", None, {"duration_seconds": 6}, at=later, id=3),
        Record("page_sent", None, {"key": "0.0.alex.sms.1"}, at=later, id=5),
        Record(
            "escalation_started", None, {"detail": "policy 'P': 1 steps, 1 passes"}, at=later, id=4
        ),
    )
    assert [e.id for e in entries] == [2, 1, 3, 4, 5]


def test_raw_detail_is_kept_for_whoever_needs_it() -> None:
    [entry] = told(Record("page_sent", None, {"key": "0.0.alex.sms.1", "sid": "SM9", "to": "+15035550201", "skip": None}))  # fmt: skip
    assert dict(entry.facts) == {"kind": "page_sent", "key": "0.0.alex.sms.1", "sid": "SM9", "to": "+15035550201"}  # fmt: skip


def _logged_kinds() -> set[str]:
    """Return every kind the product's code logs, read from its source."""
    kinds: set[str] = set()
    refused: set[str] = set()
    for path in [*ROOT.joinpath("escalation").glob("*.py"), *ROOT.joinpath("voiceline").rglob("*.py")]:  # fmt: skip
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else getattr(node.func, "id", "")
            )
            args = node.args
            if name == "log_event" and len(args) >= 3:
                kinds |= _strings(args[2])
            elif name in ("log", "finish") and args and isinstance(node.func, ast.Attribute):
                kinds |= _strings(args[0])
            elif name == "may_act" and len(args) >= 3:
                refused |= {f"{what}_refused" for what in _strings(args[2])}
    # The runner logs the engine's "opened" as escalation_started (the line logs its own).
    return kinds | refused | {"escalation_started"}


def _strings(node: ast.AST) -> set[str]:
    """Return the string constants in an expression, leaving f-strings' pieces out."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.JoinedStr):
        return set()
    return {s for child in ast.iter_child_nodes(node) for s in _strings(child)}


def test_every_kind_the_code_logs_has_a_sentence() -> None:
    logged = _logged_kinds()
    assert {
        "page_sent",
        "page_status",
        "callback_recorded",
        "ack_refused",
        "called_back",
        "note",
    } <= logged
    assert sorted(logged - set(SENTENCES)) == []
