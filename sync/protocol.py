"""The sync protocol of sync/PROTOCOL.md as typed models: the one definition both sides use.

The registry validates every request body with the request models here and declares the
answer models in its OpenAPI; the laptop's client parses every answer into the answer
models, so a server that answers something else is caught at the edge, not deep in the
engine. The protocol version, its header and the size limits are defined here only.

Request models are strict (unknown keys, wrong types and oversize values are refused: the
registry trusts nothing the client sends). Answer models ignore keys they do not know, so a
newer registry may add keys without breaking older laptops. A record's `kind` is one of the
record kinds of fieldapp/domain/records.py; its content (`fields`, `data`) is checked field
by field by fieldapp/domain/validation.py, not here, so one bad record is one rejected
mutation and never a refused batch.

Speed note: the registry builds its answers as plain dicts and encodes them with orjson
(pydantic's encoder costs ~10 ms more per 500-record answer); tests/test_protocol.py checks
real answers against these models, so the two cannot drift.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    TypeAdapter,
    field_validator,
)

from fieldapp.domain import safe_text
from fieldapp.domain.attachment_types import KINDS as ATTACHMENT_KINDS
from fieldapp.domain.records import KINDS

#: The protocol version this program speaks; requests carry it in HEADER.
VERSION = 1
HEADER = "X-Fieldapp-Protocol"
#: Paths answered without the header (load balancers probe health; docs are for people).
UNGATED = ("/api/v1/health", "/api/v1/health/ready", "/docs", "/redoc", "/openapi.json",
           "/docs/oauth2-redirect")

MAX_BODY = 5 * 1024 * 1024  # bytes of a request body (blobs excepted)
MAX_BATCH = 500  # mutations per push
MAX_ATTACHMENT_ROWS = 500  # attachment rows per POST
PULL_DEFAULT_LIMIT = 500
PULL_MAX_LIMIT = 2000
MAX_FIELDS = 100
MAX_TEXT = 10_000
MAX_LIST = 100
MAX_NUMBER = 2**53

Kind = Literal[KINDS]  # site | facility | inspection, from the record definitions
AttachmentKind = Literal[ATTACHMENT_KINDS]
Op = Literal["create", "update", "delete"]
ChangeOp = Literal["upsert", "delete", "evict"]

# Every check below runs inside pydantic-core (Rust): per-mutation Python validators cost
# more than applying the mutation.
# Parsed by pydantic-core ("Input should be a valid UUID"), kept as canonical lower-case text.
Uuid = Annotated[uuid.UUID, AfterValidator(str), PlainSerializer(str, return_type=str)]
Int = Annotated[int, Field(strict=True, ge=-MAX_NUMBER, le=MAX_NUMBER)]
# JSON allows 1e999 and Python's parser allows NaN/Infinity; no record field does.
Float = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-MAX_NUMBER,
                               le=MAX_NUMBER)]
Text = Annotated[str, Field(strict=True, max_length=MAX_TEXT)]
Item = Int | Float | Text
#: A record field's value on the wire: a scalar or a short list of scalars, never deeper.
Value = (StrictBool | Int | Float | Text | None
         | Annotated[list[Item], Field(max_length=MAX_LIST)])
FieldName = Annotated[str, Field(max_length=64)]


def _clean_line(value: str) -> str:
    if not safe_text.is_clean(value):
        raise ValueError("must not contain control characters, line breaks or bidirectional "
                         "overrides (fieldapp/domain/safe_text.py)")
    return value


#: Envelope text (names, captions, device names): the laptop applied the text rule
#: (fieldapp/domain/safe_text.py) when it was typed, so text the rule would change comes from
#: a modified client and is refused whole.
CleanLine = Annotated[str, AfterValidator(_clean_line)]


def canonical_uuid(value: str) -> str:
    """A UUID in canonical lower-case form, or ValueError (for ids checked outside a model)."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise ValueError("must be a UUID like 0b9e4c1a-...") from None


class Request(BaseModel):
    """What a laptop sends: nothing unknown, nothing oversize."""
    model_config = ConfigDict(extra="forbid", str_max_length=MAX_TEXT)


class Answer(BaseModel):
    """What the registry answers: keys a newer registry adds are ignored."""
    model_config = ConfigDict(extra="ignore")


