"""The escalation state machine: ``next(state, event, now, roster) -> (state, actions)``.

Pure: no clock, no database, no Twilio. The runner loads the incident's state, resolves
who the policy's targets are right now (``roster``: target -> recipients, see
``escalation.policy.policy_targets``), calls ``next``, stores the new state, then performs
the actions in order. ``state.wake_at`` is when the runner must deliver ``TimerFired``.

How an escalation runs:

- ``Opened`` enters step 1 of pass 1: every analyst the step's targets resolve to is
  paged on the step's channels, and the step is due ``delay`` later. A step that
  resolves to nobody, or to nobody reachable, is skipped at once and logged; a step
  with a zero delay pages the next step at the same time.
- When the step is due (``TimerFired``), the next step starts; after the last step the
  next pass starts; after ``repeat + 1`` passes the state is ``exhausted`` and the
  admins are told. A late ack still counts.
- A temporary failure is retried after 5 s, then 15 s (three attempts); a permanent
  one, STOP (code 21610 or ``OptedOut``), or used-up retries fall back to the other
  channel. An analyst with no working channel is reported to the admins. When no page
  of the step can reach anyone any more (failed, busy, no answer, machine), the step
  escalates at once instead of waiting out its delay.
- ``Declined`` by a paged analyst of the current step (or from the admin page)
  escalates at once; by the acknowledger, it withdraws the ack and escalates from the
  acknowledged step.
- ``Acknowledged`` (only from an analyst this incident paged, or via the admin page)
  stops paging and cancels pages still ringing. If no callback is logged by
  ``sla_deadline - remind_before``, the acknowledger is paged again (``reminder``) and
  the next step with anyone on call is warned (``warning``), or the admins if none.
- ``CallbackLogged`` and ``Resolved`` end the escalation; later events are logged no-ops.

Every event in every state has a defined result; events that change nothing (a
duplicate status callback, a stray timer, an ack after the callback) return the same
state and a ``LogEvent`` saying why.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from escalation.actions import Action, CancelTimer, NotifyAdmins, ScheduleTimer
from escalation.errors import EscalationError
from escalation.events import (
    Acknowledged,
    CallbackLogged,
    Declined,
    Event,
    Opened,
    OptedOut,
    PageDelivered,
    PageFailed,
    PageNoAnswer,
    Resolved,
    TimerFired,
)
from escalation.failures import OPTED_OUT_CODE
from escalation.policy import Channel
from escalation.state import EscalationState, Page, Roster, Status, as_utc
from escalation.transition import MAX_ATTEMPTS, RETRY_BACKOFF, Transition

# Pages with no final result yet.
_UNSETTLED = ("sending", "retry_wait")


# Named as the architecture names it; it shadows the builtin only inside this module.
def next(
    state: EscalationState, event: Event, now: datetime, roster: Roster
) -> tuple[EscalationState, list[Action]]:
    """Return the state after ``event`` at ``now`` and the actions the runner must take."""
    if not isinstance(event, Event):
        raise EscalationError(f"not an escalation event: {event!r}")
    run = _Escalation(state, as_utc(now, "now"), roster)
    if state.is_final:
        run.log("ignored", f"{type(event).__name__} after the escalation ended ({state.status})")
        return state, run.actions
    match event:
        case Opened():
            run.open()
        case TimerFired():
            run.timer_fired()
        case PageDelivered(page_key=key):
            run.page_delivered(key)
        case PageNoAnswer(page_key=key, reason=reason):
            run.page_no_answer(key, reason)
        case PageFailed(page_key=key, code=code, is_temporary=is_temporary):
            run.page_failed(key, code, is_temporary)
        case Acknowledged(analyst=analyst, via=via):
            run.acknowledge(analyst, via)
        case Declined(analyst=analyst, via=via):
            run.decline(analyst, via)
        case CallbackLogged(analyst=analyst, via=via, is_reported=is_reported):
            run.callback(analyst, via, is_reported)
        case OptedOut(analyst=analyst):
            run.opted_out(analyst)
        case Resolved(by=by):
            run.finish("resolved", f"resolved by {by or 'an admin'}", except_analyst=None)
    before, after = state.wake_at, run.state.wake_at
    if after != before:
        run.actions.append(CancelTimer() if after is None else ScheduleTimer(after))
    return run.state, run.actions


class _Escalation(Transition):
    """The event handlers and the step logic of one transition."""

    def open(self) -> None:
        """Start paging at step 1 of pass 1."""
        if self.state.status != "pending":
            self.log("ignored", "the escalation was already opened")
            return
        policy = self.state.policy
        self.state = replace(self.state, status="paging", opened_at=self.now)
        self.log(
            "opened",
            f"policy {policy.name!r}: {len(policy.steps)} steps, {policy.repeat + 1} passes",
        )
        self.enter(0, 0)

    def timer_fired(self) -> None:
        """Do whatever is due: escalate a timed-out step, retry pages, remind."""
        before = self.state
        due = self.state.step_due_at
        if self.state.status == "paging" and due is not None and due <= self.now:
            self.log("step_timed_out", f"{self.round_label()}: nobody acknowledged in time")
            self.enter(self.state.pass_no, self.state.step + 1)
        due_retries = [
            page
            for page in self.state.pages
            if page.status == "retry_wait"
            and page.retry_at is not None
            and page.retry_at <= self.now
        ]
        for page in due_retries:
            self.retry(page)
        reminder_at = self.state.reminder_at
        if reminder_at is not None and reminder_at <= self.now:
            self.remind()
        if self.state == before:
            self.log("timer_idle", "nothing was due")

    def page_delivered(self, key: str) -> None:
        """Mark a page delivered; it does not stop the escalation (only an ack does)."""
        page = self.page_for(key)
        if page is None:
            return
        if page.status in ("delivered", "failed", "no_answer"):
            self.log("ignored", f"page {key} already ended as {page.status}")
            return
        self.update(page, status="delivered", retry_at=None)
        self.log("page_delivered", f"page {key} reached {page.analyst}")

    def page_no_answer(self, key: str, reason: str) -> None:
        """Mark a voice page unanswered; a machine answering is not a delivery."""
        page = self.page_for(key)
        if page is None:
            return
        if page.status != "sending":
            self.log("ignored", f"page {key} is {page.status}; {reason} changes nothing")
            return
        self.update(page, status="no_answer")
        note = (
            "a machine answered: message left, not counted as delivered"
            if reason == "machine"
            else reason.replace("_", " ")
        )
        self.log("page_no_answer", f"page {key}: {note}")
        self.escalate_if_step_dead()

    def page_failed(self, key: str, code: int | None, is_temporary: bool) -> None:
        """Retry a temporary failure; otherwise fall back to the other channel."""
        page = self.page_for(key)
        if page is None:
            return
        if page.status != "sending":
            self.log("ignored", f"page {key} is {page.status}; the failure changes nothing")
            return
        label = f"page {key} failed (code {code})"
        if code == OPTED_OUT_CODE and page.channel == "sms":
            self.stop_sms(page.analyst, f"Twilio refused page {key}: the number texted STOP")
            return
        if is_temporary and page.attempt < MAX_ATTEMPTS and self.is_active(page):
            retry_at = self.now + RETRY_BACKOFF[page.attempt - 1]
            self.update(page, status="retry_wait", retry_at=retry_at)
            self.log("page_retry", f"{label}: temporary, trying again at {retry_at.isoformat()}")
            return
        page = self.update(page, status="failed", retry_at=None)
        self.log("page_failed", f"{label}: giving up on this channel")
        self.after_channel_lost(page)

    def acknowledge(self, analyst: str, via: str) -> None:
        """Stop paging: someone has the incident."""
        if not self.may_act(analyst, via, "ack"):
            return
        if self.state.status == "acknowledged":
            self.log("ignored", f"already acknowledged by {self.state.acknowledged_by}")
            return
        self.state = replace(
            self.state,
            status="acknowledged",
            acknowledged_by=analyst,
            acknowledged_at=self.now,
            step_due_at=None,
        )
        self.stop_pages(("page",), except_analyst=analyst)
        self.log("acknowledged", f"by {analyst} via {via}")
        if self.state.sla_deadline is not None and self.state.reminder_at is None:
            self.log("reminder_skipped", "the reminder point had passed when the ack came")

    def decline(self, analyst: str, via: str) -> None:
        """Escalate now: the paged analyst (or the acknowledger) cannot take it."""
        if not self.may_act(analyst, via, "decline"):
            return
        status = self.state.status
        if status == "acknowledged" and analyst == self.state.acknowledged_by:
            self.log("ack_withdrawn", f"{analyst} can no longer take it; escalating now")
            self.stop_pages(("reminder", "warning"), except_analyst=None)
            self.state = replace(
                self.state, status="paging", acknowledged_by=None, acknowledged_at=None
            )
            self.enter(self.state.pass_no, self.state.step + 1)
        elif status == "paging" and (
            via == "web" or any(page.analyst == analyst for page in self.current_round())
        ):
            self.log("declined", f"{analyst} via {via}; escalating now")
            self.enter(self.state.pass_no, self.state.step + 1)
        else:
            self.log("ignored", f"decline from {analyst} while {status}: nothing to escalate")

    def callback(self, analyst: str, via: str, is_reported: bool) -> None:
        """End the escalation: the caller has been called back."""
        if not self.may_act(analyst, via, "callback"):
            return
        if self.state.acknowledged_by is None:
            # Calling the customer back is the strongest acknowledgement there is.
            self.state = replace(self.state, acknowledged_by=analyst, acknowledged_at=self.now)
        self.state = replace(self.state, callback_by=analyst, callback_at=self.now)
        how = "reported by the analyst" if is_reported else "measured on the bridge"
        self.finish("called_back", f"by {analyst} via {via}, {how}", except_analyst=analyst)

    def opted_out(self, analyst: str) -> None:
        """Stop using SMS for an analyst who texted STOP; fall back to voice."""
        if analyst in self.state.sms_stopped:
            self.log("ignored", f"{analyst} had already opted out of SMS")
            return
        self.stop_sms(analyst, f"{analyst} texted STOP")

    def stop_sms(self, analyst: str, why: str) -> None:
        """Fail the analyst's unsettled SMS pages and fall back to voice for each."""
        self.mark_sms_stopped(analyst)
        unsettled = [
            page.key
            for page in self.state.pages
            if page.analyst == analyst and page.channel == "sms" and page.status in _UNSETTLED
        ]
        for key in unsettled:
            # Re-read: an escalation caused by an earlier page may have settled this one.
            page = self.state.find_page(key)
            if page is not None and page.status in _UNSETTLED:
                page = self.update(page, status="failed", retry_at=None)
                self.log("page_failed", f"page {key}: {why}")
                self.after_channel_lost(page)

    def enter(self, pass_no: int, step_index: int) -> None:
        """Start a step, skipping at once steps that resolve to nobody reachable."""
        steps = self.state.policy.steps
        self.cancel_retries(lambda page: page.purpose == "page")
        while True:
            if step_index >= len(steps):
                pass_no, step_index = pass_no + 1, 0
                if pass_no > self.state.policy.repeat:
                    self.exhaust()
                    return
                self.log("repeat", f"starting pass {pass_no + 1} of {self.state.policy.repeat + 1}")
            step = steps[step_index]
            self.state = replace(
                self.state, pass_no=pass_no, step=step_index, step_due_at=self.now + step.delay
            )
            paged = [
                recipient.analyst
                for recipient in self.resolve(step, except_analyst=None)
                if self.page_recipient(recipient, step.channels, "page", pass_no, step_index)
            ]
            if not paged:
                targets = ", ".join(f"{t.kind} {t.ref}" for t in step.targets)
                self.log("step_skipped", f"{self.round_label()}: nobody reachable ({targets})")
            else:
                due = self.now + step.delay
                self.log(
                    "step_started",
                    f"{self.round_label()}: paging {', '.join(paged)} by "
                    f"{'+'.join(sorted(step.channels))}; due {due.isoformat()}",
                )
            if paged and step.delay > timedelta(0):
                return
            step_index += 1

    def exhaust(self) -> None:
        """Stop paging after the last pass; late acks still count."""
        self.state = replace(self.state, status="exhausted", step_due_at=None)
        passes = self.state.policy.repeat + 1
        reason = f"nobody acknowledged after {passes} pass(es) of the policy"
        self.log("exhausted", reason)
        self.actions.append(NotifyAdmins(reason=reason))

    def escalate_if_step_dead(self) -> None:
        """Escalate at once when no page of the current step can reach anyone any more."""
        pages = self.current_round()
        if self.state.status == "paging" and pages and not any(p.is_live for p in pages):
            self.log("step_dead", f"{self.round_label()}: no page can reach anyone; escalating now")
            self.enter(self.state.pass_no, self.state.step + 1)

    def remind(self) -> None:
        """Page the acknowledger again and warn the next step: the deadline is near."""
        self.state = replace(self.state, reminder_sent=True)
        acker = self.state.acknowledged_by or ""
        self.log("reminder", f"no callback yet and the deadline is {self.state.sla_deadline}")
        step = self.state.policy.steps[self.state.step]
        contact = self.state.contact(acker)
        if contact is None or not self.page_recipient(
            contact, step.channels, "reminder", self.state.pass_no, self.state.step
        ):
            self.notify(f"cannot remind {acker}: no number to page", acker)
        steps = self.state.policy.steps
        for index in range(self.state.step + 1, len(steps)):
            warned = [
                r.analyst
                for r in self.resolve(steps[index], except_analyst=acker)
                if self.page_recipient(
                    r, steps[index].channels, "warning", self.state.pass_no, index
                )
            ]
            if warned:
                self.log("warned", f"step {index + 1}: {', '.join(warned)}")
                return
        self.notify(f"callback deadline near, {acker} has not called back, no next tier to warn")

    def finish(self, status: Status, detail: str, except_analyst: str | None) -> None:
        """End the escalation as called back or resolved."""
        self.stop_pages(("page", "reminder", "warning"), except_analyst=except_analyst)
        self.state = replace(self.state, status=status, step_due_at=None)
        self.log(status, detail)

    def after_channel_lost(self, page: Page) -> None:
        """Fall back to the other channel; report the analyst if none is left."""
        if not self.is_active(page):
            return
        other: Channel = "voice" if page.channel == "sms" else "sms"
        siblings = [
            p
            for p in self.state.pages
            if (p.purpose, p.pass_no, p.step, p.analyst)
            == (page.purpose, page.pass_no, page.step, page.analyst)
        ]
        number = self.number(page.analyst, other)
        if number and not any(p.channel == other for p in siblings):
            self.log("fallback", f"{page.analyst}: {page.channel} failed, paging by {other}")
            self.send(Page(page.purpose, page.pass_no, page.step, page.analyst, other, number))
        elif all(p.status == "failed" for p in siblings):
            self.notify(f"{page.analyst} is unreachable: every channel failed", page.analyst)
        if page.purpose == "page":
            self.escalate_if_step_dead()
