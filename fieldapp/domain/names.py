"""Names as people write them: a field by its name, its Chinese or English label or an alias
(`备注`, `Notes`, `notes`); a choice by its code or either label (`已提交`, `Submitted`); a
service function also by the plan's own words (养老, 托育, 助餐 …).

Everything that takes a name from a person — CLI filters, `FIELD=VALUE` arguments, conflict
resolution — asks here, so the same words work everywhere. Spreadsheet headers go through
`fieldapp.io.headers`, which matches the same labels and aliases.
"""

from __future__ import annotations

import re

from fieldapp.domain import catalog
from fieldapp.domain.choices import ChoiceSet
from fieldapp.domain.normalize import halfwidth
from fieldapp.domain.records import SPECS, FieldSpec


def name_key(text: str) -> str:
    """Names compare without case, spaces, full-width forms, a required star or a unit."""
    key = re.sub(r"\s+", "", halfwidth(str(text)).lower()).strip("*＊:：")
    return key


def _without_unit(key: str) -> str:
    return re.sub(r"[(（][^()（）]*[)）]$", "", key)


def _field_index(kind: str) -> dict[str, FieldSpec]:
    index: dict[str, FieldSpec] = {}
    # Names and labels first, so an alias never takes a word another field is named by.
    for spec in SPECS[kind]:
        for word in (spec.name, spec.zh, spec.en):
            index.setdefault(name_key(word), spec)
            index.setdefault(_without_unit(name_key(word)), spec)
    for spec in SPECS[kind]:
        for word in spec.aliases:
            index.setdefault(name_key(word), spec)
    return index


_FIELDS = {kind: _field_index(kind) for kind in SPECS}


def resolve_field(kind: str, text: str) -> FieldSpec | None:
    """The field of `kind` that `text` names (name, label in either language, alias)."""
    key = name_key(text)
    if not key:
        return None
    index = _FIELDS[kind]
    return index.get(key) or index.get(_without_unit(key))


def field_hint(kind: str, lang: str = "zh", limit: int = 8) -> str:
    """A few field names for an error message that says what is expected."""
    specs = SPECS[kind][:limit]
    if lang == "zh":
        return "、".join(s.zh for s in specs) + " …"
    return ", ".join(s.name for s in specs) + ", …"


def resolve_choice(choices: ChoiceSet, text: str) -> str | None:
    """A choice's code from its code or a label in either language (any case, full-width)."""
    return choices.parse(halfwidth(str(text)))


def resolve_function(text: str) -> list[str]:
    """The service functions `text` names: a code, a label, or the plan's own words (养老 →
    elderly; 养老托育 → elderly and childcare). The function catalog owns that vocabulary."""
    return catalog.resolve_function(halfwidth(str(text)))