# -- requests --------------------------------------------------------------------------------
class EnrollRequest(Request):
    """`nonce`: chosen by the laptop once per enrolment and sent again with a resend, which
    then gets the same credential (within minutes). `device_id` is what older laptops sent;
    it is accepted and ignored: the registry issues the device id (EnrollAnswer)."""
    token: str = Field(min_length=1, max_length=200)
    device_id: CleanLine | None = Field(default=None, max_length=100)
    device_name: CleanLine = Field(default="", max_length=100)
    nonce: str | None = Field(default=None, min_length=16, max_length=100,
                              pattern=r"^[A-Za-z0-9_-]+$")


class Mutation(Request):
    """One change of one record. `fields` holds only what changed since `base_version`
    (all of it for a create); `null` clears a field; `status` and `review_comment` travel
    as fields. `client_time` is shown in history only, never used to order anything."""
    mutation_id: Uuid
    record_id: Uuid
    kind: Kind
    op: Op
    base_version: int = Field(default=0, ge=0, le=2**31 - 1, strict=True)
    fields: Annotated[dict[FieldName, Value], Field(max_length=MAX_FIELDS)] = Field(
        default_factory=dict)
    client_time: str | None = Field(default=None, max_length=40)


class PushRequest(Request):
    mutations: list[Mutation] = Field(max_length=MAX_BATCH)


class Attachment(Request):
    """A photo or document row as the laptop sends it (its content travels as a blob)."""
    id: str
    record_id: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    name: CleanLine = Field(min_length=1, max_length=200)
    kind: AttachmentKind
    mime: CleanLine = Field(max_length=100)
    size: int = Field(ge=0, le=2**40)
    caption: CleanLine = Field(default="", max_length=500)
    created_at: CleanLine = Field(max_length=40)
    deleted: bool = False

    @field_validator("id", "record_id")
    @classmethod
    def _ids(cls, v: str) -> str:
        return canonical_uuid(v)


class AttachmentsRequest(Request):
    attachments: list[Attachment] = Field(max_length=MAX_ATTACHMENT_ROWS)


class StatusRequest(BaseModel):
    """What a laptop reports at the start of each sync. Unlike other requests, keys a later
    laptop adds are ignored: reporting more must never break an older registry."""
    model_config = ConfigDict(extra="ignore", str_max_length=MAX_TEXT)
    app_version: str = Field(default="", max_length=40)
    queued: int = Field(default=0, ge=0, le=10**9)
    parked: int = Field(default=0, ge=0, le=10**9)
    client_time: str = Field(default="", max_length=40)
    # Rises by one each sync cycle on the device holding the credential (kept beside the
    # credential); `sequence_tag` is random per cycle. A credential copied to a second
    # device (a copied data folder, a cloned disk) shows up as a sequence going back.
    sequence: int | None = Field(default=None, ge=0, le=2**62)
    sequence_tag: str = Field(default="", max_length=40)


# -- answers ---------------------------------------------------------------------------------
class Health(Answer):
    ok: bool
    protocol: int


class Ready(Answer):
    ok: bool
    database: str
    schema_version: str  # the Alembic revision
    blob_store: str
    protocol: int


class UserInfo(Answer):
    name: str
    role: str
    scopes: list[str]


class StatusAnswer(Answer):
    server_time: str  # the registry's clock (UTC): laptops show their skew, never order by it
    generation: str  # changes only when the registry is restored from a backup
    protocol: int
    # The credential's user as the registry has them now: an admin may have changed the role
    # or narrowed the scope since enrolment (the laptop follows, and evicts what left it).
    user: UserInfo | None = None


class EnrollAnswer(Answer):
    credential: str
    user: UserInfo
    device_id: str = ""  # the registry's id of this device (its history and conflicts use it)


class Record(Answer):
    """The registry's view of a record; times are the registry's."""
    id: str
    kind: Kind
    status: str
    review_comment: str | None = None
    data: dict[str, Any]
    version: int
    deleted: bool = False
    grid_code: str
    author: str
    device_id: str
    created_at: str
    updated_at: str
    # The last approved values while a revision awaits review (fieldapp/domain/revision.py);
    # None if never approved. When it entered the review queue (its place in the queue).
    approved: dict[str, Any] | None = None
    queued_at: str | None = None


class FieldProblem(Answer):
    field: str
    zh: str
    en: str


class Reason(Answer):
    """Why a mutation or an attachment row was refused, in English and Chinese."""
    code: str
    message: str = ""
    message_zh: str = ""
    errors: list[FieldProblem] = Field(default_factory=list)
    detail: str | None = None


class FieldConflict(Answer):
    mine: Any = None
    theirs: Any = None


