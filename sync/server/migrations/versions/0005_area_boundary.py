"""Grid boundaries: an area may carry its outline (GeoJSON rings as text), synced to laptops.

Revision ID: 0005_area_boundary
Revises: 0004_operations
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_area_boundary"
down_revision = "0004_operations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("area") as batch:
        batch.add_column(sa.Column("boundary", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("area") as batch:
        batch.drop_column("boundary")
