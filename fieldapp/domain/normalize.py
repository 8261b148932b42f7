"""Turning what people type (in forms and spreadsheets) into clean values.

Only unambiguous rewrites happen here: full-width to half-width, `120㎡` to 120, `2024年3月5日`
to 2024-03-05. Anything else is left for validation to reject with a reason.
"""

from __future__ import annotations

import re
from datetime import date

from fieldapp.domain import safe_text

_FULLWIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20  # ideographic space


_HAS_FULLWIDTH = re.compile("[\uff01-\uff5e\u3000]")


def halfwidth(text: str) -> str:
    """Full-width ASCII (１２３ＡＢＣ，) to half-width, and trim."""
    # translate() looks every character up in a dict: only for text that needs it (imports
    # and pulls call this for every cell and every searchable text).
    if _HAS_FULLWIDTH.search(text):
        text = text.translate(_FULLWIDTH)
    return text.strip()


def clean_text(text: str) -> str:
    """Half-width, the text rule of `safe_text` (controls stripped, bidi overrides refused:
    raises safe_text.UnsafeText), inner runs of white space folded to one space."""
    text = safe_text.clean(halfwidth(text), multiline=True)
    return re.sub(r"[ \t]+", " ", text).strip()


_AREA_RE = re.compile(
    r"^(?:约|大约|近|about\s*)?\s*(-?[0-9][0-9,]*(?:\.[0-9]+)?)\s*"
    r"(?:㎡|m2|m²|平方米|平米|平方|平|sqm)?$",
    re.IGNORECASE,
)


def parse_number(text: str) -> float | None:
    """`120㎡`, `约80平方米`, `1,200` → number; None when it is not clearly one number."""
    text = halfwidth(str(text)).replace(" ", "")
    match = _AREA_RE.match(text)
    if not match:
        return None
    digits = match.group(1)
    # A leading minus is allowed for floors (basement 1 is -1); limits reject it elsewhere.
    if "," in digits and not re.fullmatch(r"-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?", digits):
        return None  # "1,2" is ambiguous (decimal comma?), so refuse it
    return float(digits.replace(",", ""))


_DATE_RES = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(text: str) -> date | None:
    """`2024/3/5`, `2024-03-05`, `2024年3月5日`, `20240305` → date; None otherwise."""
    text = halfwidth(str(text)).replace(" ", "")
    text = re.sub(r"[T ]00:00(:00)?$", "", text)
    for pattern in _DATE_RES:
        match = pattern.match(text)
        if match:
            try:
                return date(*(int(g) for g in match.groups()))
            except ValueError:
                return None
    return None


def phone_digits(text: str) -> str:
    """The digits of a phone number, without +86, spaces or dashes."""
    text = halfwidth(text)
    text = re.sub(r"[\s\-()（）]", "", text)
    if text.startswith("+86"):
        text = text[3:]
    return text


_PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}\d{7,8}|[2-9]\d{7}|400\d{7})$")


def is_phone(text: str) -> bool:
    """Mainland mobile, landline with area code, Shanghai 8-digit local, or a 400 number."""
    return bool(_PHONE_RE.match(phone_digits(text)))


_TRUE = {"1", "true", "yes", "y", "是", "有", "√", "✓", "临街"}
_FALSE = {"0", "false", "no", "n", "否", "无", "×", "不临街"}


def parse_bool(text: str) -> bool | None:
    value = halfwidth(str(text)).lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None


_CN_DIGITS = str.maketrans("〇一二三四五六七八九", "0123456789")


def normalise_address(address: str) -> str:
    """A key for comparing addresses: half-width, no spaces or punctuation, unified 号/弄/室.

    Used to spot possible duplicates and as the import key; never shown to users.
    """
    text = halfwidth(address).lower()
    text = text.replace("上海市", "").replace("上海", "")
    text = re.sub(r"\s+", "", text)
    text = text.replace("號", "号").replace("衖", "弄").replace("-", "号")
    text = re.sub(r"(\d+)(?:室|房)$", r"\1", text)  # "302室" and "302" are the same unit
    text = re.sub(r"[,，。.、#()（）]", "", text)
    return text
