"""The one rule for text that people type or machines send, on the laptop and the registry.

Every text value — record fields, review comments, attachment names and captions, device
names, user and area names — passes `clean` before it is stored:
- bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069, and the marks U+200E,
  U+200F, U+061C) are **refused**: they make text display differently from what it says
  ("Trojan Source"), so a comment or an address could show words nobody wrote;
- other control and format characters (C0 and C1 controls such as NUL and ESC, zero-width
  and other invisible format characters, lone surrogates, non-characters) are **stripped**:
  they come from copy-paste and old spreadsheets, mean nothing to a reader, and PostgreSQL
  refuses NUL outright. Tab and line breaks stay where the field is multi-line.
Private-use characters stay: older systems map rare characters of names (生僻字) there.
"""

from __future__ import annotations

import re
import unicodedata

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                          "\u200e\u200f\u061c")
_STRIPPED_CATEGORIES = ("Cc", "Cf", "Cs")
# CR LF, CR, and the Unicode line and paragraph separators are all one line break.
_BREAKS = re.compile("\r\n|[\r\u2028\u2029]")


class UnsafeText(ValueError):
    """Text holding a character the rule refuses; carries a bilingual reason."""

    def __init__(self, char: str) -> None:
        self.char = char
        name = unicodedata.name(char, f"U+{ord(char):04X}")
        self.zh = f"含有改变文字显示方向的隐藏字符 (U+{ord(char):04X}),请删除后重新输入"
        self.en = (f"contains a hidden character that changes how text is displayed "
                   f"(U+{ord(char):04X} {name}): remove it and type the text again")
        super().__init__(self.en)


def _noncharacter(ch: str) -> bool:
    code = ord(ch)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def check(text: str) -> None:
    """Raise UnsafeText if `text` holds a character the rule refuses."""
    if text.isprintable():  # fast path: no control or format character at all
        return
    for ch in text:
        if ch in BIDI_CONTROLS:
            raise UnsafeText(ch)


def clean(text: str, *, multiline: bool = False) -> str:
    """`text` with stripped characters removed; UnsafeText if it holds a refused one.

    Line breaks (\\r\\n and \\r become \\n) and tabs are kept when `multiline`, else a line
    break becomes a space. Nothing else changes: trimming and width folding are the caller's.
    """
    if text.isprintable():  # non-characters are unassigned, so never printable
        return text
    check(text)
    text = _BREAKS.sub("\n", text)
    if not multiline:
        text = text.replace("\n", " ")
    keep = "\n\t" if multiline else "\t"
    out = "".join(ch for ch in text if ch in keep or not (
        unicodedata.category(ch) in _STRIPPED_CATEGORIES or _noncharacter(ch)))
    return out if multiline else out.replace("\t", " ")


def is_clean(text: str, *, multiline: bool = False) -> bool:
    """True when `clean` would return `text` unchanged (nothing to strip, nothing refused).

    The registry accepts only such text in the envelope of a request (device names,
    attachment names and captions): the laptop has already applied the rule."""
    if text.isprintable():
        return True
    try:
        return clean(text, multiline=multiline) == text
    except UnsafeText:
        return False


def scrub(text: str) -> str:
    """Text nobody typed (a file name, a host name): refused characters are dropped too."""
    return clean("".join(ch for ch in text if ch not in BIDI_CONTROLS))


_SPACES = re.compile(r"[ \t]+")


def clean_line(text: str) -> str:
    """One line of text: the rule, then runs of white space folded and the ends trimmed."""
    return _SPACES.sub(" ", clean(text)).strip()
