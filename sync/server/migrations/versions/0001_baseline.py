"""The registry as the pre-Alembic runner's migration 1 made it: users, tokens, credentials,
areas, records, history, applied mutations, the change feed and its seq counter.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None

AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REAL = sa.Double().with_variant(sa.REAL(), "sqlite")


def _id() -> sa.Column:
    return sa.Column("id", AUTO_ID, sa.Identity(), primary_key=True)


def _flag(name: str) -> sa.Column:
    return sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())


def upgrade() -> None:
    op.create_table(
        "fa_user", _id(),
        sa.Column("name", sa.String(60), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        _flag("revoked"),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.CheckConstraint("role IN ('worker', 'supervisor', 'admin')", name="fa_user_role"))
    op.create_table(
        "enrollment_token",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("fa_user.id"), nullable=False),
        sa.Column("expires_at", sa.String(40), nullable=False),
        sa.Column("used_at", sa.String(40)))
    op.create_table(
        "device_credential",
        sa.Column("credential_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("fa_user.id"), nullable=False),
        sa.Column("device_id", sa.String(100), nullable=False),
        sa.Column("device_name", sa.String(100), nullable=False, server_default=""),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("revoked_at", sa.String(40)))
    op.create_index("device_credential_user", "device_credential", ["user_id"])
    op.create_table(
        "enroll_failure", _id(),
        sa.Column("client", sa.String(100), nullable=False),
        sa.Column("at", REAL, nullable=False))
    op.create_index("enroll_failure_client", "enroll_failure", ["client", "at"])
    op.create_table(
        "area",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("parent_code", sa.String(40)),
        sa.Column("lat", REAL),
        sa.Column("lng", REAL),
        sa.Column("households", sa.Integer()),
        sa.Column("seq", sa.BigInteger(), nullable=False, server_default="0"),
        sa.CheckConstraint("level IN ('district', 'street', 'community', 'grid')",
                           name="area_level"))
    op.create_index("area_parent", "area", ["parent_code"])
    op.create_index("area_seq", "area", ["seq"])
    op.create_table(
        "record",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("grid_code", sa.String(40), nullable=False),
        sa.Column("street_code", sa.String(40)),
        sa.Column("district_code", sa.String(40)),
        sa.Column("status", sa.String(20), nullable=False, server_default="draft"),
        sa.Column("review_comment", sa.Text()),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        _flag("deleted"),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
        sa.Column("author", sa.String(60), nullable=False),
        sa.Column("device_id", sa.String(100), nullable=False),
        sa.CheckConstraint("kind IN ('site', 'facility', 'inspection')", name="record_kind"))
    op.create_index("record_grid", "record", ["grid_code"])
    op.create_table(
        "history", _id(),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("who", sa.String(60), nullable=False),
        sa.Column("device_id", sa.String(100), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text()),
        sa.Column("mutation_id", sa.String(36)))
    op.create_index("history_record_version", "history", ["record_id", "version"])
    op.create_table(
        "applied_mutation",
        sa.Column("mutation_id", sa.String(36), primary_key=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("result", sa.Text(), nullable=False))
    op.create_table(
        "change_feed",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("record_id", sa.String(36), nullable=False))
    counter = op.create_table(
        "seq_counter",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("value", sa.BigInteger(), nullable=False, server_default="0"))
    op.bulk_insert(counter, [{"id": 1, "value": 0}])
    # The pre-Alembic runner's log; 0003 leaves a mark in it for older programs.
    op.create_table(
        "schema_version",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("applied_at", sa.String(40), nullable=False))


def downgrade() -> None:
    for table in ("schema_version", "seq_counter", "change_feed", "applied_mutation", "history",
                  "record", "area", "enroll_failure", "device_credential", "enrollment_token",
                  "fa_user"):
        op.drop_table(table)
