"""The incident list stays cheap with many incidents: its queries read a page, not the table.

20,000 incidents go in with bulk Core inserts. Each list query (first page, a page deep
in the past, each filter) is run as the list runs it and its work is measured by the
database itself: on PostgreSQL the rows EXPLAIN ANALYZE says were read from
``incidents``; on SQLite the virtual-machine steps of the statement, against those of
one pass over the table. Three loads of the table in all (it takes a while on a shared
machine). No timing is asserted (the machine is shared); the figures
are printed for the record (``-s``).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from escalation.incident_list import PAGE_SIZE, Cursor, Filters, list_query
from tests.admin_helpers import create_admin, load_example_directory, log_in
from tests.incident_pages_helpers import many_incidents
from voiceline import extensions
from voiceline.db import is_sqlite
from voiceline.incidents.models import Incident

COUNT = 20_000
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
pytestmark = pytest.mark.slow


@pytest.fixture
def loaded(app: Flask) -> Flask:
    """The example desk with 20,000 incidents and their SLA clocks, statistics up to date."""
    database = extensions.database(app)
    load_example_directory(database)
    many_incidents(database, COUNT, newest=NOW, with_clocks=True)
    with database.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return app


def captured(session: Session, query: Any) -> tuple[str, Any]:
    """Run ``query`` as the list does; return the SQL and parameters the driver was given."""
    seen: list[tuple[str, Any]] = []

    def listen(conn: Connection, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", listen)
    try:
        rows = session.scalars(query).all()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert 0 < len(rows) <= PAGE_SIZE + 1
    return seen[-1]


def postgres_rows_read(session: Session, statement: str, params: Any) -> int:
    """Return how many rows of ``incidents`` the plan read (returned or filtered away)."""
    conn = session.connection()
    plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params).scalar()
    nodes = json.loads(plan) if isinstance(plan, str) else plan

    def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield node
        for child in node.get("Plans", []):
            yield from walk(child)

    read = 0
    for node in walk(nodes[0]["Plan"]):
        # Index-only and bitmap index nodes feed a heap node that is counted; count once.
        if node.get("Relation Name") == "incidents":
            per_loop = (
                node.get("Actual Rows", 0)
                + node.get("Rows Removed by Filter", 0)
                + node.get("Rows Removed by Index Recheck", 0)
            )
            read += int(per_loop * node.get("Actual Loops", 1))
    return read


def sqlite_steps(session: Session, statement: str, params: Any) -> int:
    """Return the SQLite virtual-machine steps the statement takes."""
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    raw.set_progress_handler(count, 1)
    try:
        raw.execute(statement, params).fetchall()
    finally:
        raw.set_progress_handler(None, 1)
    return steps


CASES: dict[str, dict[str, Any]] = {
    "first page": {},
    "a page deep in the past": {"before": "deep"},
    "a customer": {"customer": "thames-print"},
    "open": {"status": "open"},
    "called back": {"status": "called_back"},
    "promise missed": {"status": "breached"},
    "one day": {"day": date(2026, 10, 1)},
    "a caller by name": {"search": "alice"},
    "a caller by number": {"search": "+44 20 7946 0321"},
}


def work_of(session: Session, query: Any) -> int:
    """Return the work the database does for ``query``: rows read, or SQLite steps."""
    statement, params = captured(session, query)
    if is_sqlite(session.get_bind()):  # type: ignore[arg-type]
        return sqlite_steps(session, statement, params)
    return postgres_rows_read(session, statement, params)


def bound(session: Session, pages: int, share: int) -> int:
    """Return the most work a query may do: ``pages`` pages' worth of rows on PostgreSQL,
    a ``1/share`` part of one pass over the table on SQLite (which counts steps, not rows,
    and whose sort or scan would cost at least the whole pass)."""
    if is_sqlite(session.get_bind()):  # type: ignore[arg-type]
        return sqlite_steps(session, "SELECT max(length(summary)) FROM incidents", ()) // share
    return pages * (PAGE_SIZE + 1)


def test_each_list_query_reads_about_a_page_not_the_table(loaded: Flask) -> None:
    database = extensions.database(loaded)
    unit = "SQLite steps" if is_sqlite(database.engine) else "rows of incidents read"
    with database.session() as session:
        edge = session.execute(
            select(Incident.opened_at, Incident.id)
            .order_by(Incident.opened_at, Incident.id)
            .offset(500)
            .limit(1)
        ).one()
        deep = Cursor(edge.opened_at, edge.id)
        # The filters keep between 4% (open) and 100% of rows: walking an index newest
        # first finds a page within 20 pages' worth of rows; the table is 400 pages.
        limit = bound(session, pages=20, share=10)
        found = {}
        for case, fields in CASES.items():
            chosen = {**fields, "before": deep} if fields.get("before") else fields
            found[case] = work_of(session, list_query(session, Filters(**chosen), NOW))
            print(f"\n{case}: {found[case]} {unit} (at most {limit})")
    assert all(work <= limit for work in found.values()), found
    # Keyset pages cost the same at page 1 and page 390 (OFFSET would read all before).
    assert found["a page deep in the past"] <= 2 * found["first page"]


def test_a_rare_status_is_found_without_reading_the_table(loaded: Flask) -> None:
    """Most nights end closed: three open and three taken among 20,000 are found by index."""
    database = extensions.database(loaded)
    with database.session() as session:
        oldest = list(session.scalars(select(Incident.id).order_by(Incident.opened_at).limit(6)))
        few = {"open": oldest[:3], "acknowledged": oldest[3:]}
        session.execute(update(Incident).where(Incident.id.not_in(oldest)).values(status="closed"))
        for status, ids in few.items():
            session.execute(
                update(Incident).where(Incident.id.in_(ids)).values(status=status, callback_at=None)
            )
    with database.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    with database.session() as session:
        limit = bound(session, pages=1, share=100)  # the index holds just these rows
        for status, ids in few.items():
            query = list_query(session, Filters(status=status), NOW)
            assert sorted(i.id for i in session.scalars(query)) == sorted(ids)
            work = work_of(session, query)
            print(f"\n{status}, 3 of {COUNT}: {work} (at most {limit})")
            assert work <= limit, status


def test_the_list_pages_through_a_busy_day_exactly(loaded: Flask, client: FlaskClient) -> None:
    create_admin(extensions.database(loaded))
    log_in(client)
    day = date(2026, 10, 1)
    with extensions.database(loaded).session() as session:
        assert session.scalar(select(func.count(Incident.id))) == COUNT
        everyone = session.scalars(select(Incident)).all()
        expected = [
            i.id
            for i in sorted(everyone, key=lambda i: (i.opened_at, i.id), reverse=True)
            if i.customer is not None
            and i.opened_at.astimezone(ZoneInfo(i.customer.time_zone)).date() == day
        ]
    assert len(expected) > 2 * PAGE_SIZE
    shown: list[int] = []
    query: str | None = f"?date={day.isoformat()}"
    while query is not None:
        page = client.get(f"/admin/incidents{query}").get_data(as_text=True)
        rows = [int(n) for n in re.findall(r'data-incident="(\d+)"', page)]
        assert len(rows) == PAGE_SIZE or len(shown) + len(rows) == len(expected)
        shown += rows
        older = re.search(r'rel="next" href="/admin/incidents(\?[^"]*)"', page)
        query = html.unescape(older.group(1)) if older else None
    assert shown == expected
