"""The command line speaks Chinese by default and English with --lang en, FIELDAPP_LANG=en or an
English locale; refusals stay bilingual either way."""

from __future__ import annotations

import pytest

from fieldapp.cli import build_parser, lang, main

LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE", "FIELDAPP_LANG")


@pytest.fixture
def no_locale(monkeypatch):
    for name in LOCALE_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def help_of(capsys, *args) -> str:
    assert main([*args, "--help"]) == 0
    return capsys.readouterr().out


def test_help_is_chinese_by_default_and_english_on_request(no_locale, capsys):
    text = help_of(capsys)
    assert text.startswith("用法: fieldapp") and "选项:" in text
    assert "列出记录" in text and "导入 Excel/CSV 台账" in text and "显示帮助并退出" in text
    english = help_of(capsys, "--lang", "en")
    assert english.startswith("usage: fieldapp") and "print matching records" in english
    assert "列出记录" not in english
    no_locale.setenv("FIELDAPP_LANG", "en")
    assert help_of(capsys).startswith("usage:")
    no_locale.delenv("FIELDAPP_LANG")
    no_locale.setenv("LANG", "en_US.UTF-8")
    assert help_of(capsys).startswith("usage:")
    assert help_of(capsys, "--lang", "zh").startswith("用法:")  # the flag wins
    no_locale.setenv("LANG", "zh_CN.UTF-8")
    assert help_of(capsys).startswith("用法:")


def test_every_command_explains_itself_in_both_languages(no_locale, capsys):
    """Each command's own --help opens with what it does, in the chosen language."""
    for name in ("list", "import", "export", "review", "coverage", "new", "show", "sync"):
        zh = help_of(capsys, name)
        en = help_of(capsys, "--lang", "en", name)
        assert zh.startswith("用法:") and en.startswith("usage:"), name
        description_zh = zh.split("\n\n")[1]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in description_zh), (name, description_zh)
        assert zh != en


def test_refusals_are_bilingual_in_chinese_mode(no_locale, capsys):
    assert main(["geo", "sideways", "1", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fieldapp: 参数 direction: 无效的选项 / invalid choice: 'sideways'")
    assert err.count("\n") == 1 and "(帮助: fieldapp geo --help)" in err
    assert main(["--lang", "en", "geo", "sideways", "1", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fieldapp: argument direction: invalid choice: 'sideways'")
    assert "(see fieldapp geo --help)" in err
    assert main(["list", "parks"]) == 2
    assert "record kind must be sites, facilities or inspections" in capsys.readouterr().err
    assert main(["review", "approve"]) == 2
    assert "缺少必需的参数 / the following arguments are required: ID" in capsys.readouterr().err


def test_detect_reads_the_flag_before_the_environment(no_locale):
    assert lang.detect(["list", "--lang", "en"]) == "en"
    assert lang.detect(["--lang=en"]) == "en"
    assert lang.detect(["--", "--lang", "en"]) == "zh"
    no_locale.setenv("LC_ALL", "en_GB.UTF-8")
    assert lang.detect([]) == "en"
    no_locale.setenv("LC_ALL", "C.UTF-8")  # a server's neutral locale is not English
    assert lang.detect([]) == "zh"


def test_parser_builds_in_either_language():
    for code in ("zh", "en"):
        lang.use(code)
        lang.localise_argparse()
        assert build_parser().format_help()
    lang.use("zh")
    lang.localise_argparse()


def test_readme_command_table_names_every_command_with_a_chinese_example():
    from pathlib import Path

    from tests.test_cli_contract import leaf_commands

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `fieldapp")]
    table = "\n".join(rows).replace("\\|", "|")
    for command in leaf_commands():
        words = command.split()
        # "admin add-user" may be listed as "admin add-user|list-users|…"
        assert any(words[0] in row and all(w in row for w in words) for row in
                   table.splitlines()), f"README's command table lacks {command!r}"
    for row in rows:
        example = row.rstrip(" |").rsplit(" | ", 1)[1]
        assert example.startswith("`fieldapp"), row
        assert any("\u4e00" <= ch <= "\u9fff" for ch in example), row
