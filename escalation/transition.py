"""The page bookkeeping of one engine transition: sending, retrying, cancelling, logging.

``Transition`` holds the evolving state and the actions of one call of
``escalation.engine.next``; the engine subclasses it with the event handlers and the
step logic. Nothing here decides *when* to escalate; it only keeps pages exactly-once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from escalation.actions import Action, CancelPages, LogEvent, NotifyAdmins, SendPage
from escalation.policy import CHANNELS, Channel, Step
from escalation.state import EscalationState, Page, Purpose, Recipient, Roster

MAX_ATTEMPTS = 3
# Wait before attempt 2 and attempt 3 of a temporarily failed page.
RETRY_BACKOFF = (timedelta(seconds=5), timedelta(seconds=15))


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
            self.notify(f"{recipient.analyst} cannot be paged: no usable number", recipient.analyst)
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

    def retry(self, page: Page) -> None:
        """Send the next attempt of a temporarily failed page, if its round still runs."""
        if not self.is_active(page):
            self.update(page, status="cancelled", retry_at=None)
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

    def stop_pages(self, purposes: tuple[Purpose, ...], except_analyst: str | None) -> None:
        """Cancel pending retries and ask the runner to hang up calls still ringing."""
        self.cancel_retries(lambda page: page.purpose in purposes)
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

    def cancel_retries(self, matches: Callable[[Page], bool]) -> None:
        """Drop scheduled retries of the pages ``matches`` selects."""
        self.state = replace(
            self.state,
            pages=tuple(
                replace(p, status="cancelled", retry_at=None)
                if p.status == "retry_wait" and matches(p)
                else p
                for p in self.state.pages
            ),
        )

    def is_active(self, page: Page) -> bool:
        """Return True if the page's round is still running (so retries make sense)."""
        if page.purpose == "page":
            return self.state.status == "paging" and (page.pass_no, page.step) == (
                self.state.pass_no,
                self.state.step,
            )
        return self.state.status == "acknowledged"

    def current_round(self) -> list[Page]:
        """Return the pages of the current pass and step."""
        state = self.state
        return [
            p
            for p in state.pages
            if p.purpose == "page" and (p.pass_no, p.step) == (state.pass_no, state.step)
        ]

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
        self.notify(f"{analyst} has opted out of SMS (STOP) and cannot be texted", analyst)

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
        """Return e.g. ``step 2 of pass 1`` for the log."""
        return f"step {self.state.step + 1} of pass {self.state.pass_no + 1}"

    def notify(self, reason: str, analyst: str | None = None) -> None:
        """Tell the admins, and log that we did."""
        self.actions.append(NotifyAdmins(reason=reason, analyst=analyst))
        self.log("admins_notified", reason)

    def log(self, kind: str, detail: str) -> None:
        """Add a line to the incident's event log."""
        self.actions.append(LogEvent(kind=kind, detail=detail))
