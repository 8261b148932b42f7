"""Revisions of approved records: the last approved values and the place in the review queue.

Records approved before this keep their values as approved; submitted ones keep their place
(the time of their last change).

Revision ID: 0010_approved_snapshot
Revises: 0009_area_pilot
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_approved_snapshot"
down_revision = "0009_area_pilot"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("record") as batch:
        batch.add_column(sa.Column("approved_data", sa.Text(), nullable=True))
        batch.add_column(sa.Column("queued_at", sa.String(40), nullable=True))
    op.execute(sa.text("UPDATE record SET approved_data = data WHERE status = 'approved'"))
    op.execute(sa.text("UPDATE record SET queued_at = updated_at WHERE status = 'submitted'"))


def downgrade() -> None:
    with op.batch_alter_table("record") as batch:
        batch.drop_column("queued_at")
        batch.drop_column("approved_data")
