"""The registry's tables as SQLModel classes: what the server reads and writes, and the schema.

These classes are the schema's one definition: Alembic revisions (sync/server/alembic/) are
generated from them (`alembic revision --autogenerate`), and `alembic check` in CI fails when a
class and the revisions disagree. Types, lengths, index names and server defaults are spelled
out so that a database made by the pre-Alembic migrations matches them exactly.
Hot paths use the SQLAlchemy tables (`Model.__table__`) with Core statements for speed.
"""

from __future__ import annotations

from sqlalchemy import (
    REAL,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    false,
)
from sqlmodel import Field, SQLModel

from fieldapp.domain.areas import LEVELS
from fieldapp.domain.attachment_types import KINDS as ATTACHMENT_KINDS
from fieldapp.domain.records import KINDS
from fieldapp.domain.workflow import ROLES

#: An auto-numbered key: a rowid alias on SQLite, an identity column on PostgreSQL.
AutoId = BigInteger().with_variant(Integer(), "sqlite")
#: Doubles: REAL on SQLite, DOUBLE PRECISION on PostgreSQL.
Real = Double().with_variant(REAL(), "sqlite")


def _one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


def _auto_id() -> Column:
    return Column(AutoId, Identity(), primary_key=True)


def _flag() -> Column:
    return Column(Boolean, nullable=False, server_default=false())


class User(SQLModel, table=True):
    __tablename__ = "fa_user"
    __table_args__ = (_one_of("role", ROLES, "fa_user_role"),)
    id: int | None = Field(default=None, sa_column=_auto_id())
    name: str = Field(sa_column=Column(String(60), nullable=False, unique=True))
    role: str = Field(max_length=20)  # worker | supervisor | admin
    scopes: str = Field(sa_type=Text)  # comma-separated area codes, or "*" for the whole city
    revoked: bool = Field(default=False, sa_column=_flag())
    created_at: str = Field(max_length=40)


class EnrollmentToken(SQLModel, table=True):
    __tablename__ = "enrollment_token"
    token_hash: str = Field(primary_key=True, max_length=64)  # sha256 hex, never the token
    user_id: int = Field(sa_column=Column(BigInteger, ForeignKey("fa_user.id"), nullable=False))
    expires_at: str = Field(max_length=40)
    used_at: str | None = Field(default=None, max_length=40)
    # Set when it is used: the laptop's nonce (hashed) and the device id the registry issued,
    # so a resend of the same enrolment within minutes gets the same credential back.
    nonce_hash: str | None = Field(default=None, max_length=64)
    device_id: str | None = Field(default=None, max_length=100)


class DeviceCredential(SQLModel, table=True):
    __tablename__ = "device_credential"
    __table_args__ = (Index("device_credential_user", "user_id"),)
    credential_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(sa_column=Column(BigInteger, ForeignKey("fa_user.id"), nullable=False))
    device_id: str = Field(max_length=100)
    device_name: str = Field(default="", sa_column=Column(String(100), nullable=False,
                                                          server_default=""))
    created_at: str = Field(max_length=40)
    revoked_at: str | None = Field(default=None, max_length=40)
    revoked_reason: str | None = Field(default=None, max_length=20)  # admin | cloned


class EnrollFailure(SQLModel, table=True):
    """Failed enrolment attempts per client address, shared by every server process."""
    __tablename__ = "enroll_failure"
    __table_args__ = (Index("enroll_failure_client", "client", "at"),)
    id: int | None = Field(default=None, sa_column=_auto_id())
    client: str = Field(max_length=100)
    at: float = Field(sa_column=Column(Real, nullable=False))  # unix time: compared, not shown


