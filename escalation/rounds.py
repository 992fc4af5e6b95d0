"""The step logic of one engine transition: entering rounds, giving them up, running out.

A round is the steps the escalation enters together (see ``escalation.state``). It ends
when its last step is due, when someone declines, or at once when no page of it can
reach anyone any more; after the last step of the last pass the escalation is exhausted.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from escalation.state import Page
from escalation.transition import Transition


class Rounds(Transition):
    """Entering steps and passes, and leaving them early."""

    def enter(self, pass_no: int, step_index: int) -> None:
        """Start a round at a step, skipping at once steps that resolve to nobody reachable."""
        steps = self.state.policy.steps
        self.cancel_retries(lambda page: page.purpose == "page", "the escalation moved on")
        first = True
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
            if first:
                self.state = replace(
                    self.state, round_from=self.state.position(pass_no, step_index)
                )
                first = False
            paged = [
                recipient.analyst
                for recipient in self.resolve(step, except_analyst=None)
                if self.page_recipient(recipient, step.channels, "page", pass_no, step_index)
            ]
            if not paged:
                targets = ", ".join(f"{t.kind} {t.ref}" for t in step.targets)
                label = f"step {step_index + 1} of pass {pass_no + 1}"
                self.log("step_skipped", f"{label}: nobody reachable ({targets})")
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
        pages = [page for page in self.state.pages if page.purpose == "page"]
        if not pages:
            reason = f"nobody could be paged in {passes} pass(es): no step resolved to anyone"
        elif all(page.status in ("failed", "cancelled") for page in pages):
            reason = f"nobody could be paged in {passes} pass(es): no page could go out"
        else:
            reason = f"nobody acknowledged after {passes} pass(es) of the policy"
        self.log("exhausted", reason)
        self.notify("exhausted", reason)

    def escalate_if_round_dead(self) -> None:
        """Escalate at once when no page of the current round can reach anyone any more."""
        pages = self.current_round()
        if self.state.status != "paging" or not pages or any(p.is_live for p in pages):
            return
        label = self.round_label()
        if all(page.status == "failed" for page in pages):
            self.notify(
                "step_failed",
                f"{label}: no page could go out ({_summary(pages)}); paging the next step now",
            )
        self.log("step_dead", f"{label}: no page can reach anyone; escalating now")
        self.enter(self.state.pass_no, self.state.step + 1)


def _summary(pages: list[Page]) -> str:
    """Return e.g. ``alex sms, alex voice`` for a notice."""
    return ", ".join(f"{page.analyst} {page.channel}" for page in pages)
