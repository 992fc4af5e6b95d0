"""The incident list's query: filters, search and keyset pages that stay fast at any size.

Pages are read newest first along ``ix_incidents_opened_at`` (opened_at, then id for
ties) with a keyset cursor instead of an OFFSET, so page 2,000 costs what page 1 costs;
there is no total count, only "older" and "newer". Each filter is a WHERE clause an
index serves: a customer on (customer_id, opened_at), a search on (caller_number,
opened_at) after matching the caller's name or digits among the contacts (a small
table), a day as an opened_at range in each customer's own zone. The statuses filter the
same index scan; "promise missed" asks the SLA clocks.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select
from sqlalchemy.orm import Session, selectinload

from escalation.state import EscalationState, state_from_dict
from oncall.models import Analyst
from voiceline.customers.models import Contact, Customer
from voiceline.customers.services import service_settings
from voiceline.errors import InvalidInput
from voiceline.incidents.models import Incident
from voiceline.phones import PhoneNumberError, to_e164
from voiceline.sla.models import SlaClock

PAGE_SIZE = 50
MAX_SEARCH = 100
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)
STATUSES = {
    "open": "Open",
    "acknowledged": "Acknowledged",
    "called_back": "Called back",
    "breached": "Promise missed",
    "closed": "Closed",
}


class FilterError(InvalidInput):
    """A filter the list cannot apply (an unreadable date or cursor)."""


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: the (opened_at, id) of the row next to it."""

    opened_at: datetime
    id: int

    def __str__(self) -> str:
        return f"{(self.opened_at - EPOCH) // timedelta(microseconds=1)}-{self.id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """Read a cursor written by ``str``."""
        found = re.fullmatch(r"(-?\d{1,20})-(\d{1,18})", text)
        if not found:
            raise FilterError("that page link is broken; start from the newest")
        micros, row_id = (int(g) for g in found.groups())
        try:
            return cls(EPOCH + timedelta(microseconds=micros), row_id)
        except OverflowError as exc:
            raise FilterError("that page link is broken; start from the newest") from exc


@dataclass(frozen=True)
class Filters:
    """What the admin asked the list for; every field optional."""

    status: str = ""
    customer: str = ""
    day: date | None = None
    search: str = ""
    before: Cursor | None = None  # older than this row
    after: Cursor | None = None  # newer than this row

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> tuple[Filters, list[str]]:
        """Read the query string; return the filters and a message per value ignored."""
        errors: list[str] = []
        status = args.get("status", "")
        if status not in STATUSES:
            if status:
                errors.append(f"There is no status {status!r}; showing every status.")
            status = ""
        day = None
        if args.get("date"):
            try:
                day = date.fromisoformat(args["date"])
            except ValueError:
                errors.append("The date must be a day like 2026-11-22; showing every day.")
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                # Its bounds in a far zone would fall outside what datetime can hold.
                errors.append(f"There are no incidents on {day}; showing every day.")
                day = None
        search = " ".join(args.get("q", "").split())[:MAX_SEARCH]
        cursors: dict[str, Cursor | None] = {"before": None, "after": None}
        for name in cursors:
            if args.get(name):
                try:
                    cursors[name] = Cursor.parse(args[name])
                except FilterError as exc:
                    errors.append(str(exc).capitalize() + ".")
        filters = cls(status, args.get("customer", "")[:64], day, search, **cursors)
        return filters, errors

    @property
    def is_filtered(self) -> bool:
        """Tell whether anything narrows the list."""
        return bool(self.status or self.customer or self.day or self.search)

    def args(self, **changes: Any) -> dict[str, str]:
        """Return the query string for these filters, changed; empty values left out."""
        chosen = replace(self, **changes)
        values = {
            "status": chosen.status,
            "customer": chosen.customer,
            "date": chosen.day.isoformat() if chosen.day else "",
            "q": chosen.search,
            "before": str(chosen.before) if chosen.before else "",
            "after": str(chosen.after) if chosen.after else "",
        }
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class Row:
    """One incident as the list shows it."""

    incident: Incident
    state: EscalationState | None
    zone: str
    status: str
    status_class: str
    is_breached: bool
    acknowledged_by: str | None


@dataclass(frozen=True)
class ListPage:
    """A page of the list and the cursors of its neighbours (None at either end)."""

    rows: list[Row]
    newer: Cursor | None
    older: Cursor | None


def breached_clause(now: datetime) -> ColumnElement[bool]:
    """Return the WHERE clause of an incident whose promise is missed (or overdue now)."""
    return exists().where(
        SlaClock.incident_id == Incident.id,
        or_(
            SlaClock.is_met.is_(False),
            and_(
                SlaClock.stopped_at.is_(None),
                SlaClock.paused_since.is_(None),
                SlaClock.deadline_at < now,
            ),
        ),
    )


def list_query(session: Session, filters: Filters, now: datetime) -> Select[Incident]:
    """Return the page's query: the filters, the cursor, newest first, one row extra."""
    query = select(Incident)
    for clause in _clauses(session, filters, now):
        query = query.where(clause)
    if filters.after is not None:
        at, row_id = filters.after.opened_at, filters.after.id
        query = query.where(
            Incident.opened_at >= at, or_(Incident.opened_at > at, Incident.id > row_id)
        )
        order = (Incident.opened_at.asc(), Incident.id.asc())
    else:
        if filters.before is not None:
            at, row_id = filters.before.opened_at, filters.before.id
            query = query.where(
                Incident.opened_at <= at, or_(Incident.opened_at < at, Incident.id < row_id)
            )
        order = (Incident.opened_at.desc(), Incident.id.desc())
    return query.order_by(*order).limit(PAGE_SIZE + 1)


