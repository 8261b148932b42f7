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


_CN_NUMERALS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
_FLOOR_RE = re.compile(r"^(地下|负|-|B|b)?(?:F|f)?([0-9]+|[零〇一二两三四五六七八九十]+)"
                       r"(?:楼|层|F|f)?$")


def chinese_number(text: str) -> int | None:
    """`三` → 3, `十二` → 12, `二十` → 20, `二十三` → 23 (0–99); None otherwise."""
    if not text or any(c not in _CN_NUMERALS and c != "十" for c in text):
        return None
    if "十" not in text:
        return _CN_NUMERALS[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    return (_CN_NUMERALS[tens] if tens else 1) * 10 + (_CN_NUMERALS[ones] if ones else 0)


def parse_floor(text: str) -> int | None:
    """A floor as people write it: `3`, `3楼`, `3层`, `一楼`, `十二层`, `3F`; a basement as
    `-1`, `B1`, `负一楼`, `地下一层` → -1. None when it is not one floor."""
    text = halfwidth(str(text)).replace(" ", "")
    match = _FLOOR_RE.match(text)
    if not match:
        return None
    below, number = match.groups()
    value = int(number) if number.isdigit() else chinese_number(number)
    if value is None:
        return None
    return -value if below else value


def date_parts(text: str) -> tuple[int, int, int] | None:
    """(year, month, day) of something written like a date, whether or not it exists."""
    text = halfwidth(str(text)).replace(" ", "")
    text = re.sub(r"[T ]00:00(:00)?$", "", text)
    for pattern in _DATE_RES:
        match = pattern.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return year, month, day
    return None


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
