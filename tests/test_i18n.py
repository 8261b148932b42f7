"""The bilingual message type and catalogue (fieldapp/i18n.py), and the habit it enforces: the
UI says things through it, never through `if lang == "zh"` branches."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fieldapp.domain.workflow import TransitionError, check_transition
from fieldapp.i18n import CATALOGUE, BilingualError, Msg, as_msg, msg, t, words
from fieldapp.store.db import StoreError, explain

ROOT = Path(__file__).resolve().parents[1]


def test_msg_speaks_both_languages_and_fills_placeholders():
    m = Msg("{n} 条记录", "{n} records")
    assert m("zh", n=3) == "3 条记录"
    assert m("en", n=3) == "3 records"
    assert m.text("fr", n=1) == "1 条记录"  # an unknown language falls back to Chinese
    assert m.both(n=2) == "2 条记录 / 2 records"
    assert m.fill(n=5) == Msg("5 条记录", "5 records")
    assert Msg("同", "同").both() == "同"
    assert (Msg("已保存", "Saved") + Msg(":", ": ") + "A1")("en") == "Saved: A1"
    zh, en = m  # a Msg reads like the (zh, en) pairs older tables hold
    assert (zh, en) == ("{n} 条记录", "{n} records")
    assert as_msg(("是", "Yes")) == Msg("是", "Yes")


def test_words_register_in_the_catalogue_and_refuse_a_second_meaning():
    group = words(test_i18n_hello=("你好", "Hello"))
    assert group.test_i18n_hello("en") == "Hello"
    assert group["test_i18n_hello"] is msg("test_i18n_hello")
    assert t("test_i18n_hello", "zh") == "你好"
    words(test_i18n_hello=("你好", "Hello"))  # the same words again are fine
    with pytest.raises(ValueError, match="registered twice"):
        words(test_i18n_hello=("您好", "Hello"))
    with pytest.raises(KeyError, match="no message"):
        t("test_i18n_never_registered")


def test_ui_words_are_in_the_one_catalogue():
    from fieldapp.ui.i18n import W

    for key in W:
        assert CATALOGUE[key] is W[key]
        zh, en = W[key]
        assert zh.strip() and en.strip(), key
        # Both sides take the same placeholders, so neither language can miss a value.
        assert set(re.findall(r"{(\w+)", zh)) == set(re.findall(r"{(\w+)", en)), key


def test_errors_carry_both_languages():
    with pytest.raises(TransitionError) as info:
        check_transition("submitted", "approved", "worker")
    exc = info.value
    assert isinstance(exc, BilingualError) and isinstance(exc, ValueError)
    assert exc.message("zh") == "只有主管可以审核通过"
    assert exc.message("en") == "only a supervisor may approve"
    assert str(exc) == "只有主管可以审核通过 / only a supervisor may approve"
    # Status names as people say them, not the stored codes.
    with pytest.raises(TransitionError, match="草稿"):
        check_transition("draft", "approved", "supervisor")

    full = StoreError(explain(OSError("database or disk is full")))
    assert full.message("en") == "the disk is full, nothing was saved"
    assert "磁盘已满" in str(full) and "disk is full" in str(full)
    detailed = BilingualError("无法读取", "cannot read", detail="errno 5")
    assert detailed.message("en") == "cannot read (errno 5)"


def test_the_ui_never_branches_on_the_language():
    """Words come from the catalogue; a `lang == "zh"` branch is a second table in disguise."""
    branch = re.compile(r"""lang\s*==\s*["'](zh|en)["']|["'](zh|en)["']\s*==\s*\w*lang""")
    offenders = []
    for path in sorted((ROOT / "fieldapp" / "ui").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if branch.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
