"""The declarative base every area's models share: UTC datetimes and constraint names."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    DateTime,
    MetaData,
    Table,
    TypeDecorator,
    bindparam,
    event,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A DateTime that refuses naive values and always comes back aware in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite keeps no offset
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations name constraints."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class AppendOnly:
    """A table whose rows are history: the ORM refuses to update or delete them."""


@event.listens_for(Session, "before_flush")
def _refuse_rewriting_history(session: Session, flush_context: object, instances: object) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AppendOnly) and (obj in session.deleted or session.is_modified(obj)):
            raise ValueError(f"{type(obj).__name__} rows are append-only")


def insert_unless_present(
    model: type[Base],
    key: str,
    *,
    commit_without_flush_wait: bool = False,
    only_if: ColumnElement[bool] | None = None,
    columns: Sequence[str] = (),
) -> Callable[[Connection, dict[str, Any]], bool]:
    """Return an insert of one ``model`` row that does nothing when its unique ``key`` is taken.

    One statement (``INSERT ... ON CONFLICT DO NOTHING``, which SQLite and PostgreSQL both
    have) in place of a look-up, an insert and a savepoint, for rows a retried request
    may write twice; built once per dialect. The returned function runs it on a
    connection with a row's values and returns True if it inserted. It runs beside the
    Session's unit of work: the row is not in the Session, so a caller that needs it as an
    object loads it.

    With ``commit_without_flush_wait`` the PostgreSQL statement also sets
    ``synchronous_commit`` off for the rest of its transaction when it inserts (a
    ``SET LOCAL`` in the statement's RETURNING, so it costs no round trip of its own):
    that transaction's COMMIT returns without waiting for the server to flush its WAL.
    For rows a power cut may lose without harm, as ``voiceline.db.sync_to_disk_later``
    does on SQLite; the next transaction on the connection is synchronous again.

    With ``only_if`` the row is inserted only where that condition holds when the
    statement runs (``INSERT ... SELECT ... WHERE``), its ``columns`` given as parameters:
    a check and the write it guards in one statement, without a transaction around them.
    """
    table = cast(Table, model.__table__)

    def insert_for(dialect: Any) -> Any:
        insert = dialect.insert(table)
        if only_if is not None:
            row = select(*[bindparam(c, type_=table.c[c].type) for c in columns]).where(only_if)
            insert = insert.from_select(list(columns), row)
        return insert.on_conflict_do_nothing(index_elements=[table.c[key]])

    statements: dict[str, Any] = {
        name: insert_for(dialect)
        for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
    }
    if commit_without_flush_wait:
        statements["postgresql"] = statements["postgresql"].returning(
            func.set_config("synchronous_commit", "off", True)
        )

    def insert(connection: Connection, values: dict[str, Any]) -> bool:
        result = connection.execute(statements[connection.dialect.name], values)
        inserted = result.rowcount == 1
        result.close()
        return inserted

    return insert
