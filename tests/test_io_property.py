"""Property tests: the importer's cell normalisation never crashes, and a row with arbitrary text
is either saved with clean values or rejected with a per-row, per-column reason."""

from __future__ import annotations

import csv

from conftest import GRID, examples
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldapp.domain.records import FIELD_INDEX, SPECS
from fieldapp.domain.validation import coerce
from fieldapp.io import import_file
from fieldapp.io.importer import normalise_cell
from fieldapp.store.records import Query

SITE_SPECS = SPECS["site"] + SPECS["facility"]

# Text like spreadsheets hold: digits in both widths, units, date words, punctuation, CJK.
messy_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789０１２３,，.。约年月日㎡平方米-/ 　\t", max_size=20),
    st.sampled_from(["120㎡", "约80平方米", "1,200", "2024/3/5", "2024年3月5日", "是", "否",
                     "闲置门面房", "已同意", "养老服务、社区助餐", "１３８１２３４５６７８", "1,2",
                     "2024-02-30", "-1", "0", "nan", "inf", "1e999", "\x00", "  "]),
)


@given(spec=st.sampled_from(SITE_SPECS), text=messy_text)
@settings(max_examples=examples(600), deadline=None)
def test_normalise_cell_gives_a_clean_value_or_a_reason(spec, text):
    value, problem = normalise_cell(spec, text)
    if problem is None:
        if value is not None:
            # A clean value is a fixed point: the form would store it exactly as it is.
            assert coerce(spec, value) == value
    else:
        assert value is None
        zh, en = problem
        assert zh.startswith(spec.zh) and en.startswith(spec.en)


AREA = FIELD_INDEX["site"]["usable_area"].zh
IDLE = FIELD_INDEX["site"]["idle_since"].zh
CONSENT = FIELD_INDEX["site"]["owner_consent"].zh


@given(area=messy_text, idle=messy_text, consent=messy_text)
@settings(max_examples=examples(30), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_row_of_arbitrary_text_is_saved_clean_or_rejected_with_reasons(
        store, tmp_path, area, idle, consent):
    path = tmp_path / "row.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["网格", "地址", AREA, IDLE, CONSENT],
                                      [GRID, "天平路1号", area, idle, consent]])
    before = store.count(Query(kind="site"))
    report = import_file(store, path, "site")
    assert report.rows == 1
    if report.rejected:
        assert report.errors and all(e.row == 2 for e in report.errors)
        assert all(e.column in ("", AREA, IDLE, CONSENT) for e in report.errors)
        assert all(e.zh and e.en for e in report.errors)
    else:
        record = store.find_by_address("site", "天平路1号", grid_code=GRID)[0]
        assert store.count(Query(kind="site")) in (before, before + 1)
        for name in ("usable_area", "idle_since", "owner_consent"):
            value = record.data.get(name)
            assert value is None or coerce(FIELD_INDEX["site"][name], value) == value
