"""indexes for the hot paths: the repeat-caller check, who is on call now, the report

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 19:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_incidents_customer_id_opened_at", "incidents", ["customer_id", "opened_at"])
    op.create_index(
        "ix_incidents_caller_number_opened_at", "incidents", ["caller_number", "opened_at"]
    )
    op.create_index("ix_overrides_rotation_id_ends_at", "overrides", ["rotation_id", "ends_at"])
    op.create_index("ix_sla_clocks_started_at", "sla_clocks", ["started_at"])
    op.create_index("ix_incidents_opened_at", "incidents", ["opened_at"])


def downgrade() -> None:
    op.drop_index("ix_incidents_opened_at", table_name="incidents")
    op.drop_index("ix_sla_clocks_started_at", table_name="sla_clocks")
    op.drop_index("ix_overrides_rotation_id_ends_at", table_name="overrides")
    op.drop_index("ix_incidents_caller_number_opened_at", table_name="incidents")
    op.drop_index("ix_incidents_customer_id_opened_at", table_name="incidents")
