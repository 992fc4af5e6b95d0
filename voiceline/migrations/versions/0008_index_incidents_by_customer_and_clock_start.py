"""index incidents by customer and clock start, for the monthly report's counts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 23:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_incidents_customer_id_clock_started_at",
        "incidents",
        ["customer_id", "clock_started_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_incidents_customer_id_clock_started_at", table_name="incidents")
