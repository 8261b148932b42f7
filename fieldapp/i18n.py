"""Saying things in Chinese and English: one message type (`Msg`), one catalogue, one error base.

Every word a person reads — a screen label, a CLI line, an error — is a `Msg`: the Chinese
and the English side by side where it is written, so neither can be forgotten or drift::

    from fieldapp.i18n import Msg, words

    W = words(                                   # registered once, under these keys
        saved=("已保存", "Saved"),
        rows_n=("{n} 行", "{n} rows"),
    )
    W.saved("en")               # "Saved"
    W.rows_n("zh", n=3)         # "3 行"
    t("rows_n", "zh", n=3)      # the same, by key (tables of key hints use this)
    Msg("磁盘已满", "disk full").both()   # "磁盘已满 / disk full": for logs and CLI errors

Errors raise `BilingualError` (or a subclass) with a `Msg`; `exc.message(lang)` gives one
language, `str(exc)` both. Field labels and choice labels are not here: `FieldSpec.label()`
and `ChoiceSet.label()` own them, so a field is named the same in the form, list and export.
"""

from __future__ import annotations

from typing import NamedTuple

LANGS = ("zh", "en")


def norm_lang(lang: str | None) -> str:
    """A supported language code; anything else means Chinese, the default."""
    return lang if lang in LANGS else "zh"


def other_lang(lang: str) -> str:
    return "en" if lang == "zh" else "zh"


class Msg(NamedTuple):
    """One thing said in Chinese and English; `{name}` placeholders are filled by keyword.

    A tuple, so a `(zh, en)` pair in an older table reads as a Msg and a Msg unpacks as one.
    """

    zh: str
    en: str

    def __call__(self, lang: str = "zh", **values: object) -> str:
        return self.text(lang, **values)

    def text(self, lang: str = "zh", **values: object) -> str:
        text = self.en if lang == "en" else self.zh
        return text.format(**values) if values else text

    def both(self, sep: str = " / ", **values: object) -> str:
        """Chinese then English: for messages a helper on the phone may need to read too."""
        zh, en = self.text("zh", **values), self.text("en", **values)
        return zh if zh == en else f"{zh}{sep}{en}"

    def fill(self, **values: object) -> Msg:
        """The same message with its placeholders filled in, still in both languages."""
        return Msg(self.zh.format(**values), self.en.format(**values))

    def __add__(self, other: object) -> Msg:  # type: ignore[override]
        """Msg + Msg (or + str) joins both sides, e.g. a heading and a detail."""
        if isinstance(other, Msg):
            return Msg(self.zh + other.zh, self.en + other.en)
        if isinstance(other, str):
            return Msg(self.zh + other, self.en + other)
        return NotImplemented


def as_msg(value: Msg | tuple[str, str] | str) -> Msg:
    """A Msg from a Msg, a (zh, en) pair, or one string that reads the same in both."""
    if isinstance(value, Msg):
        return value
    if isinstance(value, str):
        return Msg(value, value)
    zh, en = value
    return Msg(zh, en)


#: Every registered message by key; `words()` adds to it, `t()` reads it.
CATALOGUE: dict[str, Msg] = {}


class Words:
    """A group of messages reachable as attributes (`W.saved`) and by key (`W["saved"]`)."""

    def __init__(self, entries: dict[str, Msg]) -> None:
        self._entries = entries

    def __getattr__(self, key: str) -> Msg:
        try:
            return self._entries[key]
        except KeyError:
            raise AttributeError(key) from None

    def __getitem__(self, key: str) -> Msg:
        return self._entries[key]

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self):
        return iter(self._entries)

    def items(self):
        return self._entries.items()


def words(**entries: Msg | tuple[str, str]) -> Words:
    """Register messages under their keys and return them as a `Words` group.

    A key registered twice must say the same thing both times: two screens calling "保存"
    different things is the drift this catalogue exists to stop.
    """
    group: dict[str, Msg] = {}
    for key, value in entries.items():
        msg = as_msg(value)
        known = CATALOGUE.get(key)
        if known is not None and known != msg:
            raise ValueError(f"message {key!r} registered twice with different text: "
                             f"{known!r} vs {msg!r}")
        CATALOGUE[key] = group[key] = msg
    return Words(group)


def msg(key: str) -> Msg:
    try:
        return CATALOGUE[key]
    except KeyError:
        raise KeyError(f"no message {key!r} in the catalogue (register it with words())") \
            from None


def t(key: str, lang: str = "zh", **values: object) -> str:
    """The registered message `key` in `lang`."""
    return msg(key).text(lang, **values)


class BilingualError(Exception):
    """An error whose reason a user can read in either language.

    `str(exc)` is both languages (for logs and the CLI's one-line errors); `exc.message(lang)`
    one language, plus the technical detail when there is one.
    """

    def __init__(self, reason: Msg | tuple[str, str] | str, en: str | None = None,
                 detail: str = "") -> None:
        self.msg = as_msg((reason, en) if en is not None else reason)
        self.detail = detail
        super().__init__(self.msg.both() + (f" ({detail})" if detail else ""))

    @property
    def zh(self) -> str:
        return self.msg.zh

    @property
    def en(self) -> str:
        return self.msg.en

    def message(self, lang: str = "zh") -> str:
        text = self.msg.text(lang)
        return f"{text} ({self.detail})" if self.detail else text
