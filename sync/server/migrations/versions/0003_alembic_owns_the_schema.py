"""Alembic manages the schema from here on: a mark in the old runner's `schema_version`, so
that a fieldapp from before Alembic refuses this database ("newer than this program")
instead of trying to migrate it.

Revision ID: 0003_alembic_owns_the_schema
Revises: 0002_attachments
Create Date: 2026-11-30
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003_alembic_owns_the_schema"
down_revision = "0002_attachments"
branch_labels = None
depends_on = None

MARK = 3


def upgrade() -> None:
    op.execute(sa.text("INSERT INTO schema_version (version, applied_at) VALUES (:v, :at)")
               .bindparams(v=MARK, at=datetime.now(UTC).isoformat()))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM schema_version WHERE version = :v").bindparams(v=MARK))
