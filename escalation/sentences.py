"""One sentence per kind of incident log line: "Alex Rivera was texted".

Every kind ``log_event`` writes anywhere (the line, paging and its engine, the SLA
ledger, the admin page) is in ``SENTENCES``; ``escalation.timeline`` shows a kind missing
here as its name in words. Pure: plain values in, plain values out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from escalation.event_words import (
    CALLBACK_VIA,
    VIA,
    Event,
    Line,
    channels,
    error_words,
    people,
    plain,
    step_words,
)
from voiceline.admin.formatting import duration, money
from voiceline.twilio_errors import meaning_of

# --- the caller's side ------------------------------------------------------------------


def _opened(e: Event) -> Line:
    caller = e.ctx.caller
    if e.detail.get("missed"):
        return Line(f"{caller} called but hung up before leaving a message", "warn")
    priority = e.text("priority")
    if priority == "standard":
        return Line(f"{caller} called and left a message for the next business day")
    if priority == "billable":
        return Line(f"{caller} called and asked for billable emergency support")
    return Line(f"{caller} called the emergency line")


def _message(verb: str) -> Callable[[Event], Line]:
    def write(e: Event) -> Line:
        seconds = e.detail.get("duration_seconds")
        length = f" ({duration(int(seconds))})" if seconds is not None else ""
        return Line(f"{e.ctx.caller} {verb}{length}")

    return write


def _consent(e: Event) -> Line:
    rate = e.text("rate")
    return Line(
        f"{e.ctx.caller} agreed to pay for emergency support"
        + (f" ({rate} the standard rate)" if rate else "")
    )


# --- paging -----------------------------------------------------------------------------


def _page_sent(e: Event) -> Line:
    page = e.page()
    verb = "texted" if page.channel == "sms" else "called"
    why = {"reminder": " a reminder to call back", "warning": " a warning: the callback is late"}
    return Line(f"{page.who} was {verb}{why.get(page.purpose, '')}{page.again}")


def _page_queued(e: Event) -> Line:
    page = e.page()
    if e.detail.get("send_at"):
        return Line(
            f"The {page.noun} to {page.who} is held until {e.local(e.detail['send_at'])}: "
            "too many pages to one phone",
            "warn",
        )
    return Line(f"A {page.noun} to {page.who} was queued", is_technical=True)


def _page_status(e: Event) -> Line:
    page, status = e.page(), e.text("status")
    error = error_words(e.detail.get("code"))
    why = f" ({error})" if error else ""
    if page.channel == "sms":
        if status == "delivered":
            return Line(f"The text reached {page.who}", "good")
        return Line(f"The text to {page.who} was not delivered{why}", "bad")
    if status in ("busy", "no-answer"):
        return Line(f"{page.who} did not answer the call ({status.replace('-', ' ')})", "warn")
    if status == "failed":
        return Line(f"The call to {page.who} failed{why}", "bad")
    if status == "canceled":
        return Line(f"The call to {page.who} was hung up", is_technical=True)
    answered = e.text("answered_by")
    if answered == "human":
        return Line(f"{page.who}'s page call ended")
    if answered.startswith(("machine", "fax")):
        return Line(f"The call to {page.who} ended at a voicemail box", "warn")
    return Line(f"The call to {page.who} ended without anyone pressing a key", "warn")


def _send_failed(e: Event) -> Line:
    page = e.page()
    reason = meaning_of(e.detail.get("code")) or e.text() or "refused"
    retry = "; trying again" if e.detail.get("temporary") else ""
    return Line(f"The {page.noun} to {page.who} could not be sent: {reason}{retry}", "bad")


def _engine_page_failed(e: Event) -> Line:
    page, text = e.page(), e.text()
    reason = "they texted STOP" if "STOP" in text else "it failed"
    return Line(f"Gave up {page.verb} {page.who}: {reason}", "bad")


def _fallback(e: Event) -> Line:
    found = re.match(r"(\S+): (?:(\w+) failed|no usable ([\w/]+)), paging by (\w+)", e.text())
    if not found:
        return Line("Paging by the other channel")
    code, failed, missing, other = found.groups()
    lost = channels((failed or missing or "").replace("/", "+"))
    return Line(
        f"{e.person(code)} could not get a {lost}, so they get a {channels(other)} instead",
        "warn",
    )


def _started(e: Event) -> Line:
    found = re.search(r"policy (['\"])(.+)\1", e.text())
    return Line(f"Paging started, following “{found.group(2)}”" if found else "Paging started")


def _step_started(e: Event) -> Line:
    found = re.search(r"paging (.+) by ([a-z+]+)", e.text())
    if not found:
        return Line(f"{step_words(e.text()).capitalize()} started")
    return Line(
        f"{step_words(e.text()).capitalize()}: paging {people(found.group(1), e)} "
        f"by {channels(found.group(2))}"
    )


def _warned(e: Event) -> Line:
    found = re.match(r"step (\d+): (.+)", e.text())
    who = people(found.group(2), e) if found else "the next step"
    return Line(f"Warned {who} that the callback is nearly due", "warn")


def _exhausted(e: Event) -> Line:
    found = re.search(r"after (\d+) pass", e.text())
    rounds = (
        f"{found.group(1)} round{'s' if found.group(1) != '1' else ''}" if found else "every round"
    )
    return Line(f"Nobody acknowledged after {rounds} of paging; the admins were told", "bad")


def _repeat(e: Event) -> Line:
    found = re.search(r"pass (\d+) of (\d+)", e.text())
    return Line(
        f"Starting round {found.group(1)} of {found.group(2)}" if found else "Starting again"
    )


def _acted(word: str) -> Callable[[Event], Line]:
    def write(e: Event) -> Line:
        via = re.search(r"via (\w+)", e.text())
        how = f" {VIA.get(via.group(1), '')}" if via else ""
        tone = "good" if word == "acknowledged" else ""
        return Line(f"{e.who} {word}{how.rstrip()}", tone)

    return write


def _declined(e: Event) -> Line:
    if (e.actor or "").startswith("admin "):
        return Line(f"{e.who} escalated the incident; paging the next step", "warn")
    via = re.search(r"via (\w+)", e.text())
    how = f" {VIA[via.group(1)]}" if via and via.group(1) in VIA else ""
    return Line(f"{e.who} declined{how}; paging the next step", "warn")


def _refused(what: str) -> Callable[[Event], Line]:
    def write(e: Event) -> Line:
        reason = e.text().split(": ", 1)[-1]
        return Line(f"{e.who}'s {what} was not accepted: {reason}", "warn")

    return write


def _called_back(e: Event) -> Line:
    via = re.search(r"via (\w+)", e.text())
    how = {"voice": " on the bridged call", "sms": " (reported by text)"}.get(
        via.group(1) if via else "", " (logged by hand)"
    )
    return Line(f"{e.who} called {e.ctx.caller} back{how}", "good")


def _reminder(e: Event) -> Line:
    who = e.ctx.acknowledger or "the analyst who acknowledged"
    return Line(f"The callback is nearly due and nobody has called back: reminding {who}", "warn")


def _bridge(e: Event, ending: str) -> Line:
    caller = e.ctx.caller
    if ending == "started":
        return Line(f"Connecting {e.who} to {caller}")
    if ending == "failed":
        status = e.text("status").replace("-", " ") or "no answer"
        return Line(f"{caller} did not answer {e.who}'s callback ({status})", "warn")
    seconds: Any = e.detail.get("seconds")
    length = f" after {duration(int(seconds))}" if str(seconds or "").isdigit() else ""
    return Line(f"{e.who}'s call with {caller} ended{length}")


# --- the promise (SLA) ------------------------------------------------------------------


def _outcome(e: Event, done: str) -> Line:
    seconds: Any = e.detail.get("wall_seconds")
    if "business" in e.text("target") and e.detail.get("business_seconds") is not None:
        seconds = e.detail.get("business_seconds")
    after = f" {duration(int(seconds))} after the message" if seconds is not None else ""
    met: Any = e.detail.get("is_met")
    sentence = f"{done}{after}"
    if met is False and e.detail.get("minutes_over") is not None:
        sentence += f", {duration(int(e.detail['minutes_over']) * 60)} late"
    credit = e.detail.get("credit")
    if met is False and credit not in (None, "", "0", "0.00"):
        sentence += f"; credit owed {money(credit, e.ctx.currency)}"
    badge = {True: "met", False: "breached"}.get(met) if isinstance(met, bool) else None
    return Line(sentence, {True: "good", False: "bad"}.get(met, "") if badge else "", badge=badge)


def _callback_recorded(e: Event) -> Line:
    how = CALLBACK_VIA.get(e.text("via"), "")
    who = f"{e.who} called back" if e.actor else "Callback recorded"
    return _outcome(e, f"{who}{' ' + how if how and e.actor else ''}")


def _resumed(e: Event) -> Line:
    due = (e.detail.get("deadlines") or {}).get("callback")
    then = f"; callback now due {e.local(due)}" if due else ""
    return Line(f"{e.who} restarted the promise clock{then}")


def _note(e: Event) -> Line:
    return Line(f"{e.who} added a note", quote=e.text("text"))


SENTENCES: dict[str, Callable[[Event], Line]] = {
    # the line (voiceline.line)
    "opened": _opened,
    "message_recorded": _message("left a message"),
    "caller_added_message": _message("added to their message"),
    "caller_called_again": plain("{caller} called again and heard how the incident stands"),
    "billable_consent": _consent,
    "handed_over_to_paging": plain("Handed over for paging", technical=True),
    "retry_superseded": plain("A retry was not sent: the escalation had moved on", technical=True),
    "found_unpaged": plain("Found open but never handed to paging; paging it now", "warn"),
    "spooled_values_dropped": plain(
        "Replayed from the spool; values no column could hold were left out", technical=True
    ),
    # the escalation (escalation.runner and the engine's log lines)
    "escalation_started": _started,
    "step_started": _step_started,
    "step_timed_out": plain("Nobody acknowledged {step} in time", "warn"),
    "step_skipped": plain("{step} skipped: nobody on call could be paged", "warn"),
    "step_dead": plain("No page of {step} can reach anyone; paging the next step now", "warn"),
    "repeat": _repeat,
    "exhausted": _exhausted,
    "acknowledged": _acted("acknowledged"),
    "bundle_acknowledged": plain(
        "{who} acknowledged it on one {page_noun} that named several incidents",
        "",
        True,
    ),
    "ack_withdrawn": plain("{who} gave the incident back; paging the next step", "warn"),
    "declined": _declined,
    "ack_refused": _refused("acknowledgement"),
    "decline_refused": _refused("decline"),
    "callback_refused": _refused("callback report"),
    "called_back": _called_back,
    "resolved": plain("{who} resolved the incident", "good"),
    "reminder": _reminder,
    "reminder_skipped": plain("No reminder: the acknowledgement came late", technical=True),
    "warned": _warned,
    "fallback": _fallback,
    "target_unresolved": plain("Nobody found to page: {detail}", "warn"),
    "roster_problem": plain("Problem finding who is on call: {detail}", "warn"),
    "admins_notified": plain("The admins were told: {detail}", "warn"),
    "paging_skipped": plain("Not paged: {detail}"),
    "paging_failed": plain("Nobody could be paged: {detail}", "bad"),
    "callback_not_recorded": plain("The callback could not be counted: {detail}", "bad"),
    "page_queued": _page_queued,
    "page_sent": _page_sent,
    "page_send_failed": _send_failed,
    "page_status": _page_status,
    "page_machine": plain("A voicemail box answered the call to {page_who}: not counted", "warn"),
    "page_in_doubt": plain(
        "No word from Twilio about the {page_noun} to {page_who}; sending it again", "warn"
    ),
    "page_dropped": plain("A queued {page_noun} to {page_who} was no longer needed", "", True),
    "page_failed": _engine_page_failed,
    "page_retry": plain("Will try {page_who} again shortly", technical=True),
    "page_retried": plain("Trying {page_who} again", technical=True),
    "page_delivered": plain("The page reached {page_who}", technical=True),
    "page_no_answer": plain("The page to {page_who} got no answer", technical=True),
    "pages_cancelled": plain("Pages still waiting were cancelled", technical=True),
    "timer_idle": plain("Checked the timer: nothing was due", technical=True),
    "ignored": plain("Nothing to do: {detail}", technical=True),
    "bridge_started": lambda e: _bridge(e, "started"),
    "bridge_failed": lambda e: _bridge(e, "failed"),
    "bridge_ended": lambda e: _bridge(e, "ended"),
    "sms_opted_out": plain("{who} texted STOP: texts cannot reach them until START", "warn"),
    # the promise (voiceline.sla)
    "callback_recorded": _callback_recorded,
    "restored": lambda e: _outcome(e, "Service was marked restored"),
    "sla_paused": plain("{who} paused the promise clock: {reason}"),
    "sla_resumed": _resumed,
    "sla_not_started": plain("The {metric} promise could not be started: {error}", "bad"),
    # the admin page
    "note": _note,
}