class Area(SQLModel, table=True):
    __tablename__ = "area"
    __table_args__ = (_one_of("level", LEVELS, "area_level"), Index("area_parent", "parent_code"),
                      Index("area_seq", "seq"))
    code: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=60)
    level: str = Field(max_length=20)
    parent_code: str | None = Field(default=None, max_length=40)
    lat: float | None = Field(default=None, sa_type=Real)
    lng: float | None = Field(default=None, sa_type=Real)
    households: int | None = None
    # Grid outline as JSON rings [[[lat, lng], …], …] (fieldapp.domain.grid_shapes), loaded
    # from a GeoJSON file by `admin load-areas`; NULL where none was given.
    boundary: str | None = Field(default=None, sa_type=Text)
    # A pilot community (率先…先行先试) and the area's annual plan of facilities to open.
    pilot: bool = Field(default=False, sa_column=_flag())
    annual_target: int | None = None
    # The change-feed seq of its last change, so pulls send only changed areas.
    seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))


class Record(SQLModel, table=True):
    __tablename__ = "record"
    __table_args__ = (_one_of("kind", KINDS, "record_kind"), Index("record_grid", "grid_code"))
    id: str = Field(primary_key=True, max_length=36)
    kind: str = Field(max_length=20)
    grid_code: str = Field(max_length=40)
    street_code: str | None = Field(default=None, max_length=40)
    district_code: str | None = Field(default=None, max_length=40)
    status: str = Field(default="draft", sa_column=Column(String(20), nullable=False,
                                                          server_default="draft"))
    review_comment: str | None = Field(default=None, sa_type=Text)
    data: str = Field(sa_type=Text)  # JSON of the field dict defined by fieldapp.domain.records
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False,
                                                     server_default="1"))
    deleted: bool = Field(default=False, sa_column=_flag())
    created_at: str = Field(max_length=40)
    updated_at: str = Field(max_length=40)
    author: str = Field(max_length=60)
    device_id: str = Field(max_length=100)
    # The last approved values (JSON) while a revision awaits review; NULL if never approved
    # (fieldapp/domain/revision.py). When the record last entered the review queue.
    approved_data: str | None = Field(default=None, sa_type=Text)
    queued_at: str | None = Field(default=None, max_length=40)


class History(SQLModel, table=True):
    __tablename__ = "history"
    __table_args__ = (Index("history_record_version", "record_id", "version"),)
    id: int | None = Field(default=None, sa_column=_auto_id())
    record_id: str = Field(max_length=36)
    version: int
    seq: int = Field(sa_type=BigInteger)
    at: str = Field(max_length=40)
    who: str = Field(max_length=60)
    device_id: str = Field(max_length=100)
    action: str = Field(max_length=20)
    changes: str = Field(sa_type=Text)  # JSON {field: [old, new]}
    comment: str | None = Field(default=None, sa_type=Text)
    mutation_id: str | None = Field(default=None, max_length=36)


class AppliedMutation(SQLModel, table=True):
    __tablename__ = "applied_mutation"
    mutation_id: str = Field(primary_key=True, max_length=36)
    content_hash: str = Field(max_length=64)
    result: str = Field(sa_type=Text)  # JSON of the Result answered the first time


class ChangeFeed(SQLModel, table=True):
    """One row per (change, scope code it touches); pulls read it by code and seq."""
    __tablename__ = "change_feed"
    code: str = Field(primary_key=True, max_length=40)
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    record_id: str = Field(max_length=36)


class SeqCounter(SQLModel, table=True):
    """One row. Each writing transaction raises it and holds its lock until commit."""
    __tablename__ = "seq_counter"
    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    value: int = Field(default=0, sa_column=Column(BigInteger, nullable=False,
                                                   server_default="0"))


class Attachment(SQLModel, table=True):
    """A photo or document of a record; its content is the blob file named by sha256."""
    __tablename__ = "attachment"
    __table_args__ = (_one_of("kind", ATTACHMENT_KINDS, "attachment_kind"),
                      Index("ix_attachment_record_id", "record_id"),
                      Index("ix_attachment_sha256", "sha256"))
    id: str = Field(primary_key=True, max_length=36)
    record_id: str = Field(max_length=36)
    sha256: str = Field(max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)  # photo | document
    mime: str = Field(max_length=100)
    size: int = Field(sa_type=BigInteger)
    caption: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: str = Field(max_length=40)  # the laptop's, shown only
    author: str = Field(max_length=60)
    device_id: str = Field(max_length=100)
    uploaded_at: str = Field(max_length=40)
    deleted: bool = Field(default=False, sa_column=_flag())


