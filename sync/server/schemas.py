"""Request bodies of the sync protocol as pydantic models: shape, types, sizes, no extras.

These check the envelope only. Record content in `fields` is checked per mutation by
fieldapp.domain.validation, so one bad record is one rejected mutation, not a refused batch.
"""

from __future__ import annotations

import math
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_BATCH = 500
MAX_FIELDS = 100
MAX_TEXT = 10_000
MAX_LIST = 100
MAX_NUMBER = 2**53


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise ValueError("must be a UUID like 0b9e4c1a-...") from None


def _scalar_ok(v: Any) -> bool:
    if v is None or isinstance(v, bool):
        return True
    if isinstance(v, int):
        return abs(v) <= MAX_NUMBER
    if isinstance(v, float):
        # JSON allows 1e999 and Python's parser allows NaN/Infinity; no record field does.
        return math.isfinite(v) and abs(v) <= MAX_NUMBER
    return isinstance(v, str) and len(v) <= MAX_TEXT


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=MAX_TEXT)


class EnrollIn(Strict):
    token: str = Field(min_length=1, max_length=200)
    device_id: str = Field(min_length=1, max_length=100)
    device_name: str = Field(default="", max_length=100)


class MutationIn(Strict):
    mutation_id: str
    record_id: str
    kind: Literal["site", "facility", "inspection"]
    op: Literal["create", "update", "delete"]
    base_version: int = Field(default=0, ge=0, le=2**31 - 1, strict=True)
    fields: dict[str, Any] = Field(default_factory=dict)
    client_time: str | None = Field(default=None, max_length=40)

    @field_validator("mutation_id", "record_id")
    @classmethod
    def _ids(cls, v: str) -> str:
        return _uuid(v)

    @field_validator("fields")
    @classmethod
    def _flat(cls, v: dict[str, Any]) -> dict[str, Any]:
        # Record values are scalars or short lists of scalars; anything deeper is not a record.
        if len(v) > MAX_FIELDS:
            raise ValueError(f"at most {MAX_FIELDS} fields")
        for name, value in v.items():
            if len(name) > 64:
                raise ValueError("field names are at most 64 characters")
            if isinstance(value, list):
                if len(value) > MAX_LIST or not all(
                        _scalar_ok(x) and not isinstance(x, bool) and x is not None
                        for x in value):
                    raise ValueError(f"{name}: a list holds at most {MAX_LIST} plain values")
            elif not _scalar_ok(value):
                raise ValueError(f"{name}: must be text, a finite number, true/false, null "
                                 f"or a list")
        return v


class PushIn(Strict):
    mutations: list[MutationIn] = Field(max_length=MAX_BATCH)
