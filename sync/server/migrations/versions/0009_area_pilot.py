"""Pilot communities and annual targets: an area may be flagged pilot and carry the number of
facilities it plans to open this year, synced to laptops with the other area data.

Revision ID: 0009_area_pilot
Revises: 0008_device_identity
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_area_pilot"
down_revision = "0008_device_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("area") as batch:
        batch.add_column(sa.Column("pilot", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("annual_target", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("area") as batch:
        batch.drop_column("annual_target")
        batch.drop_column("pilot")
