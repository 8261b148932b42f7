"""Validation of record content against `records.SPECS`, with messages in Chinese and English.

`coerce` turns raw input (form text, spreadsheet cells, wire JSON) into a field's value;
`validate` checks a whole record for a workflow status. A draft may be incomplete; submitting
needs every required field. The same functions serve the form, the importer and the server.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fieldapp.domain import normalize as N
from fieldapp.domain import safe_text
from fieldapp.domain.joint_review import ready_problems
from fieldapp.domain.project import stage_problems
from fieldapp.domain.records import (
    BOOL,
    CHOICE,
    DATE,
    FIELD_INDEX,
    FLOAT,
    GRID,
    INT,
    LONGTEXT,
    MULTI,
    PHONE,
    REF,
    SPECS,
    TEXT,
    FieldSpec,
)
from fieldapp.domain.workflow import REVIEW_ROLES
from fieldapp.i18n import BilingualError

_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DEFAULT_MAX_LEN = 200


@dataclass(frozen=True)
class FieldError:
    field: str
    zh: str
    en: str

    def message(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en

    def as_dict(self) -> dict:
        return {"field": self.field, "zh": self.zh, "en": self.en}


class InvalidValue(BilingualError, ValueError):
    """A raw value that cannot become the field's value; the reason says what is expected."""


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _ambiguous(spec: FieldSpec, raw: Any, codes: list[str]) -> InvalidValue:
    zh = "、".join(f"{spec.choices.label(c, 'zh')} ({c})" for c in codes)
    en = ", ".join(f"{spec.choices.label(c, 'en')} ({c})" for c in codes)
    return InvalidValue(f"「{raw}」可指多个: {zh},请选其中一个",
                        f"{raw!r} may mean several: {en}; choose one")


def safe_clean(text: str, *, multiline: bool = False) -> str:
    """The text rule (`safe_text`) with its refusal as an InvalidValue."""
    try:
        return safe_text.clean(text, multiline=multiline)
    except safe_text.UnsafeText as exc:
        raise InvalidValue(exc.zh, exc.en) from None


def coerce(spec: FieldSpec, raw: Any) -> Any:
    """The stored value for `raw`, or None for empty; raises InvalidValue with a reason."""
    t = spec.type
    if isinstance(raw, str):
        raw = safe_clean(raw, multiline=t == LONGTEXT)
    if raw is None or (isinstance(raw, str) and N.halfwidth(raw) == ""):
        return None
    if t in (TEXT, LONGTEXT):
        if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
            raise InvalidValue("应为文字", "must be text")
        text = N.clean_text(str(raw))
        if t == TEXT:  # one line: a line break and the spaces around it become one space
            text = re.sub(r"\s*\n\s*", " ", text)
        return text or None
    if t in (INT, FLOAT):
        if isinstance(raw, bool):
            raise InvalidValue("应为数字", "must be a number")
        number = raw if isinstance(raw, (int, float)) else N.parse_number(str(raw))
        if number is None and spec.name.startswith("floor"):
            number = N.parse_floor(str(raw))
            if number is None:
                raise InvalidValue("应为楼层数字,如 3、3楼、一楼;地下一层写 -1 或 B1",
                                   "must be a floor number, e.g. 3, 3楼 or 一楼; "
                                   "basement 1 is -1 or B1")
        if number is None or number != number:  # NaN
            example = f"120{spec.unit}" if spec.unit else "12"
            raise InvalidValue(f"应为数字,如 {example}", f"must be a number, e.g. {example}")
        if t == INT:
            if float(number) != int(number):
                raise InvalidValue("应为整数", "must be a whole number")
            return int(number)
        return float(number)
    if t == DATE:
        parsed = raw if isinstance(raw, date) else N.parse_date(str(raw))
        if parsed is None:
            raise _bad_date(str(raw))
        return parsed.isoformat()
    if t == BOOL:
        if isinstance(raw, bool):
            return raw
        parsed = N.parse_bool(str(raw))
        if parsed is None:
            raise InvalidValue("应为 是/否", "must be yes or no")
        return parsed
    if t == CHOICE:
        found = spec.choices.resolve(str(raw)) if spec.choices else []
        if len(found) > 1:
            raise _ambiguous(spec, raw, found)
        if not found:
            raise _not_a_choice(spec, str(raw))
        return found[0]
    if t == MULTI:
        items = raw if isinstance(raw, (list, tuple)) else [raw]
        codes = []
        for item in items:
            if isinstance(item, str):
                item = safe_clean(item)
            if _is_empty(item):
                continue
            # A word naming several choices (养老托育) ticks them all: a list holds several.
            found, unknown = spec.choices.read_words(str(item))
            if unknown:
                raise _not_a_choice(spec, unknown[0])
            codes.extend(code for code in found if code not in codes)
        return codes or None
    if t == PHONE:
        if not isinstance(raw, (str, int)):
            raise _bad_phone()
        text = str(raw)
        if not N.is_phone(text):
            raise _bad_phone()
        return N.phone_digits(text)
    if t in (GRID, REF):
        if not isinstance(raw, str):
            raise InvalidValue("应为编码", "must be a code")
        return N.halfwidth(raw)
    raise AssertionError(f"unknown field type {t}")


