"""The escalation state machine: ``next(state, event, now, roster) -> (state, actions)``.

Pure: no clock, no database, no Twilio. The runner loads the incident's state, resolves
who the policy's targets are right now (``roster``: target -> recipients, see
``escalation.policy.policy_targets``), calls ``next``, stores the new state, then performs
the actions in order. ``state.wake_at`` is when the runner must deliver ``TimerFired``.

How an escalation runs:

- ``Opened`` enters step 1 of pass 1: every analyst the step's targets resolve to is
  paged on the step's channels, and the step is due ``delay`` later. A step that
  resolves to nobody, or to nobody reachable, is skipped at once and logged; a step
  with a zero delay pages the next step at the same time (one round, see
  ``escalation.state``).
- When the step is due (``TimerFired``), the next step starts; after the last step the
  next pass starts; after ``repeat + 1`` passes the state is ``exhausted`` and the
  admins are told. A late ack still counts.
- What becomes of each page is ``escalation.delivery``'s: retries that fit the step, the
  other channel at once when a page is not delivered or a call not answered, admins told
  of every page given up. When no page of the round can reach anyone any more, the next
  step is paged at once instead of waiting out the delay (and the admins told when no
  page could go out at all).
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
from datetime import datetime

from escalation.actions import Action, CancelTimer, ScheduleTimer
from escalation.delivery import Delivery
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
    PageUndelivered,
    Resolved,
    TimerFired,
)
from escalation.state import EscalationState, Roster, Status, as_utc


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
        case PageFailed(page_key=key, code=code, is_temporary=temporary, detail=detail):
            run.page_failed(key, code, temporary, detail, taken=False)
        case PageUndelivered(page_key=key, code=code, is_temporary=temporary):
            run.page_failed(key, code, temporary, "", taken=True)
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


class _Escalation(Delivery):
    """The event handlers of one transition."""

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
        """Do whatever is due: retry pages, escalate a timed-out step, remind."""
        before = self.state
        # Retries first: one that came due inside the step still goes to its analyst.
        due_retries = [
            page
            for page in self.state.pages
            if page.status == "retry_wait"
            and page.retry_at is not None
            and page.retry_at <= self.now
        ]
        for page in due_retries:
            self.retry(page)
        due = self.state.step_due_at
        if self.state.status == "paging" and due is not None and due <= self.now:
            self.log("step_timed_out", f"{self.round_label()}: nobody acknowledged in time")
            self.enter(self.state.pass_no, self.state.step + 1)
        reminder_at = self.state.reminder_at
        if reminder_at is not None and reminder_at <= self.now:
            self.remind()
        if self.state == before:
            self.log("timer_idle", "nothing was due")

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
        self.stop_pages(("page",), except_analyst=analyst, why=f"acknowledged by {analyst}")
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
            self.stop_pages(
                ("reminder", "warning"), except_analyst=None, why=f"{analyst} withdrew the ack"
            )
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
            self.notify("reminder_failed", f"cannot remind {acker}: no number to page", acker)
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
        self.notify(
            "deadline_near",
            f"callback deadline near, {acker} has not called back, no next tier to warn",
        )

    def finish(self, status: Status, detail: str, except_analyst: str | None) -> None:
        """End the escalation as called back or resolved."""
        self.stop_pages(
            ("page", "reminder", "warning"),
            except_analyst=except_analyst,
            why=f"{status}: {detail}",
        )
        self.state = replace(self.state, status=status, step_due_at=None)
        self.log(status, detail)
