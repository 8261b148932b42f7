"""Turning stored values into text for the screen, and back into form input.

Widths are terminal cells (`rich.cells.cell_len`), not characters: a Chinese character takes
two cells, so cutting by `len()` would make CJK columns ragged.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len

from fieldapp import localtime
from fieldapp.domain.choices import STATUS
from fieldapp.domain.records import BOOL, CHOICE, FLOAT, GRID, INT, MULTI, FieldSpec
from fieldapp.ui.i18n import W

ELLIPSIS = "…"


def fit(text: str, width: int) -> str:
    """`text` cut to at most `width` cells, ending with an ellipsis when cut."""
    text = " ".join(str(text).split())  # a newline in a cell would break the row
    if cell_len(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = cell_len(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + ELLIPSIS


def pad(text: str, width: int) -> str:
    """`text` fitted and padded with spaces to exactly `width` cells."""
    text = fit(text, width)
    return text + " " * (width - cell_len(text))


def number(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def display(spec: FieldSpec, value: Any, lang: str = "zh") -> str:
    """A stored value as a person reads it: labels for codes, units for numbers."""
    if value is None or value == "" or value == []:
        return ""
    if spec.type == CHOICE and spec.choices:
        return spec.choices.label(value, lang)
    if spec.type == MULTI and spec.choices:
        return W.list_sep(lang).join(spec.choices.label(v, lang) for v in value)
    if spec.type == BOOL:
        return (W.yes if value else W.no)(lang)
    if spec.type in (INT, FLOAT):
        return number(value) + (spec.unit or "")
    return str(value)


def to_raw(spec: FieldSpec, value: Any) -> Any:
    """A stored value as the form holds it: text for inputs, codes for choices."""
    if value is None:
        return [] if spec.type == MULTI else None
    if spec.type in (CHOICE, GRID, MULTI, BOOL):
        return value
    if spec.type in (INT, FLOAT):
        return number(value)
    return str(value)


def status_label(code: str, lang: str = "zh") -> str:
    return STATUS.label(code, lang)


#: History actions as the laptop (`submitted`) and the registry (`submit`) name them.
_ACTIONS = {"create": "create", "edit": "edit", "update": "edit", "delete": "delete",
            "submit": "submit", "submitted": "submit", "approve": "approve",
            "approved": "approve", "return": "return", "returned": "return",
            "withdraw": "withdraw", "draft": "withdraw", "revise": "revise",
            "revised": "revise"}


def action_label(action: str, lang: str = "zh") -> str:
    """A history entry's action as a person says it ("提交审核", not "submit")."""
    key = _ACTIONS.get(action)
    return W[f"act_{key}"](lang) if key else action


def short_time(iso: str | None) -> str:
    """A stored UTC time in local time: `2025-03-04T09:15:00+00:00` → `2025-03-04 17:15` in
    Shanghai (see fieldapp.localtime for the zone and the zone-named form)."""
    return localtime.show(iso)


def joint_review_line(data: dict, lang: str = "zh") -> str:
    """One line on a site's joint review: the overall verdict and what still blocks
    conversion (fieldapp/domain/joint_review.py), for the queue and the detail screen."""
    from fieldapp.domain import joint_review

    verdict = joint_review.verdict_label(data, lang)
    blocking = joint_review.blockers(data)
    if not blocking:
        return W["jr_line_clear"](lang, verdict=verdict)
    from fieldapp.i18n import Msg

    reasons = Msg(";", "; ")(lang).join(Msg(zh, en)(lang) for _, zh, en in blocking[:3])
    more = len(blocking) - 3
    if more > 0:
        reasons += W["jr_line_more"](lang, n=more)
    return W["jr_line"](lang, verdict=verdict, reasons=reasons)
