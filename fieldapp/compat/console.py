"""stdout and stderr that never fail on a character the console cannot show.

A Chinese Windows console redirected to a file (or `PYTHONIOENCODING=gbk`) encodes output as
GBK, which has no ✓, ✗ or ²: Python would stop the command with UnicodeEncodeError. The
encoding stays what the system or the user chose (other programs read that file with it);
only characters it lacks are replaced by a readable look-alike (✓ → √ → v, ² → 2), or `?`.
A real Windows console gets UTF-8 anyway: Python writes Unicode to it directly.
"""

from __future__ import annotations

import codecs
import sys
import unicodedata

ERRORS = "fieldapp-readable"

#: Look-alikes tried in order; the first the target encoding has wins.
LOOK_ALIKES = {
    "✓": ("√", "v"), "✔": ("√", "v"), "✗": ("×", "x"), "✘": ("×", "x"),
    "×": ("x",), "√": ("v",), "·": (".",), "•": ("·", "*"), "…": ("...",),
    "—": ("-",), "–": ("-",), "→": ("->",), "←": ("<-",), "↑": ("^",), "↓": ("v",),
    "“": ('"',), "”": ('"',), "‘": ("'",), "’": ("'",), "㎡": ("m2",), "°": (" deg",),
    "★": ("*",), "☆": ("*",), "●": ("*",), "○": ("o",), "■": ("#",), "□": ("[]",),
    "─": ("-",), "│": ("|",), "━": ("-",), "┃": ("|",), "═": ("=",), "║": ("|",),
}


def readable(char: str, encoding: str) -> str:
    """The best stand-in for one character that `encoding` lacks."""
    candidates = list(LOOK_ALIKES.get(char, ()))
    folded = unicodedata.normalize("NFKC", char)  # ² → 2, full-width Ａ → A, ㎡ → m2
    if folded != char:
        candidates.append(folded)
    for candidate in candidates:
        try:
            candidate.encode(encoding)
        except UnicodeEncodeError:
            continue
        return candidate
    return "?"


def _handler(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start:exc.end]
    return "".join(readable(ch, exc.encoding) for ch in text), exc.end


codecs.register_error(ERRORS, _handler)


def make_safe(*streams) -> None:  # noqa: ANN002
    """Give each text stream the readable fallback (default: sys.stdout and sys.stderr)."""
    for stream in streams or (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("_", "-")
        if reconfigure is None or encoding in ("utf-8", "utf8", "utf-16", "utf-32"):
            continue
        try:
            reconfigure(errors=ERRORS)
        except (ValueError, OSError):  # a closed or detached stream: nothing to print to
            pass