def _bad_phone() -> InvalidValue:
    return InvalidValue("应为 11 位手机号(如 13800001234)或带区号的座机号(如 021-64881234)",
                        "must be an 11-digit mobile number (e.g. 13800001234) or a landline "
                        "with its area code (e.g. 021-64881234)")


def _not_a_choice(spec: FieldSpec, word: str) -> InvalidValue:
    """Names the choices when they are few enough to read in one line (资金来源=彩票 said
    only "not one of the choices"); a long list (functions) names none."""
    choices = list(spec.choices or [])
    if not choices or len(choices) > 8:
        return InvalidValue(f"不是可选值: {word}", f"not one of the choices: {word}")
    zh = "、".join(c.label("zh") for c in choices)
    en = ", ".join(c.label("en") for c in choices)
    return InvalidValue(f"不是可选值: {word}(可选 {zh})",
                        f"not one of the choices: {word} (one of {en})")


def _bad_date(text: str) -> InvalidValue:
    """Why a date was refused: a format we do not read, or a day that does not exist."""
    parts = N.date_parts(text)
    if parts is None:
        return InvalidValue("日期应写作 2024-03-05、2024/3/5 或 2024年3月5日",
                            "a date is written like 2024-03-05, 2024/3/5 or 2024年3月5日")
    year, month, day = parts
    if not 1 <= month <= 12:
        return InvalidValue(f"没有 {month} 月: 月份应为 1–12", f"there is no month {month}: "
                            "months are 1–12")
    import calendar

    days = calendar.monthrange(year, month)[1]
    return InvalidValue(f"{year}年{month}月只有 {days} 天,没有 {day} 日",
                        f"{year}-{month:02d} has {days} days, there is no day {day}")


def coerce_record(kind: str, raw: dict) -> tuple[dict, list[FieldError]]:
    """Coerce every known field of `raw`; unknown field names are errors, not silently kept."""
    specs = FIELD_INDEX[kind]
    data: dict = {}
    errors: list[FieldError] = []
    for name, value in raw.items():
        spec = specs.get(name)
        if spec is None:
            errors.append(FieldError(name, f"未知字段 {name}", f"unknown field {name}"))
            continue
        try:
            data[name] = coerce(spec, value)
        except InvalidValue as exc:
            errors.append(FieldError(name, f"{spec.zh}: {exc.zh}", f"{spec.en}: {exc.en}"))
    return data, errors


def _check_value(spec: FieldSpec, value: Any) -> tuple[str, str] | None:
    """A reason the (already coerced) value breaks its spec's limits, or None."""
    if spec.type in (TEXT, LONGTEXT):
        limit = spec.max_len or DEFAULT_MAX_LEN
        if len(value) > limit:
            return f"不能超过 {limit} 个字", f"at most {limit} characters"
    if spec.type in (INT, FLOAT):
        if spec.min is not None and value < spec.min or spec.max is not None and value > spec.max:
            unit = spec.unit
            return (f"应在 {spec.min:g}{unit} 到 {spec.max:g}{unit} 之间",
                    f"must be between {spec.min:g} and {spec.max:g}{unit}")
    if spec.type == DATE:
        if date.fromisoformat(value) > date.today() + timedelta(days=1):
            return "日期不能在将来", "date cannot be in the future"
        if date.fromisoformat(value) < date(1949, 1, 1):
            return "日期太早", "date is too early"
    if spec.type == REF and not _UUID_RE.match(value):
        return "编号格式不对", "id is not a valid record id"
    if spec.type == GRID and len(value) > 40:
        return "网格编码太长", "grid code is too long"
    return None


