"""Who holds which blob (sync/server/blob_access.py): knowing a hash is no longer access.

Existing attachments: the author of each blob's first attachment row is taken to have
uploaded it (the registry refused rows without content, so the first row came with the upload).

Revision ID: 0007_blob_holders
Revises: 0006_blob_chunk_uncompressed
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_blob_holders"
down_revision = "0006_blob_chunk_uncompressed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blob_holder",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["fa_user.id"]),
        sa.PrimaryKeyConstraint("sha256", "user_id"))
    op.execute(sa.text(
        "INSERT INTO blob_holder (sha256, user_id, at) "
        "SELECT a.sha256, u.id, MIN(a.uploaded_at) FROM attachment a "
        "JOIN fa_user u ON u.name = a.author "
        "WHERE a.uploaded_at = (SELECT MIN(b.uploaded_at) FROM attachment b "
        "WHERE b.sha256 = a.sha256) GROUP BY a.sha256, u.id"))


def downgrade() -> None:
    op.drop_table("blob_holder")
