"""Validation of record content: good and bad input, in both languages."""

from datetime import date, timedelta

import pytest

from fieldapp.domain.normalize import normalise_address, parse_date, parse_number
from fieldapp.domain.records import FIELD_INDEX
from fieldapp.domain.validation import InvalidValue, check_record, coerce
from tests.conftest import GRID, complete_site


def fields_in(errors):
    return {e.field for e in errors}


def test_complete_site_is_valid_for_submit():
    data, errors = check_record("site", complete_site(), "submitted", lambda g: g == GRID)
    assert errors == []
    assert data["usable_area"] == 120.0
    assert data["candidate_functions"] == ["elderly", "meal"]


def test_draft_may_be_incomplete_but_submit_may_not():
    draft = {"grid_code": GRID, "address": "天平路1号"}
    assert check_record("site", draft, "draft")[1] == []
    errors = check_record("site", draft, "submitted")[1]
    assert {"source_type", "usable_area", "owner_name", "candidate_functions"} <= fields_in(errors)
    message = next(e for e in errors if e.field == "owner_name")
    assert "提交前必须填写" in message.zh and "required" in message.en


@pytest.mark.parametrize("field,value", [
    ("usable_area", 0), ("usable_area", 1_000_000), ("usable_area", "大约一百"),
    ("floor_from", 99), ("floor_from", 1.5), ("owner_phone", "12345"),
    ("lat", 39.9), ("source_type", "castle"), ("candidate_functions", ["elderly", "spa"]),
    ("idle_since", "2024-13-40"), ("address", "路" * 201),
    ("idle_since", (date.today() + timedelta(days=30)).isoformat()),
])
def test_bad_values_are_rejected_with_a_reason(field, value):
    raw = complete_site(**{field: value})
    if field == "lat":
        raw["lng"] = 121.4
    errors = check_record("site", raw, "submitted")[1]
    assert field in fields_in(errors), errors
    assert all(e.zh and e.en for e in errors)


def test_unknown_grid_and_unknown_field():
    errors = check_record("site", complete_site(grid_code="999", colour="red"), "draft",
                          lambda g: g == GRID)[1]
    assert fields_in(errors) == {"grid_code", "colour"}


def test_cross_field_rules():
    errors = check_record("site", complete_site(floor_from=3, floor_to=2, lat=31.2), "draft")[1]
    assert {"floor_to", "lng"} <= fields_in(errors)
    assert "floor_from" in fields_in(check_record("site", complete_site(floor_from=0), "draft")[1])


def test_messy_input_is_normalised():
    assert parse_number("１２０㎡") == 120
    assert parse_number("约80平方米") == 80
    assert parse_number("1,200") == 1200
    assert parse_number("1,2") is None
    assert parse_date("2024年3月5日") == date(2024, 3, 5)
    assert parse_date("2024/3/5") == date(2024, 3, 5)
    phone = FIELD_INDEX["site"]["owner_phone"]
    assert coerce(phone, "+86 138-1234-5678") == "13812345678"
    assert coerce(phone, "021-64871234") == "02164871234"
    with pytest.raises(InvalidValue):
        coerce(phone, "1381234")
    functions = FIELD_INDEX["site"]["candidate_functions"]
    assert coerce(functions, "养老服务、社区助餐") == ["elderly", "meal"]
    text = FIELD_INDEX["site"]["address"]
    assert coerce(text, "  天平路\x00１号  ") == "天平路1号"


def test_address_key_unifies_common_forms():
    assert normalise_address("上海市天平路１２号") == normalise_address("天平路 12 號")
    assert normalise_address("天平路12弄3号302室") == normalise_address("天平路12弄3号302")
    assert normalise_address("天平路12号") != normalise_address("天平路13号")


def test_floors_as_people_write_them():
    from fieldapp.domain.records import FIELD_INDEX
    from fieldapp.domain.validation import InvalidValue, coerce

    floor = FIELD_INDEX["site"]["floor_from"]
    for text, value in [("1楼", 1), ("一楼", 1), ("3层", 3), ("十二层", 12), ("二十三楼", 23),
                        ("3F", 3), ("３楼", 3), ("B1", -1), ("负一楼", -1), ("地下一层", -1),
                        ("-2", -2), (4, 4)]:
        assert coerce(floor, text) == value, text
    with pytest.raises(InvalidValue) as info:
        coerce(floor, "楼上")
    assert "一楼" in info.value.zh and "B1" in info.value.en  # says what it takes


def test_dates_and_phones_say_what_is_expected():
    from fieldapp.domain.records import FIELD_INDEX
    from fieldapp.domain.validation import InvalidValue, coerce

    when = next(s for s in FIELD_INDEX["site"].values() if s.type == "date")
    with pytest.raises(InvalidValue) as info:
        coerce(when, "2024年13月5日")
    assert "没有 13 月" in info.value.zh and "months are 1–12" in info.value.en
    with pytest.raises(InvalidValue) as info:
        coerce(when, "2023-02-29")
    assert "2023年2月只有 28 天" in info.value.zh
    with pytest.raises(InvalidValue) as info:
        coerce(when, "三月五号")
    assert "2024年3月5日" in info.value.zh  # the forms it does read
    phone = next(s for s in FIELD_INDEX["site"].values() if s.type == "phone")
    with pytest.raises(InvalidValue) as info:
        coerce(phone, "12345")
    assert "11 位手机号" in info.value.zh and "area code" in info.value.en