def validate(
    kind: str,
    data: dict,
    status: str = "draft",
    grid_exists: Callable[[str], bool] | None = None,
) -> list[FieldError]:
    """Everything wrong with a record's content for `status`; empty when it may be saved.

    `data` holds coerced values. `grid_exists` checks grid codes against reference data
    (the caller's area table); without it, grid codes are only checked for form.
    """
    errors: list[FieldError] = []
    strict = status != "draft"
    for spec in SPECS[kind]:
        value = data.get(spec.name)
        if _is_empty(value):
            if strict and spec.required:
                errors.append(FieldError(spec.name, f"{spec.zh}: 提交前必须填写",
                                         f"{spec.en}: required before submitting"))
            continue
        reason = _check_value(spec, value)
        if reason:
            errors.append(FieldError(spec.name, f"{spec.zh}: {reason[0]}",
                                     f"{spec.en}: {reason[1]}"))
        elif spec.type == GRID and grid_exists is not None and not grid_exists(value):
            errors.append(FieldError(spec.name, f"{spec.zh}: 网格 {value} 不存在",
                                     f"{spec.en}: grid {value} does not exist"))
    errors.extend(_cross_field(kind, data))
    return errors


def _cross_field(kind: str, data: dict) -> list[FieldError]:
    errors = []
    has_lat, has_lng = data.get("lat") is not None, data.get("lng") is not None
    if has_lat != has_lng:
        errors.append(FieldError("lng" if has_lat else "lat", "经纬度需同时填写",
                                 "latitude and longitude go together"))
    if kind == "site":
        low, high = data.get("floor_from"), data.get("floor_to")
        if low is not None and high is not None and high < low:
            errors.append(FieldError("floor_to", "至楼层不能低于所在楼层",
                                     "to floor cannot be below the floor"))
        if low == 0 or high == 0:
            errors.append(FieldError("floor_from" if low == 0 else "floor_to",
                                     "没有第 0 层: 地下一层填 -1",
                                     "there is no floor 0: basement 1 is -1"))
        errors.extend(FieldError(*problem) for problem in ready_problems(data))
        errors.extend(FieldError(*problem) for problem in stage_problems(data))
    return errors


COMMENT = "review_comment"
COMMENT_MAX = 2000


def coerce_comment(raw: Any) -> str | None:
    """A review comment as stored (the text rule, trimmed; None when empty), or InvalidValue.

    The laptop's review actions and the registry's push both use it, so a comment one side
    keeps is a comment the other side accepts."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise InvalidValue("审核意见: 应为文字", "Review comment: must be text")
    try:
        text = safe_text.clean(raw, multiline=True).strip()
    except safe_text.UnsafeText as exc:
        raise InvalidValue(f"审核意见: {exc.zh}", f"Review comment: {exc.en}") from None
    if len(text) > COMMENT_MAX:
        raise InvalidValue(f"审核意见: 不能超过 {COMMENT_MAX} 个字",
                           f"Review comment: at most {COMMENT_MAX} characters")
    return text or None


def forbidden_fields(kind: str, changed: Iterable[str], role: str) -> list[FieldError]:
    """Errors for changed fields that `role` may not change (joint review and the review
    comment: supervisors and admins only)."""
    specs = FIELD_INDEX[kind]
    errors = []
    for name in changed:
        if name == COMMENT and role not in REVIEW_ROLES:
            errors.append(FieldError(COMMENT, "审核意见: 只有主管可以填写或修改",
                                     "Review comment: only a supervisor may write or change it"))
            continue
        spec = specs.get(name)
        if spec is not None and spec.roles and role not in spec.roles:
            errors.append(FieldError(name, f"{spec.zh}: 只有主管可以填写",
                                     f"{spec.en}: only a supervisor may change this"))
    return errors


def check_record(
    kind: str, raw: dict, status: str = "draft", grid_exists: Callable[[str], bool] | None = None
) -> tuple[dict, list[FieldError]]:
    """Coerce then validate: the clean record and every error found."""
    data, errors = coerce_record(kind, raw)
    bad = {e.field for e in errors}
    errors.extend(e for e in validate(kind, data, status, grid_exists) if e.field not in bad)
    return data, errors
