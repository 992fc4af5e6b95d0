"""index SLA clocks for the monthly report: zones by start, running clocks, breaches

The report first finds the zones its month's clocks are kept in (every clock's start and
zone: now read from the index alone), measures the clocks still running (a handful, found
through a partial index instead of visiting every clock of the month) and lists the
stopped breaches (about one clock in ten, through a partial index of their own).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 01:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUNNING = sa.text("stopped_at IS NULL")
# As each dialect writes SlaClock.is_met.is_(False), so that the report's query matches it.
BREACHED_SQLITE = sa.text("stopped_at IS NOT NULL AND is_met IS 0")
BREACHED_POSTGRESQL = sa.text("stopped_at IS NOT NULL AND is_met IS false")


def upgrade() -> None:
    op.create_index("ix_sla_clocks_started_at_time_zone", "sla_clocks", ["started_at", "time_zone"])
    op.drop_index("ix_sla_clocks_started_at", table_name="sla_clocks")
    op.create_index(
        "ix_sla_clocks_running_started_at",
        "sla_clocks",
        ["started_at"],
        sqlite_where=RUNNING,
        postgresql_where=RUNNING,
    )
    op.create_index(
        "ix_sla_clocks_breached_started_at",
        "sla_clocks",
        ["started_at"],
        sqlite_where=BREACHED_SQLITE,
        postgresql_where=BREACHED_POSTGRESQL,
    )


def downgrade() -> None:
    op.drop_index("ix_sla_clocks_breached_started_at", table_name="sla_clocks")
    op.drop_index("ix_sla_clocks_running_started_at", table_name="sla_clocks")
    op.create_index("ix_sla_clocks_started_at", "sla_clocks", ["started_at"])
    op.drop_index("ix_sla_clocks_started_at_time_zone", table_name="sla_clocks")
