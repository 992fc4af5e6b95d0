"""SQL the monthly report's reads need, written as each dialect wants it.

* ``NotAnIndex``: a column SQLite must not look up through an index.
* ``JoinedIntegers``: an aggregate of a group's integers as one string.
* ``UtcInstant``: a stored UTC instant read straight into an aware datetime.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine


class NotAnIndex(FunctionElement[int]):
    """A customer id SQLite must not look up through an index ("+sla_clocks.customer_id").

    Without statistics (a SQLite database is never analysed) SQLite would read the running
    clocks and the breaches through the index of the month's totals, every clock of each
    customer's month; kept off it, it reads them through the partial index of running
    clocks or of breaches the query matches. PostgreSQL keeps statistics and chooses for
    itself.
    """

    type = Integer()
    inherit_cache = True
    name = "not_an_index"


@compiles(NotAnIndex)
def _not_an_index(element: NotAnIndex, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(NotAnIndex, "sqlite")
def _not_an_index_sqlite(element: NotAnIndex, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


class JoinedIntegers(FunctionElement[str]):
    """An aggregate: the group's integers as one comma-separated string, in no order."""

    type = String()
    inherit_cache = True
    name = "joined_integers"


@compiles(JoinedIntegers, "sqlite")
def _joined_integers_sqlite(element: JoinedIntegers, compiler: Any, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


@compiles(JoinedIntegers, "postgresql")
def _joined_integers_postgresql(element: JoinedIntegers, compiler: Any, **kw: Any) -> str:
    return f"string_agg(CAST({compiler.process(element.clauses, **kw)} AS TEXT), ',')"


class _Instant(TypeEngine[datetime]):
    """An aware UTC datetime, as the models' UTCDateTime gives, made in one C call on SQLite."""

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any]:
        if dialect.name == "sqlite":
            return datetime.fromisoformat  # the stored text with "+00:00" appended
        return _in_utc


def _in_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


class UtcInstant(FunctionElement[datetime]):
    """A column of UTC instants that is never NULL, read as aware datetimes.

    SQLite keeps an instant as ISO 8601 text without an offset, and the models' type
    parses it and then sets UTC on it in Python; a month's breaches have thirty thousand
    of them. Here SQLite appends the offset and ``datetime.fromisoformat`` alone reads
    each one (a NULL would fail it: only for columns a query knows are set).
    """

    type = _Instant()
    inherit_cache = True
    name = "utc_instant"


@compiles(UtcInstant)
def _utc_instant(element: UtcInstant, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(UtcInstant, "sqlite")
def _utc_instant_sqlite(element: UtcInstant, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} || '+00:00')"
