"""Request bodies of the sync protocol as pydantic models: shape, types, sizes, no extras.

These check the envelope only. Record content in `fields` is checked per mutation by
fieldapp.domain.validation, so one bad record is one rejected mutation, not a refused batch.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

MAX_BATCH = 500
MAX_FIELDS = 100
MAX_TEXT = 10_000
MAX_LIST = 100
MAX_NUMBER = 2**53

# Every check below runs inside pydantic-core (Rust): per-mutation Python validators cost
# more than applying the mutation.
# Parsed by pydantic-core ("Input should be a valid UUID"), kept as canonical lower-case text.
Uuid = Annotated[uuid.UUID, AfterValidator(str)]
Int = Annotated[int, Field(strict=True, ge=-MAX_NUMBER, le=MAX_NUMBER)]
# JSON allows 1e999 and Python's parser allows NaN/Infinity; no record field does.
Float = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-MAX_NUMBER,
                               le=MAX_NUMBER)]
Text = Annotated[str, Field(strict=True, max_length=MAX_TEXT)]
Item = Union[Int, Float, Text]
Value = Union[StrictBool, Int, Float, Text, None,
              Annotated[list[Item], Field(max_length=MAX_LIST)]]
FieldName = Annotated[str, Field(max_length=64)]


def _uuid(value: str) -> str:
    """A UUID in canonical lower-case form, or ValueError (for ids outside the models)."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise ValueError("must be a UUID like 0b9e4c1a-...") from None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=MAX_TEXT)


class EnrollIn(Strict):
    token: str = Field(min_length=1, max_length=200)
    device_id: str = Field(min_length=1, max_length=100)
    device_name: str = Field(default="", max_length=100)


class MutationIn(Strict):
    mutation_id: Uuid
    record_id: Uuid
    kind: Literal["site", "facility", "inspection"]
    op: Literal["create", "update", "delete"]
    base_version: int = Field(default=0, ge=0, le=2**31 - 1, strict=True)
    # Record values are scalars or short lists of scalars; anything deeper is not a record.
    fields: Annotated[dict[FieldName, Value], Field(max_length=MAX_FIELDS)] = Field(
        default_factory=dict)
    client_time: str | None = Field(default=None, max_length=40)


class PushIn(Strict):
    mutations: list[MutationIn] = Field(max_length=MAX_BATCH)
