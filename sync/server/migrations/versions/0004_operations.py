"""Running a city: the registry's generation (changes on restore), what each device last
reported, an activity log for support, blob metadata (quota, collection) and blob content in
the database for the PostgreSQL blob store (sync/server/ops.py, blobstore.py).

Revision ID: 0004_operations
Revises: 0003_alembic_owns_the_schema
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_operations"
down_revision = "0003_alembic_owns_the_schema"
branch_labels = None
depends_on = None

AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "registry_meta",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False))
    op.create_table(
        "device_status",
        sa.Column("credential_hash", sa.String(64), primary_key=True),
        sa.Column("user_name", sa.String(60), nullable=False),
        sa.Column("device_id", sa.String(100), nullable=False),
        sa.Column("app_version", sa.String(40), nullable=False, server_default=""),
        sa.Column("queued", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("parked", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("client_time", sa.String(40), nullable=True),
        sa.Column("last_seen_at", sa.String(40), nullable=False),
        sa.Column("last_push_at", sa.String(40), nullable=True),
        sa.Column("address", sa.String(100), nullable=True))
    op.create_table(
        "activity",
        sa.Column("id", AutoId, sa.Identity(always=False), primary_key=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("user_name", sa.String(60), nullable=False),
        sa.Column("device_id", sa.String(100), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""))
    op.create_index("activity_at", "activity", ["at"])
    op.create_index("activity_user_at", "activity", ["user_name", "at"])
    op.create_table(
        "blob",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("uploader", sa.String(60), nullable=False, server_default=""),
        sa.Column("store", sa.String(10), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("touched_at", sa.String(40), nullable=False))
    op.create_index("blob_uploader", "blob", ["uploader"])
    op.create_table(
        "blob_chunk",
        sa.Column("blob_key", sa.String(80), primary_key=True),
        sa.Column("n", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("data", sa.LargeBinary(), nullable=False))
    op.create_table(
        "blob_upload",
        sa.Column("upload_id", sa.String(80), primary_key=True),
        sa.Column("uploader", sa.String(60), nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False))


def downgrade() -> None:
    for table in ("blob_upload", "blob_chunk", "blob", "activity", "device_status",
                  "registry_meta"):
        op.drop_table(table)
