"""pages.bundle_lead_id: the page whose message also carried this one

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 20:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bundle_lead_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_pages_bundle_lead_id"), ["bundle_lead_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_pages_bundle_lead_id_pages"), "pages", ["bundle_lead_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_pages_bundle_lead_id_pages"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_pages_bundle_lead_id"))
        batch_op.drop_column("bundle_lead_id")
