"""Who is calling and what they hear: a call's view of the directory, kept per caller.

``view_of`` identifies the caller from the directory cache (``voiceline.customers.
directory_cache``) and gathers their calendar and prompts; ``CallView.say`` fills a
prompt's placeholders, working out the costly ones (the next business day) only when a
prompt names them. What a listing alone decides (plan terms, prompts, an answer's TwiML
that names no time) is kept with the listing and dropped with it when the directory
changes, so a caller's answer costs no parsing and no TwiML building once seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from voiceline.customers.business_time import BusinessCalendar
from voiceline.customers.directory_cache import Listing, directory_cache
from voiceline.customers.entitlement import next_business_day_phrase
from voiceline.customers.services import Caller, PlanTerms, plan_terms_for, target_for
from voiceline.incidents.models import Incident
from voiceline.line.incidents import open_incident_query
from voiceline.line.prompts import Prompts, prompts_for
from voiceline.urls import UrlFor


@dataclass
class CallView:
    """Everything about the caller and the moment that the prompts need."""

    caller: Caller
    calendar: BusinessCalendar
    prompts: Prompts
    service: dict[str, Any]
    now: datetime
    memo: dict[Any, Any] = field(default_factory=dict)  # the listing's, see view_of
    # Set when a prompt named the time (the next business day): those words hold only now.
    named_the_time: bool = False

    def say(self, response: VoiceResponse | Any, key: str, **values: Any) -> None:
        text = self.prompts.text_from(key, self.values(**values))
        response.say(text, **self.prompts.say_kwargs())

    def values(self, **extra: Any) -> dict[str, Any]:
        """Return the placeholders' values; the costly ones are worked out when first named."""
        customer = self.caller.customer
        out = _Values(self)
        out["service"] = self.service.get("name", "support")
        out["customer"] = customer.name if customer else ""
        plan = customer.plan if customer else None
        out["rate"] = plan.billable_rate if plan and plan.billable_rate else "the after-hours"
        out.update(extra)
        return out


class _Values(dict[str, Any]):
    """A call's placeholder values that work out ``next_open`` and ``target`` on demand.

    The next business day walks the calendar (holidays included): the greeting and the
    menu, which most calls hear, never name it.
    """

    def __init__(self, view: CallView) -> None:
        super().__init__()
        self.view = view

    def __missing__(self, key: str) -> str:
        view = self.view
        if key == "next_open":
            value = next_business_day_phrase(view.calendar, view.now)
            view.named_the_time = True
        elif key == "target":
            plan = view.caller.customer.plan if view.caller.customer else None
            emergency = target_for(plan, "emergency") if plan else None
            value = emergency.phrase() if emergency else "as soon as possible"
        else:
            raise KeyError(key)
        self[key] = value
        return value


def view_of(session: Session, number: str | None, now: datetime) -> CallView:
    """Identify the caller and gather their calendar and prompts (from the directory cache)."""
    return _view(directory_cache(session).listing(session, number), now)


def kept_view(session: Session, number: str | None, now: datetime) -> tuple[CallView, int] | None:
    """Return the view of a caller the directory cache keeps, and the directory version it
    holds for, reading nothing; None when the caller is not kept."""
    found = directory_cache(session).kept(number)
    if found is None:
        return None
    listing, version = found
    return _view(listing, now), version


def _view(listing: Listing, now: datetime) -> CallView:
    prompts = listing.memo.get("prompts")
    if prompts is None:
        prompts = listing.memo["prompts"] = _prompts_of(listing.caller, listing.service)
    return CallView(listing.caller, listing.calendar, prompts, listing.service, now, listing.memo)


def view_and_open_incident(
    session: Session, number: str | None, now: datetime
) -> tuple[CallView, Incident | None]:
    """Return the caller's view and their open incident (``open_incident_query``).

    Every call asks both, so a kept caller's are read in one statement with the
    directory's version.
    """
    listing, found = directory_cache(session).listing_and(
        session, number, lambda listing: open_incident_query(listing.caller, now)
    )
    return _view(listing, now), session.get(Incident, found) if found is not None else None


def _prompts_of(caller: Caller, service: dict[str, Any]) -> Prompts:
    service_prompts = service.get("prompts") if isinstance(service.get("prompts"), dict) else None
    if caller.customer is not None:
        return prompts_for(service_prompts, caller.customer.plan.prompts, caller.customer.prompts)
    return prompts_for(service_prompts)


def terms_of(view: CallView) -> PlanTerms | None:
    """Return the caller's plan terms (kept with the listing: the hours are parsed once)."""
    customer = view.caller.customer
    if customer is None:
        return None
    terms = view.memo.get("terms")
    if terms is None:
        terms = view.memo["terms"] = plan_terms_for(customer.plan)
    return cast(PlanTerms, terms)


def kept_answer(
    view: CallView, url_for: UrlFor, route: str, build: Callable[[], VoiceResponse]
) -> str:
    """Return the answer for ``route``, built once per listing unless it names the time."""
    key = ("answer", url_for, route)
    kept = view.memo.get(key)
    if kept is not None:
        return cast(str, kept)
    text = str(build())
    if not view.named_the_time:
        view.memo[key] = text
    return text
