"""The one text rule (fieldapp/domain/safe_text.py) on the laptop: the form's save, the
importer, review comments and attachments keep or refuse exactly what the registry does."""

from __future__ import annotations

import csv

import pytest
from conftest import GRID, complete_site
from hypothesis import given
from hypothesis import strategies as st

from fieldapp.domain import safe_text
from fieldapp.domain.validation import coerce_comment
from fieldapp.io import import_file
from fieldapp.store import attachments as att
from fieldapp.store import review
from fieldapp.store.records import RecordStore, ValidationFailed
from tests.attachment_support import png_bytes, write

RLO = "\u202e"


def test_the_rule_strips_controls_and_refuses_bidi_overrides():
    assert safe_text.clean("天平路\x00１号\x1b[0m\x85") == "天平路１号[0m"
    assert safe_text.clean("一\r\n二\u2028三", multiline=True) == "一\n二\n三"
    assert safe_text.clean("第一行\n第二行") == "第一行 第二行"
    assert safe_text.clean("零\u200b宽") == "零宽"  # invisible format characters
    assert safe_text.clean("\ue000生僻字") == "\ue000生僻字"  # private use stays (rare names)
    assert safe_text.clean("\ufdd0x\uffff") == "x"  # non-characters
    for char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c":
        with pytest.raises(safe_text.UnsafeText) as err:
            safe_text.clean(f"请补充{char}电话")
        assert f"U+{ord(char):04X}" in err.value.en and err.value.zh
    assert safe_text.scrub(f"photo{RLO}gpj.exe\n") == "photogpj.exe "
    assert safe_text.is_clean("天平路1号") and not safe_text.is_clean("a\x00")
    assert not safe_text.is_clean("a\nb") and safe_text.is_clean("a\nb", multiline=True)


@given(st.text())
def test_clean_text_is_always_storable_everywhere(text):
    """Whatever comes in, what the rule lets through PostgreSQL and UTF-8 take, and
    cleaning it again changes nothing."""
    try:
        out = safe_text.clean(text, multiline=True)
    except safe_text.UnsafeText:
        assert any(ch in safe_text.BIDI_CONTROLS for ch in text)
        return
    assert "\x00" not in out
    out.encode("utf-8")  # no lone surrogate
    assert safe_text.clean(out, multiline=True) == out and safe_text.is_clean(out, multiline=True)


def test_form_save_strips_controls_and_refuses_bidi(store: RecordStore):
    record = store.save("site", complete_site(address="天平路\x00100号\x07", notes="一\r\n二\x00"))
    assert record.data["address"] == "天平路100号"
    assert record.data["notes"] == "一\n二"
    with pytest.raises(ValidationFailed) as err:
        store.save("site", complete_site(owner_name=f"房管局{RLO}"))
    assert err.value.errors[0].field == "owner_name"
    assert "U+202E" in err.value.errors[0].en
    with pytest.raises(ValidationFailed):
        store.save("site", complete_site(candidate_functions=[f"elderly{RLO}"]))
    assert store.save("site", complete_site(grid_code=f"{GRID}\x00")).grid_code == GRID


def test_import_applies_the_same_rule(store: RecordStore, tmp_path):
    path = tmp_path / "台账.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["网格编码", "详细地址", "类型", "楼层", "面积", "权属性质", "产权人",
                      "权属方意见", "结构安全", "消防安全", "拟用功能"])
        base = ["闲置门面房", "1", "100", "国有", "房管局", "已同意", "良好", "良好", "养老服务"]
        out.writerow([GRID, "天平路\x001号", *base])
        out.writerow([GRID, f"天平路{RLO}2号", *base])
    report = import_file(store, path, errors_path=tmp_path / "errors.csv")
    assert (report.added, report.rejected) == (1, 1), report.errors
    assert store.find_by_address("site", "天平路1号")[0].data["address"] == "天平路1号"
    assert "U+202E" in report.errors[0].en


def test_review_comment_follows_the_rule_on_the_laptop(store: RecordStore):
    record = store.save("site", complete_site(), status="submitted")
    store.role = "supervisor"
    with pytest.raises(ValidationFailed) as err:
        review.send_back(store, record.id, f"请补充{RLO}话电")
    assert err.value.errors[0].field == "review_comment"
    returned = review.send_back(store, record.id, "  请补充\x00电话\x85 ")
    assert returned.review_comment == "请补充电话"
    assert coerce_comment("  ") is None and coerce_comment(None) is None
    with pytest.raises(Exception, match="2000"):
        coerce_comment("长" * 2001)


def test_a_worker_cannot_change_the_review_comment_locally(store: RecordStore):
    """The registry refuses it (test_security_server); the laptop says so at once."""
    record = store.save("site", complete_site(), status="submitted")
    store.role = "supervisor"
    review.send_back(store, record.id, "请补充权属方联系电话")
    store.role = "worker"
    with pytest.raises(ValidationFailed) as err:
        store.save("site", {}, record_id=record.id, comment="主管说可以")
    assert err.value.errors[0].field == "review_comment"
    resubmitted = store.save("site", {"owner_phone": "13800138000"}, record_id=record.id,
                             status="submitted")
    assert resubmitted.review_comment == "请补充权属方联系电话"


def test_attachment_caption_and_file_name_follow_the_rule(store: RecordStore, tmp_path):
    record = store.save("site", complete_site())
    photo = write(tmp_path / f"门面{RLO}gnp.exe\n.png", png_bytes(1))
    with pytest.raises(att.AttachmentError) as err:
        att.attach(store, record.id, photo, caption=f"门面{RLO}", data_dir=tmp_path / "d")
    assert "U+202E" in err.value.en
    kept = att.attach(store, record.id, photo, caption=" 门面\x00正面 ", data_dir=tmp_path / "d")
    assert kept.caption == "门面正面"
    assert kept.name == "门面gnp.exe .png"
    assert safe_text.is_clean(kept.name)
