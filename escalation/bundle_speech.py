"""What a bundled voice page says: several incidents in one call, read in turn.

Pure: subjects in, spoken text out (numbers digit by digit, as ``escalation.texts``).
The keys are the single page's, so a hand that learned one call knows the other:
**1** acknowledge (here: all of them), **2** acknowledge and be connected (here: to the
callers one after another), **3** cannot take it (here: escalate them all), **\\*** hear
it again. The menu is said first, so a woken analyst can press 1 without sitting through
every message, and again after the last one.
"""

from __future__ import annotations

from collections.abc import Sequence

from escalation.texts import Subject
from voiceline.phones import spoken


def _count(n: int) -> str:
    return "1 emergency" if n == 1 else f"{n} emergencies"


def _numbers(subjects: Sequence[Subject]) -> str:
    """Return ``41, 42 and 43``."""
    numbers = [str(s.number) for s in subjects]
    return numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " and " + numbers[-1]


def opening(waiting: int) -> str:
    """Return the first words of a bundled page: how many, and the quickest answer."""
    return (
        f"This is Voiceline with {_count(waiting)}. "
        f"You can press 1 at any time to acknowledge all {waiting}."
    )


def taken_by_other(subject: Subject, *, was: bool = False) -> str:
    """Return ``Incident 42 is already taken by Casey Nguyen.``."""
    who = subject.acknowledged_by or "another analyst"
    return f"Incident {subject.number} {'was' if was else 'is'} already taken by {who}."


def intro(position: int, total: int, subject: Subject) -> str:
    """Return what is said before one incident's message: whose, who called, from where."""
    who = subject.caller_name or "The caller"
    number = f" on {spoken(subject.caller_number)}" if subject.caller_number else ""
    due = f" The callback is due at {subject.deadline}." if subject.deadline else ""
    return (
        f"{position} of {total}. Incident {subject.number}, for {subject.customer}. "
        f"{subject.priority.capitalize()}.{due} {who} called{number}. Their message:"
    )


def menu(waiting: int) -> str:
    """Return the keypad choices read after the last incident."""
    return (
        f"Press 1 to acknowledge all {waiting}. "
        "Press 2 to acknowledge them and be connected to the callers one after another. "
        "Press 3 if you cannot take them, and we will escalate them now. "
        "Press star to hear them again."
    )


def acknowledged(mine: Sequence[Subject], others: Sequence[Subject]) -> str:
    """Return what key 1 or 2 answers: how many are yours now, and which were taken."""
    if not mine:
        head = "Nothing was acknowledged."
    elif len(mine) == 1:
        head = f"Incident {mine[0].number} is acknowledged."
    else:
        head = (
            f"{'' if others else 'All '}{len(mine)} are acknowledged: incidents {_numbers(mine)}."
        )
    return " ".join([head, *(taken_by_other(s, was=True) for s in others)])


def call_back_list(subjects: Sequence[Subject]) -> str:
    """Return who to call back, with their numbers (a withheld number said so)."""
    parts = []
    for s in subjects:
        who = s.caller_name or "the caller"
        on = f" on {spoken(s.caller_number)}" if s.caller_number else ", whose number is withheld"
        parts.append(f"Incident {s.number}: please call {who} back{on}.")
    return " ".join(parts)


def escalated(subjects: Sequence[Subject]) -> str:
    """Return what key 3 answers."""
    if not subjects:
        return "Nothing is waiting for you on this page. Goodbye."
    return f"OK. We are paging the next tier for incidents {_numbers(subjects)} now. Goodbye."


def voicemail(subjects: Sequence[Subject]) -> str:
    """Return the short message left when a voicemail box answers a bundled page."""
    return (
        f"This is Voiceline. {_count(len(subjects))}, incidents {_numbers(subjects)}, "
        "need an analyst now. Please check your text messages. Goodbye."
    )


def all_taken() -> str:
    """Return what a bundled page says when nothing on it waits for this analyst any more."""
    return "Every incident on this page is already taken or closed. Nothing to do. Goodbye."


def connecting(subject: Subject) -> str:
    """Return ``Connecting you to Pat Jones, incident 42.``."""
    return f"Connecting you to {subject.caller_name or 'the caller'}, incident {subject.number}."


def not_answered(subject: Subject) -> str:
    """Return ``Pat Jones did not answer.``."""
    return f"{subject.caller_name or 'The caller'} did not answer."
