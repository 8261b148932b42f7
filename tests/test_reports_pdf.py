"""PDF reports checked with the tools a person would use: `pdftotext` finds the Chinese
headings and addresses (so the font is embedded and its text extractable), `pdffonts` shows
the font embedded as a subset, and `pdftoppm` renders every page."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from fieldapp.cli import main
from fieldapp.store.db import transaction
from tests.attachment_support import camera_jpeg, write
from tests.ui_support import open_store

TOOLS = ("pdftotext", "pdftoppm", "pdffonts", "pdfinfo")


@pytest.fixture(autouse=True)
def poppler():
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must have poppler-utils (.ci/run installs it): {missing}")
        pytest.skip(f"poppler-utils not installed: {missing}")


def text_of(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                          check=True).stdout.decode("utf-8")


def pages_of(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True
                          ).stdout.decode("utf-8")
    return int(next(line.split()[-1] for line in info.splitlines()
                    if line.startswith("Pages:")))


def assert_every_page_renders(pdf: Path, tmp_path: Path) -> int:
    out = tmp_path / "render"
    out.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(pdf), str(out / "p")], check=True,
                   capture_output=True)
    rendered = sorted(out.glob("p-*.png"))
    pages = pages_of(pdf)
    assert len(rendered) == pages and all(p.stat().st_size > 200 for p in rendered)
    for p in rendered:
        p.unlink()
    return pages


def assert_font_embedded_subset(pdf: Path) -> None:
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, check=True
                           ).stdout.decode("utf-8").splitlines()[2:]
    assert fonts and all(line.split()[-5:-2] == ["yes", "yes", "yes"] for line in fonts), fonts


def _site_in(store, grid_prefix: str):
    row = store.conn.execute("SELECT id FROM record WHERE kind = 'site' AND deleted = 0 "
                             "AND grid_code LIKE ? ORDER BY rid LIMIT 1",
                             (grid_prefix + "%",)).fetchone()
    return store.get(row[0])


def test_ledger_has_every_section_the_photos_and_chinese_text(demo, tmp_path, capsys):
    store = open_store(demo)
    site = _site_in(store, "310104003")
    photo = write(tmp_path / "IMG_1.JPG", camera_jpeg())
    assert main(["--data-dir", str(demo), "attach", site.id, str(photo), "--caption",
                 "门面正面照片"]) == 0
    inspection = store.conn.execute(
        "SELECT id FROM record WHERE kind = 'inspection' AND deleted = 0 LIMIT 1").fetchone()[0]
    out = tmp_path / "台账.pdf"
    capsys.readouterr()
    assert main(["--data-dir", str(demo), "report", "ledger", site.id[:8], inspection[:8],
                 "-o", str(out)]) == 0
    assert "照片 1 张" in capsys.readouterr().out
    text = text_of(out)
    for heading in ("位置", "空间", "权属与意见", "安全与条件", "联审", "联审结论", "变更记录",
                    "照片", "门面正面照片", "检查项"):
        assert heading in text, heading
    assert site.data["address"] in text and site.data["owner_name"] in text
    assert_font_embedded_subset(out)
    pages = assert_every_page_renders(out, tmp_path)
    assert pages >= 2  # one record per page at least
    assert out.stat().st_size < 2_000_000  # the photo went in downscaled


def test_area_report_counts_map_coverage_gaps_and_lists(demo, tmp_path, capsys):
    store = open_store(demo)
    street = "310104003"
    out = tmp_path / "报告.pdf"
    assert main(["--data-dir", str(demo), "report", "area", street, "-o", str(out),
                 "--function", "elderly"]) == 0
    assert "报告" in capsys.readouterr().out
    text = text_of(out)
    for heading in ("社区嵌入式服务设施报告", "概况", "按审核状态", "存量资源推进阶段",
                    "分布图", "15分钟生活圈覆盖", "服务缺口与最佳候选存量资源", "三张清单",
                    "需求清单", "资源清单", "项目清单", "养老服务"):
        assert heading in text, heading
    site = _site_in(store, street)
    assert site.data["address"] in text
    outside = _site_in(store, "310101")
    assert outside.data["address"] not in text  # another district is not named
    assert_font_embedded_subset(out)
    assert assert_every_page_renders(out, tmp_path) >= 5


def test_reports_keep_to_the_users_scope_and_speak_english(demo, tmp_path, capsys):
    store = open_store(demo)
    with transaction(store.conn):
        store.set_setting("scopes:wangfang", "310104003")
    inside, outside = _site_in(store, "310104003"), _site_in(store, "310101")
    assert main(["--data-dir", str(demo), "report", "ledger", outside.id, "-o",
                 str(tmp_path / "x.pdf")]) == 1
    assert "outside your areas" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()
    assert main(["--data-dir", str(demo), "report", "area", "310101", "-o",
                 str(tmp_path / "y.pdf")]) == 1
    assert "outside your areas" in capsys.readouterr().err
    out = tmp_path / "report.pdf"  # no code: the user's own area
    assert main(["--data-dir", str(demo), "--lang", "en", "report", "area", "-o",
                 str(out)]) == 0
    text = text_of(out)
    assert "1. Overview" in text and "The three lists" in text
    assert inside.data["address"] in text
    assert main(["--data-dir", str(demo), "report", "area", "310104003", "--function",
                 "nosuch", "-o", str(out)]) == 2
    assert "nosuch" in capsys.readouterr().err
    assert main(["--data-dir", str(demo), "report", "area", "天平路街道", "--function", "养老",
                 "-o", str(tmp_path / "by-name.pdf")]) == 0
    assert main(["--data-dir", str(demo), "report", "area", "-o", str(tmp_path / "x.xlsx")]) == 1
    assert ".pdf" in capsys.readouterr().err
