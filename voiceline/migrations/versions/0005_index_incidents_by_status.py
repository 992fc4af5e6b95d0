"""index incidents by status and opening time, for the admin list's status filters

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 20:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_incidents_status_opened_at", "incidents", ["status", "opened_at"])


def downgrade() -> None:
    op.drop_index("ix_incidents_status_opened_at", table_name="incidents")
