"""The page bookkeeping of one engine transition: sending, retrying, cancelling, logging.

``Transition`` holds the evolving state and the actions of one call of
``escalation.engine.next``; ``escalation.rounds`` adds the step logic on top,
``escalation.delivery`` what became of each page, and the engine the other events.
Nothing here decides *when* to escalate; it only keeps pages exactly-once.

Retries: a temporarily failed page is tried again after 1 s, 4 s, 15 s and 40 s (five
tries in about a minute, so an API that is away for a minute is given up on), and never
later than the round allows: each wait is capped so that every try left still fits
before the step is due, so a short step gets its tries too. A retry the escalation makes
pointless (an ack, the next step) is logged as superseded, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from escalation.actions import Action, AdminKind, CancelPages, LogEvent, NotifyAdmins, SendPage
from escalation.policy import CHANNELS, Channel, Step
from escalation.state import EscalationState, Page, Purpose, Recipient, Roster

# The longest wait before attempt 2, 3, 4 and 5 of a temporarily failed page.
RETRY_BACKOFF = tuple(timedelta(seconds=s) for s in (1, 4, 15, 40))
MAX_ATTEMPTS = len(RETRY_BACKOFF) + 1


class Transition:
    """One call of ``next``: the evolving state and the actions gathered so far."""

    def __init__(self, state: EscalationState, now: datetime, roster: Roster) -> None:
        self.state = state
        self.now = now
        self.roster = roster
        self.actions: list[Action] = []

    def resolve(self, step: Step, except_analyst: str | None) -> list[Recipient]:
        """Return the distinct analysts a step's targets resolve to now, in policy order."""
        found: dict[str, Recipient] = {}
        for target in step.targets:
            if target not in self.roster:
                self.log("target_unresolved", f"{target.kind} {target.ref}: not in the roster")
                continue
            for recipient in self.roster[target]:
                if recipient.analyst != except_analyst:
                    found.setdefault(recipient.analyst, recipient)
        return list(found.values())

    def page_recipient(
        self,
        recipient: Recipient,
        channels: frozenset[Channel],
        purpose: Purpose,
        pass_no: int,
        step: int,
    ) -> bool:
        """Page one analyst on the wanted channels (or the other one); False if unreachable."""
        self.remember(recipient)
        if recipient.sms_stopped and "sms" in channels:
            self.mark_sms_stopped(recipient.analyst)
        wanted = [c for c in CHANNELS if c in channels]
        usable = [c for c in wanted if self.number(recipient.analyst, c)]
        if not usable:
            usable = [c for c in CHANNELS if c not in wanted and self.number(recipient.analyst, c)]
            if usable:
                self.log(
                    "fallback",
                    f"{recipient.analyst}: no usable {'/'.join(wanted)}, paging by {usable[0]}",
                )
            usable = usable[:1]
        if not usable:
            self.notify(
                "analyst_unreachable",
                f"{recipient.analyst} cannot be paged: no usable number",
                recipient.analyst,
            )
            return False
        for channel in usable:
            to = self.number(recipient.analyst, channel) or ""
            self.send(Page(purpose, pass_no, step, recipient.analyst, channel, to))
        return True

    def send(self, page: Page) -> None:
        """Record a page attempt and ask the runner to send it, once per key."""
        if self.state.find_page(page.key) is not None:
            self.log("ignored", f"page {page.key} exists already")
            return
        self.state = replace(self.state, pages=(*self.state.pages, page))
        self.actions.append(
            SendPage(page.key, page.analyst, page.channel, page.to, page.attempt, page.purpose)
        )

    def retry_at(self, page: Page) -> datetime:
        """Return when to try a temporarily failed page again: soon, and within its round."""
        wait = RETRY_BACKOFF[page.attempt - 1]
        due = self.state.step_due_at
        if page.purpose == "page" and due is not None:
            # Spread the tries left over the time left, with room for the last to fail too.
            tries_left = MAX_ATTEMPTS - page.attempt
            wait = min(wait, max(due - self.now, timedelta(0)) / (tries_left + 1))
        return self.now + wait

    def retry(self, page: Page) -> None:
        """Send the next attempt of a temporarily failed page, if its round still runs."""
        if not self.is_active(page):
            self.supersede(page, "its round is over")
            return
        attempt = self.update(page, attempt=page.attempt + 1, status="sending", retry_at=None)
        self.actions.append(
            SendPage(
                attempt.key,
                attempt.analyst,
                attempt.channel,
                attempt.to,
                attempt.attempt,
                attempt.purpose,
            )
        )
        self.log("page_retried", f"attempt {attempt.attempt} of {MAX_ATTEMPTS}: {attempt.key}")

    def stop_pages(
        self, purposes: tuple[Purpose, ...], except_analyst: str | None, why: str
    ) -> None:
        """Cancel pending retries and ask the runner to hang up calls still ringing."""
        self.cancel_retries(lambda page: page.purpose in purposes, why)
        # A text already handed to Twilio cannot be called back; a ringing call can.
        ringing = tuple(
            page.key
            for page in self.state.pages
            if page.purpose in purposes
            and page.channel == "voice"
            and page.status == "sending"
            and page.analyst != except_analyst
        )
        if ringing:
            self.actions.append(CancelPages(ringing))

    def cancel_retries(self, matches: Callable[[Page], bool], why: str) -> None:
        """Drop the scheduled retries of the pages ``matches`` selects, logging each."""
        for page in self.state.pages:
            if page.status == "retry_wait" and matches(page):
                self.supersede(page, why)

    def supersede(self, page: Page, why: str) -> None:
        """Give up a page's next attempt because the escalation no longer needs it."""
        self.update(page, status="cancelled", retry_at=None)
        self.log(
            "retry_superseded",
            f"page {page.key}: attempt {page.attempt + 1} not sent, {why}",
        )

    def is_active(self, page: Page) -> bool:
        """Return True if the page's round is still running (so retries make sense)."""
        if page.purpose == "page":
            return self.state.status == "paging" and self.state.in_round(page)
        return self.state.status == "acknowledged"

    def current_round(self) -> list[Page]:
        """Return the pages of the current round."""
        return [page for page in self.state.pages if self.state.in_round(page)]

    def may_act(self, analyst: str, via: str, what: str) -> bool:
        """Return True if the analyst may ack/decline/call back; log a refusal otherwise."""
        if self.state.status == "pending":
            self.log(f"{what}_refused", f"{analyst}: nobody has been paged yet")
            return False
        if via != "web" and not self.state.was_paged(analyst):
            self.log(f"{what}_refused", f"{analyst} via {via}: not paged for this incident")
            return False
        return True

    def number(self, analyst: str, channel: Channel) -> str | None:
        """Return the number to page an analyst on, or None when it cannot be used."""
        contact = self.state.contact(analyst)
        if contact is None:
            return None
        if channel == "sms" and (contact.sms_stopped or analyst in self.state.sms_stopped):
            return None
        return contact.number(channel)

    def remember(self, recipient: Recipient) -> None:
        """Keep the analyst's latest numbers for fallbacks and reminders."""
        others = tuple(c for c in self.state.contacts if c.analyst != recipient.analyst)
        self.state = replace(self.state, contacts=(*others, recipient))

    def mark_sms_stopped(self, analyst: str) -> None:
        """Record that the analyst texted STOP and tell the admins, once per incident."""
        if analyst in self.state.sms_stopped:
            return
        self.state = replace(self.state, sms_stopped=self.state.sms_stopped | {analyst})
        self.notify(
            "sms_opted_out", f"{analyst} has opted out of SMS (STOP) and cannot be texted", analyst
        )

    def page_for(self, key: str) -> Page | None:
        """Return the page with this key, logging unknown (stale or foreign) keys."""
        page = self.state.find_page(key)
        if page is None:
            self.log("ignored", f"no current page {key}")
        return page

    def update(self, page: Page, **changes: object) -> Page:
        """Replace one page in the state and return its new value."""
        new = replace(page, **changes)  # type: ignore[arg-type]
        self.state = replace(
            self.state, pages=tuple(new if p.key == page.key else p for p in self.state.pages)
        )
        return new

    def round_label(self) -> str:
        """Return e.g. ``step 2 of pass 1`` (or ``steps 1-2 of pass 1``) for the log."""
        state = self.state
        first = state.round_from - state.pass_no * len(state.policy.steps)
        steps = f"step {state.step + 1}"
        if 0 <= first < state.step:
            steps = f"steps {first + 1}-{state.step + 1}"
        return f"{steps} of pass {state.pass_no + 1}"

    def notify(self, kind: AdminKind, reason: str, analyst: str | None = None) -> None:
        """Tell the admins, and log that we did."""
        self.actions.append(NotifyAdmins(reason=reason, analyst=analyst, kind=kind))
        self.log("admins_notified", reason)

    def log(self, kind: str, detail: str) -> None:
        """Add a line to the incident's event log."""
        self.actions.append(LogEvent(kind=kind, detail=detail))