def _clauses(session: Session, filters: Filters, now: datetime) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    customer = None
    if filters.customer:
        customer = session.scalars(select(Customer).filter_by(code=filters.customer)).first()
        clauses.append(Incident.customer_id == customer.id if customer else false())
    match filters.status:
        case "open" | "acknowledged":
            clauses += [Incident.status == filters.status, Incident.callback_at.is_(None)]
        case "called_back":
            clauses.append(Incident.callback_at.is_not(None))
        case "closed":
            clauses.append(Incident.status == "closed")
        case "breached":
            clauses.append(breached_clause(now))
    if filters.day is not None:
        clauses.append(_day_clause(session, filters.day, customer))
    if filters.search:
        clauses.append(_search_clause(session, filters.search))
    return clauses


def _day_clause(session: Session, day: date, customer: Customer | None) -> ColumnElement[bool]:
    """Return "opened on ``day``" as each customer reads it: in their own zone."""
    zones: dict[str, list[int]] = {}
    chosen = [customer] if customer else session.scalars(select(Customer))
    for row in chosen:
        zones.setdefault(row.time_zone, []).append(row.id)

    def opened_on(zone: tzinfo) -> ColumnElement[bool]:
        start = datetime.combine(day, time(), tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
        return and_(Incident.opened_at >= start, Incident.opened_at < end)

    parts = [
        and_(Incident.customer_id.in_(ids), opened_on(ZoneInfo(name)))
        for name, ids in zones.items()
    ]
    if customer is None:  # callers we could not match are shown (and filtered) in UTC
        parts.append(and_(Incident.customer_id.is_(None), opened_on(UTC)))
    return or_(*parts) if parts else false()


def _search_clause(session: Session, text: str) -> ColumnElement[bool]:
    """Return "the caller is ``text``": a number in any format, some digits or a name."""
    numbers: set[str] = set()
    digits = re.sub(r"\D", "", text)
    region = str(service_settings(session).get("default_region") or "US")
    with contextlib.suppress(PhoneNumberError):  # not a whole number: digits or a name
        numbers.add(to_e164(text, region))
    if len(digits) >= 3 and len(digits) * 2 >= len(text.replace(" ", "")):
        match = Contact.phone.contains(digits, autoescape=True)
    else:
        match = Contact.name.ilike(f"%{_escaped(text)}%", escape="\\")
    numbers.update(session.scalars(select(Contact.phone).where(match).limit(200)))
    return Incident.caller_number.in_(sorted(numbers)) if numbers else false()


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_page(session: Session, filters: Filters, now: datetime) -> ListPage:
    """Return the page of incidents the filters ask for, with its neighbours' cursors."""
    query = list_query(session, filters, now).options(
        selectinload(Incident.customer), selectinload(Incident.contact)
    )
    found = list(session.scalars(query))
    has_more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    if filters.after is not None:
        if not has_more:  # back at the newest rows: show the first page as it is
            return list_page(session, replace(filters, after=None), now)
        found.reverse()  # read oldest first to stop at the page; show newest first
    rows = _rows(session, found, now)
    if not rows:
        return ListPage([], None, None)
    first, last = rows[0].incident, rows[-1].incident
    is_first_page = filters.before is None and filters.after is None
    return ListPage(
        rows,
        newer=None if is_first_page else Cursor(first.opened_at, first.id),
        older=Cursor(last.opened_at, last.id) if has_more or filters.after else None,
    )


def _rows(session: Session, incidents: list[Incident], now: datetime) -> list[Row]:
    """Return the rows with their acknowledgers and missed promises (two more reads)."""
    if not incidents:
        return []
    ids = [i.id for i in incidents]
    ack_ids = {i.acknowledged_by_id for i in incidents if i.acknowledged_by_id}
    names = {
        row.id: row.name
        for row in session.execute(select(Analyst.id, Analyst.name).where(Analyst.id.in_(ack_ids)))
    }
    breached = set(
        session.scalars(select(Incident.id).where(Incident.id.in_(ids), breached_clause(now)))
    )
    rows = []
    for incident in incidents:
        state = state_from_dict(incident.escalation_state) if incident.escalation_state else None
        word, css = status_label(incident, state)
        rows.append(
            Row(
                incident=incident,
                state=state,
                zone=incident.customer.time_zone if incident.customer else "UTC",
                status=word,
                status_class=css,
                is_breached=incident.id in breached,
                acknowledged_by=names.get(incident.acknowledged_by_id or 0),
            )
        )
    return rows


def status_label(incident: Incident, state: EscalationState | None) -> tuple[str, str]:
    """Return the incident's status in words, and its CSS class."""
    if incident.status == "closed":
        return "Closed", "closed"
    if incident.callback_at is not None:
        return "Called back", "called-back"
    if incident.status == "acknowledged":
        return "Acknowledged", "acknowledged"
    if state is not None and state.status == "exhausted":
        return "Nobody answered", "unanswered"
    if state is not None and state.status == "paging":
        return "Paging", "paging"
    return "Open", "open"
