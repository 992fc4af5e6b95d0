"""What became of each page, for one engine transition: delivered, unanswered, failed.

- Delivered: noted; only an ack stops the escalation.
- Refused by Twilio's API (``PageFailed``): a temporary failure is tried again on the same
  channel (``Transition.retry_at``); a permanent one, or the last try, gives the page up.
- Taken by Twilio, then reported failed or undelivered (``PageUndelivered``), or a voice
  page that ends busy, unanswered or on a machine (``PageNoAnswer``): the other channel
  goes to the same analyst at once, if it has not gone already; a temporary delivery
  failure is also tried again. The step's timer runs on.
- A page given up (permanent error, or tries spent) is reported to the admins
  (``page_failed``) and falls back to the other channel; STOP stops texting the analyst.
- When no page of the round can reach anyone any more, the next step is paged at once
  (``Rounds.escalate_if_round_dead``).
"""

from __future__ import annotations

from escalation.events import NoAnswerReason
from escalation.failures import OPTED_OUT_CODE
from escalation.policy import Channel
from escalation.rounds import Rounds
from escalation.state import Page
from escalation.transition import MAX_ATTEMPTS
from voiceline.twilio_errors import meaning_of

# Pages with no final result yet.
UNSETTLED = ("sending", "retry_wait")
# How a voice page ended without a person: what the log says, and why the text goes.
_NO_ANSWER = {
    "busy": ("busy", "busy"),
    "no_answer": ("not answered", "not answered"),
    "machine": ("a machine answered: message left, not counted as delivered", "on a machine"),
    "canceled": ("canceled", "canceled"),
}


class Delivery(Rounds):
    """The handlers of Twilio's reports about pages."""

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

    def page_no_answer(self, key: str, reason: NoAnswerReason) -> None:
        """Mark a voice page unanswered and text the analyst if no text went yet."""
        page = self.page_for(key)
        if page is None:
            return
        if page.status != "sending":
            self.log("ignored", f"page {key} is {page.status}; {reason} changes nothing")
            return
        page = self.update(page, status="no_answer")
        note, short = _NO_ANSWER[reason]
        self.log("page_no_answer", f"page {key}: {note}")
        if reason != "canceled":  # only we cancel page calls, when nobody needs them
            self.fall_back(page, f"{page.channel} {short}")
        self.escalate_if_round_dead()

    def page_failed(
        self, key: str, code: int | None, is_temporary: bool, detail: str, *, taken: bool
    ) -> None:
        """Handle a page Twilio refused (``taken`` False) or took and could not deliver."""
        page = self.page_for(key)
        if page is None:
            return
        if page.status != "sending":
            self.log("ignored", f"page {key} is {page.status}; the failure changes nothing")
            return
        what = "not delivered" if taken else "refused"
        label = f"page {key} {what} (code {code})"
        if code == OPTED_OUT_CODE and page.channel == "sms":
            self.stop_sms(page.analyst, f"Twilio refused page {key}: the number texted STOP")
            return
        again = is_temporary and page.attempt < MAX_ATTEMPTS
        if again and not self.is_active(page):
            self.supersede(page, f"{label}: temporary, but the escalation no longer needs it")
            return
        if again:
            retry_at = self.retry_at(page)
            page = self.update(page, status="retry_wait", retry_at=retry_at)
            self.log("page_retry", f"{label}: temporary, trying again at {retry_at.isoformat()}")
        else:
            page = self.update(page, status="failed", retry_at=None)
            self.log("page_failed", f"{label}: giving up on this channel")
            self.give_up(page, code, detail, taken=taken, spent=is_temporary)
        if taken or not again:
            self.fall_back(page, f"{page.channel} {'failed to deliver' if taken else 'failed'}")
        if page.purpose == "page":
            self.escalate_if_round_dead()

    def give_up(
        self, page: Page, code: int | None, detail: str, *, taken: bool, spent: bool
    ) -> None:
        """Tell the admins that a page could not go out, and why."""
        cause = detail or _error(code)
        if spent:
            cause = f"{MAX_ATTEMPTS} tries failed, the last with {cause}"
        outcome = "was not delivered" if taken else "could not be sent"
        self.notify(
            "page_failed",
            f"page {page.key} to {page.analyst} by {page.channel} {outcome}: {cause}",
            page.analyst,
        )

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
            if page.analyst == analyst and page.channel == "sms" and page.status in UNSETTLED
        ]
        for key in unsettled:
            # Re-read: an escalation caused by an earlier page may have settled this one.
            page = self.state.find_page(key)
            if page is not None and page.status in UNSETTLED:
                page = self.update(page, status="failed", retry_at=None)
                self.log("page_failed", f"page {key}: {why}")
                self.fall_back(page, "sms refused (STOP)")
                if page.purpose == "page":
                    self.escalate_if_round_dead()

    def fall_back(self, page: Page, why: str) -> None:
        """Page the analyst on the other channel at once, unless it went already."""
        if not self.is_active(page):
            return
        other: Channel = "voice" if page.channel == "sms" else "sms"
        went = any(
            p.channel == other
            and (p.purpose, p.pass_no, p.step, p.analyst)
            == (page.purpose, page.pass_no, page.step, page.analyst)
            for p in self.state.pages
        )
        number = self.number(page.analyst, other)
        if number and not went:
            self.log("fallback", f"{page.analyst}: {why}, paging by {other}")
            self.send(Page(page.purpose, page.pass_no, page.step, page.analyst, other, number))


def _error(code: int | None) -> str:
    """Return how a notice names a Twilio error code."""
    if code is None:
        return "no answer from Twilio"
    meaning = meaning_of(code)
    return f"Twilio error {code} ({meaning})" if meaning else f"Twilio error {code}"
