"""What a call needs from the directory, kept in memory by each process.

Every call to the line looks up the caller's contact, customer, plan and targets, the
service block and the customer's calendar. Those change when an admin edits the
directory, a few times a day, and are read on every call: each process keeps them, and
reads only the directory's version (``DirectoryVersion``, changed by every write to the
directory, see ``voiceline.customers.models``) once a call. A different version drops
everything kept, so an edit made in any process is heard on the next call.

Callers are kept by number as they call (unknown numbers too, so a stranger's redials
cost no lookup), at most ``LIMIT`` of them, oldest first out. The rows are loaded by a
Session of their own on the call's connection and transaction, then closed, so what is
kept is detached, fully loaded and never expired or written by a request's Session:
treat it as read-only. One cache per engine: a process may talk to several databases.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, bindparam, select
from sqlalchemy.orm import Session, joinedload

from voiceline.customers.business_time import BusinessCalendar
from voiceline.customers.models import Contact, Customer, DirectoryVersion, Plan
from voiceline.customers.services import (
    Caller,
    calendar_for,
    service_calendar,
    service_settings,
)

# Read on the call's connection, past the ORM: one small row, on every call.
_VERSION = select(DirectoryVersion.__table__.c.version)

LIMIT = 2_000  # a known caller keeps about 11 KiB (measured): some 22 MiB a process at most


@dataclass(frozen=True)
class Listing:
    """A caller as the directory describes them, with the calendar their call runs on."""

    caller: Caller
    calendar: BusinessCalendar
    service: dict[str, Any]
    # What callers' answers work out from this listing alone (plan terms, prompts, TwiML
    # that names no time), kept with it and dropped with it when the directory changes.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)


class DirectoryCache:
    """The directory's answers for one database, valid while its version holds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: int | None = None
        self._service: dict[str, Any] | None = None
        self._service_calendar: BusinessCalendar | None = None
        self._listings: OrderedDict[str | None, Listing] = OrderedDict()
        self._combined: dict[int, tuple[Select[Any], Select[Any]]] = {}

    def listing_and(
        self,
        session: Session,
        number: str | None,
        query: Callable[[Listing], tuple[Select[Any], dict[str, Any]] | None],
    ) -> tuple[Listing, Any]:
        """Return the caller of ``number`` and the one value ``query(listing)`` selects.

        When the caller is kept, the version and the value are read in one statement; a
        version that changed meanwhile reloads the caller and reads the value again.
        ``query`` returns a statement of one column and one row at most, with parameters,
        or None to read nothing (the value is then None).
        """
        with self._lock:
            version, kept = self._version, self._listings.get(number)
        if kept is not None:
            asked = query(kept)
            if asked is not None:
                statement, parameters = asked
                read, value = (
                    session.connection().execute(self._with_version(statement), parameters).one()
                )
                if read == version:
                    with self._lock:
                        if number in self._listings:
                            self._listings.move_to_end(number)
                    return kept, value
        listing = self.listing(session, number)
        asked = query(listing)
        if asked is None:
            return listing, None
        return listing, session.connection().scalar(*asked)

    def kept(self, number: str | None) -> tuple[Listing, int] | None:
        """Return the caller of ``number`` if kept, with the version it was read at.

        Reads nothing: whoever acts on it checks ``version_is`` in the same statement.
        """
        with self._lock:
            kept = self._listings.get(number)
            if kept is None or self._version is None:
                return None
            self._listings.move_to_end(number)
            return kept, self._version

    def _with_version(self, statement: Select[Any]) -> Select[Any]:
        """Return ``statement`` beside the version, as two scalar subqueries (built once)."""
        combined = self._combined.get(id(statement))
        if combined is None or combined[0] is not statement:
            both: Select[Any] = select(_VERSION.scalar_subquery(), statement.scalar_subquery())
            combined = (statement, both)
            self._combined[id(statement)] = combined
        return combined[1]

    def listing(self, session: Session, number: str | None) -> Listing:
        """Return the caller of ``number`` (E.164, or None when withheld) and their calendar."""
        version = session.connection().scalar(_VERSION)
        with self._lock:
            if version != self._version:
                self._version, self._service, self._service_calendar = version, None, None
                self._listings.clear()
            found = self._listings.get(number)
            if found is not None:
                self._listings.move_to_end(number)
                return found
            service, service_cal = self._service, self._service_calendar
        found = _load(session, number, service, service_cal)
        with self._lock:
            if version == self._version:  # not replaced by a newer version meanwhile
                self._service = found.service
                if found.caller.customer is None:
                    self._service_calendar = found.calendar
                self._listings[number] = found
                while len(self._listings) > LIMIT:
                    self._listings.popitem(last=False)
        return found


def _load(
    session: Session,
    number: str | None,
    service: dict[str, Any] | None,
    service_cal: BusinessCalendar | None,
) -> Listing:
    """Read the caller (and the service block unless known) on the call's own transaction."""
    with Session(bind=session.connection()) as reader:
        if service is None:
            service = service_settings(reader)
        contact = None
        if number is not None:
            query = (
                select(Contact)
                .filter_by(phone=number)
                .options(
                    joinedload(Contact.customer).joinedload(Customer.plan).joinedload(Plan.targets)
                )
            )
            contact = reader.scalars(query).unique().one_or_none()
    # The reader is closed: the rows are detached, with everything a call reads loaded.
    if contact is None:
        return Listing(
            Caller(number, None, None), service_cal or service_calendar(service), service
        )
    customer = contact.customer
    return Listing(Caller(number, contact, customer), calendar_for(customer), service)


def version_is(parameter: str) -> ColumnElement[bool]:
    """Return the condition that the directory's version is still the bound ``parameter``."""
    return _VERSION.scalar_subquery() == bindparam(parameter)


_caches: weakref.WeakKeyDictionary[Engine, DirectoryCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def directory_cache(session: Session) -> DirectoryCache:
    """Return the cache of the database ``session`` talks to."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with _caches_lock:
        cache = _caches.get(engine)
        if cache is None:
            cache = _caches[engine] = DirectoryCache()
        return cache