class Applied(Answer):
    """The mutation is applied; the record is at `version`. `record` is the whole record when
    it is more than the laptop's base with this mutation's fields (someone else changed it
    too), and may be absent otherwise: the laptop knows it already."""
    mutation_id: str
    outcome: Literal["applied"]
    version: int
    record: Record | None = None


class Conflicted(Answer):
    """Someone else changed the same field(s) since `base_version`; the rest was merged and
    applied (so `version` may be new). `conflicts` maps each field (or `_deleted`) to both
    values; the record keeps the registry's value until the user resolves it."""
    mutation_id: str
    outcome: Literal["conflict"]
    version: int
    record: Record
    conflicts: dict[str, FieldConflict]


class Rejected(Answer):
    """Validation, scope, role or workflow refused it; nothing was applied."""
    mutation_id: str
    outcome: Literal["rejected"]
    reason: Reason


class AlreadyApplied(Answer):
    """The same mutation id with the same content again: the first answer, repeated.
    `original_outcome` says what it was (applied or conflict)."""
    mutation_id: str
    outcome: Literal["already_applied"]
    original_outcome: Literal["applied", "conflict"] | None = None
    version: int | None = None
    record: Record | None = None
    conflicts: dict[str, FieldConflict] | None = None

    @property
    def effective(self) -> str:
        """applied or conflict. When the first answer was a conflict whose reply was lost,
        the conflict must still reach the user, not vanish as "applied"."""
        if self.original_outcome == "conflict" or (self.original_outcome is None
                                                    and self.conflicts):
            return "conflict"
        return "applied"


Result = Annotated[Applied | Conflicted | Rejected | AlreadyApplied,
                   Field(discriminator="outcome")]


class PushAnswer(Answer):
    results: list[Result]


class Change(Answer):
    """One record's current state in a pull page: `record` is null for `evict` and the
    tombstone (`deleted: true`) for `delete`."""
    seq: int
    op: ChangeOp
    record_id: str
    kind: Kind
    record: Record | None = None


class HistoryEntry(Answer):
    record_id: str
    version: int
    seq: int
    at: str
    who: str
    device_id: str
    action: str
    changes: dict[str, list[Any]]
    comment: str | None = None
    mutation_id: str | None = None


class Area(Answer):
    code: str
    name: str
    level: str
    parent_code: str | None = None
    lat: float | None = None
    lng: float | None = None
    households: int | None = None
    # A grid's outline: JSON rings [[[lat, lng], …], …] (WGS-84), or null.
    boundary: str | None = None
    # A pilot community, and the facilities the area plans to open this year.
    pilot: bool = False
    annual_target: int | None = None


class RemoteAttachment(Answer):
    """An attachment row in a pull page (the registry adds author and upload time)."""
    id: str
    record_id: str
    sha256: str
    name: str
    kind: AttachmentKind
    mime: str
    size: int
    caption: str = ""
    created_at: str
    author: str | None = None
    uploaded_at: str | None = None
    deleted: bool = False


class PullPage(Answer):
    changes: list[Change]
    history: list[HistoryEntry] = Field(default_factory=list)
    areas: list[Area] = Field(default_factory=list)
    attachments: list[RemoteAttachment] = Field(default_factory=list)
    cursor: str
    more: bool = False


class AttachmentResult(Answer):
    id: str
    outcome: Literal["stored", "unchanged", "rejected"]
    reason: Reason | None = None


class AttachmentsAnswer(Answer):
    results: list[AttachmentResult]


class BlobStored(Answer):
    sha256: str
    stored: bool
    size: int


class HistoryAnswer(Answer):
    history: list[HistoryEntry]


class ErrorBody(Answer):
    """Every error answer: a code, English and Chinese; some add keys (protocol, max_size,
    details)."""
    model_config = ConfigDict(extra="allow")
    error: str
    message: str
    message_zh: str


RESULTS = TypeAdapter(list[Result])

#: Every model by name, for sync/PROTOCOL.md's examples and the contract test.
MODELS: dict[str, type[BaseModel]] = {
    cls.__name__: cls for cls in (
        EnrollRequest, Mutation, PushRequest, Attachment, AttachmentsRequest, Health,
        UserInfo, EnrollAnswer, Record, Reason, Applied, Conflicted, Rejected,
        AlreadyApplied, PushAnswer, Change, HistoryEntry, Area, RemoteAttachment, PullPage,
        AttachmentResult, AttachmentsAnswer, BlobStored, HistoryAnswer, ErrorBody, Ready,
        StatusRequest, StatusAnswer)}
