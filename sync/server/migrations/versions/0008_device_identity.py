"""Device identity owned by the registry: the device id a token issued and the enrolment
nonce (retry-safe enrolment), why a credential was revoked, and each credential's last sync
sequence (a copied credential shows up as two sequences).

Revision ID: 0008_device_identity
Revises: 0007_blob_holders
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_device_identity"
down_revision = "0007_blob_holders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("enrollment_token") as batch:
        batch.add_column(sa.Column("nonce_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("device_id", sa.String(length=100), nullable=True))
    with op.batch_alter_table("device_credential") as batch:
        batch.add_column(sa.Column("revoked_reason", sa.String(length=20), nullable=True))
    with op.batch_alter_table("device_status") as batch:
        batch.add_column(sa.Column("sequence", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("sequence_tag", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("device_status") as batch:
        batch.drop_column("sequence_tag")
        batch.drop_column("sequence")
    with op.batch_alter_table("device_credential") as batch:
        batch.drop_column("revoked_reason")
    with op.batch_alter_table("enrollment_token") as batch:
        batch.drop_column("device_id")
        batch.drop_column("nonce_hash")
