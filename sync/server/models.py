"""The registry's tables as SQLModel classes: what the server code reads and writes.

These classes describe the current schema for queries; they never create it. The schema is made
by `sync.server.migrations` (explicit DDL per version), and a test checks the two agree.
Hot paths use the SQLAlchemy tables (`Model.__table__`) with Core statements for speed.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class User(SQLModel, table=True):
    __tablename__ = "fa_user"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=60)
    role: str  # worker | supervisor | admin
    scopes: str  # comma-separated area codes, or "*" for the whole city
    revoked: bool = False
    created_at: str


class EnrollmentToken(SQLModel, table=True):
    __tablename__ = "enrollment_token"
    token_hash: str = Field(primary_key=True)  # sha256 hex: the token itself is never stored
    user_id: int = Field(foreign_key="fa_user.id")
    expires_at: str
    used_at: str | None = None


class DeviceCredential(SQLModel, table=True):
    __tablename__ = "device_credential"
    credential_hash: str = Field(primary_key=True)
    user_id: int = Field(foreign_key="fa_user.id", index=True)
    device_id: str
    device_name: str = ""
    created_at: str
    revoked_at: str | None = None


class EnrollFailure(SQLModel, table=True):
    """Failed enrolment attempts per client address, shared by every server process."""
    __tablename__ = "enroll_failure"
    id: int | None = Field(default=None, primary_key=True)
    client: str = Field(index=True)
    at: float  # unix time: compared, never shown


class Area(SQLModel, table=True):
    __tablename__ = "area"
    code: str = Field(primary_key=True)
    name: str
    level: str
    parent_code: str | None = None
    lat: float | None = None
    lng: float | None = None
    households: int | None = None
    seq: int = 0  # the change-feed seq of its last change, so pulls send only changed areas


class Record(SQLModel, table=True):
    __tablename__ = "record"
    id: str = Field(primary_key=True)
    kind: str
    grid_code: str
    street_code: str | None = None
    district_code: str | None = None
    status: str = "draft"
    review_comment: str | None = None
    data: str  # JSON of the field dict defined by fieldapp.domain.records
    version: int = 1
    deleted: bool = False
    created_at: str
    updated_at: str
    author: str
    device_id: str


class History(SQLModel, table=True):
    __tablename__ = "history"
    id: int | None = Field(default=None, primary_key=True)
    record_id: str
    version: int
    seq: int
    at: str
    who: str
    device_id: str
    action: str
    changes: str  # JSON {field: [old, new]}
    comment: str | None = None
    mutation_id: str | None = None


class AppliedMutation(SQLModel, table=True):
    __tablename__ = "applied_mutation"
    mutation_id: str = Field(primary_key=True)
    content_hash: str
    result: str  # JSON of the Result answered the first time


class ChangeFeed(SQLModel, table=True):
    """One row per (change, scope code it touches); pulls read it by code and seq."""
    __tablename__ = "change_feed"
    code: str = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    record_id: str


class SeqCounter(SQLModel, table=True):
    """One row. Each writing transaction raises it and holds its lock until commit."""
    __tablename__ = "seq_counter"
    id: int = Field(primary_key=True)
    value: int = 0


class Attachment(SQLModel, table=True):
    """A photo or document of a record; its content is the blob file named by sha256."""
    __tablename__ = "attachment"
    id: str = Field(primary_key=True)
    record_id: str = Field(index=True)
    sha256: str = Field(index=True)
    name: str
    kind: str  # photo | document
    mime: str
    size: int
    caption: str = ""
    created_at: str  # the laptop's, shown only
    author: str
    device_id: str
    uploaded_at: str
    deleted: bool = False


class SchemaVersion(SQLModel, table=True):
    __tablename__ = "schema_version"
    version: int = Field(primary_key=True)
    applied_at: str