class RegistryMeta(SQLModel, table=True):
    """Key/value facts about this registry; `generation` changes when a backup is restored."""
    __tablename__ = "registry_meta"
    key: str = Field(primary_key=True, max_length=40)
    value: str = Field(sa_type=Text)


class DeviceStatus(SQLModel, table=True):
    """What a device reported at its last sync (POST /api/v1/status), for support and metrics."""
    __tablename__ = "device_status"
    credential_hash: str = Field(primary_key=True, max_length=64)
    user_name: str = Field(max_length=60)
    device_id: str = Field(max_length=100)
    app_version: str = Field(default="", sa_column=Column(String(40), nullable=False,
                                                          server_default=""))
    queued: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    parked: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    client_time: str | None = Field(default=None, max_length=40)  # shown as skew, never trusted
    last_seen_at: str = Field(max_length=40)
    last_push_at: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=100)
    # The laptop's sync sequence for this credential: it only rises on one device, so a
    # lower (or equal, from another run) one means the credential was copied to a second.
    sequence: int | None = Field(default=None, sa_type=BigInteger)
    sequence_tag: str | None = Field(default=None, max_length=40)


class Activity(SQLModel, table=True):
    """One line per enrolment, pushed batch and stored attachment rows: who synced what, when."""
    __tablename__ = "activity"
    __table_args__ = (Index("activity_at", "at"), Index("activity_user_at", "user_name", "at"))
    id: int | None = Field(default=None, sa_column=_auto_id())
    at: str = Field(max_length=40)
    user_name: str = Field(max_length=60)
    device_id: str = Field(max_length=100)
    action: str = Field(max_length=20)  # enroll | push | attachments
    count: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class Blob(SQLModel, table=True):
    """Metadata of stored content (either store): who uploaded it first, when, when last used."""
    __tablename__ = "blob"
    __table_args__ = (Index("blob_uploader", "uploader"),)
    sha256: str = Field(primary_key=True, max_length=64)
    size: int = Field(sa_type=BigInteger)
    uploader: str = Field(default="", sa_column=Column(String(60), nullable=False,
                                                       server_default=""))
    store: str = Field(max_length=10)  # dir | db
    created_at: str = Field(max_length=40)
    touched_at: str = Field(max_length=40)  # stored or asked for: collection waits after it


class BlobChunk(SQLModel, table=True):
    """Content of the database blob store, in order; blob_key is the sha256 once complete."""
    __tablename__ = "blob_chunk"
    blob_key: str = Field(primary_key=True, max_length=80)
    n: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    data: bytes = Field(sa_type=LargeBinary)


class BlobUpload(SQLModel, table=True):
    """An upload in progress in the database store (chunks under its id until it checks out)."""
    __tablename__ = "blob_upload"
    upload_id: str = Field(primary_key=True, max_length=80)
    uploader: str = Field(max_length=60)
    started_at: str = Field(max_length=40)


class BlobHolder(SQLModel, table=True):
    """A user who sent a blob's bytes, or could read them when attaching them again: who may
    read what content is decided from these rows (sync/server/blob_access.py)."""
    __tablename__ = "blob_holder"
    sha256: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(sa_column=Column(BigInteger, ForeignKey("fa_user.id"),
                                          primary_key=True, autoincrement=False))
    at: str = Field(max_length=40)


class SchemaVersion(SQLModel, table=True):
    """The pre-Alembic migration log. Kept so that an older fieldapp, which reads it, refuses a
    database this one manages ("newer than this program") instead of damaging it."""
    __tablename__ = "schema_version"
    version: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    applied_at: str = Field(max_length=40)

