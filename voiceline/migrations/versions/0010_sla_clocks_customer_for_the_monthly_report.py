"""sla_clocks.customer_id and one covering index for the monthly report's totals

The report's totals of a month's stopped clocks (counts, minutes over, wall and business
seconds per customer and target) were read by joining every clock to its incident for
the customer, a row of each table per clock. Each clock now carries its incident's
customer (copied when the clock starts; filled here from the incidents), and one index
by customer and start holds every column those totals read, so they come from the index
alone.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 08:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in voiceline.sla.models at this revision (a migration keeps its own copy).
TOTALS_INDEX = [
    "customer_id",
    "started_at",
    "time_zone",
    "stopped_at",
    "is_met",
    "metric",
    "priority",
    "target_minutes",
    "clock",
    "minutes_over",
    "wall_seconds",
    "business_seconds",
]


def upgrade() -> None:
    # A new nullable column: SQLite adds it in place, no copy of the table.
    op.add_column("sla_clocks", sa.Column("customer_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE sla_clocks SET customer_id ="
        " (SELECT incidents.customer_id FROM incidents WHERE incidents.id = sla_clocks.incident_id)"
    )
    op.create_index("ix_sla_clocks_report_totals", "sla_clocks", TOTALS_INDEX)


def downgrade() -> None:
    op.drop_index("ix_sla_clocks_report_totals", table_name="sla_clocks")
    # SQLite (3.35 and later) drops a column in place too.
    op.drop_column("sla_clocks", "customer_id")
