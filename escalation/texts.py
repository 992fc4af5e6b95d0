"""What a page says: SMS bodies, the voice page script and the replies to analysts' texts.

Pure: plain values in, text out. SMS texts stay in the GSM-7 basic set and within one
160-character segment (``sms_commands``); spoken texts spell numbers digit by digit. The
analyst woken at 3 a.m. needs, in this order: that it is an emergency, whose, who to
call back and on what number, by when, and how to answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from escalation.sms_commands import SMS_LIMIT, page_sms_text, to_gsm7
from escalation.state import Purpose
from voiceline.phones import display, spoken


@dataclass(frozen=True)
class Subject:
    """The incident a page is about, as the analyst should hear it."""

    number: int
    customer: str
    caller_name: str | None
    caller_number: str | None
    priority: str
    summary: str
    deadline: str | None = None  # local wall time, e.g. "02:30 PST"
    acknowledged_by: str | None = None  # a name

    @property
    def caller(self) -> str:
        """Return who called, with the number to call back, for an SMS."""
        number = display(self.caller_number) if self.caller_number else "no number"
        return f"{self.caller_name} {number}" if self.caller_name else number


def purpose_of(key: str) -> Purpose:
    """Return the purpose a page key encodes: ``reminder.``, ``warning.`` or a page."""
    head = key.split(".", 1)[0]
    if head == "reminder":
        return "reminder"
    return "warning" if head == "warning" else "page"


def sms_body(purpose: Purpose, subject: Subject) -> str:
    """Return the SMS for a page, a reminder (to the acknowledger) or a warning (next tier)."""
    n = subject.number
    if purpose == "page":
        return page_sms_text(subject.customer, subject.caller, subject.priority, n, subject.summary)
    due = f" due {subject.deadline}" if subject.deadline else ""
    if purpose == "reminder":
        text = (
            f"#{n} REMINDER: {subject.customer} still needs your callback{due}. "
            f"Call {subject.caller}. Reply {n}C once called back, {n}E to hand it on"
        )
    else:
        who = subject.acknowledged_by or "the analyst"
        text = (
            f"#{n} HEADS UP: {subject.customer} callback{due}; {who} acked but has not "
            f"called back yet. Caller {subject.caller}. Reply {n}C if you call them"
        )
    return _fit(to_gsm7(text))


def voice_intro(purpose: Purpose, subject: Subject) -> str:
    """Return what the voice page says before the caller's message."""
    n = subject.number
    who = subject.caller_name or "The caller"
    number = f" on {spoken(subject.caller_number)}" if subject.caller_number else ""
    due = f" The callback is due at {subject.deadline}." if subject.deadline else ""
    if purpose == "reminder":
        head = f"Reminder from Voiceline. You acknowledged incident {n}, for {subject.customer}."
        head += f"{due} The caller has not been called back yet."
    elif purpose == "warning":
        acker = subject.acknowledged_by or "An analyst"
        head = (
            f"Voiceline heads up. Incident {n}, for {subject.customer}: {acker} acknowledged "
            f"it but has not called back yet.{due}"
        )
    else:
        head = (
            f"This is Voiceline with an emergency page. Incident {n}. "
            f"{subject.priority.capitalize()} for {subject.customer}.{due}"
        )
    return f"{head} {who} called{number}. Their message:"


def voice_menu(purpose: Purpose) -> str:
    """Return the keypad choices read after the message."""
    first = (
        "Press 1 to acknowledge." if purpose == "page" else "Press 1 to confirm you have seen this."
    )
    return (
        f"{first} Press 2 to be connected to the caller now. "
        "Press 3 if you cannot take it, and we will escalate now. Press star to hear this again."
    )


def voicemail_message(subject: Subject) -> str:
    """Return the short message left when a voicemail box answers a page."""
    return (
        f"This is Voiceline. Emergency incident {subject.number}, for {subject.customer}, "
        "needs an analyst now. Please check your text messages. Goodbye."
    )


def ack_reply(subject: Subject) -> str:
    """Return the SMS confirming an acknowledgement, with who to call back."""
    n = subject.number
    return _fit(to_gsm7(f"#{n} is yours. Call {subject.caller}. Reply {n}C once called back"))


def callback_reply(subject: Subject) -> str:
    """Return the SMS confirming a callback was logged."""
    return _fit(to_gsm7(f"#{subject.number}: callback logged, thank you."))


def escalate_reply(subject: Subject) -> str:
    """Return the SMS confirming an escalation."""
    return _fit(to_gsm7(f"#{subject.number}: OK, paging the next tier now."))


def taken_reply(subject: Subject) -> str:
    """Return the SMS telling an analyst that someone else already has the incident."""
    who = subject.acknowledged_by or "another analyst"
    return _fit(to_gsm7(f"#{subject.number} is already taken by {who}. Nothing to do."))


def closed_reply(number: int) -> str:
    """Return the SMS for a reply about an incident that is already over."""
    return f"#{number} is already closed. Nothing to do."


def _fit(text: str) -> str:
    """Return text cut to one SMS segment."""
    return text if len(text) <= SMS_LIMIT else text[: SMS_LIMIT - 3].rstrip() + "..."
