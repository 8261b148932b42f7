"""The TUI's plain parts without a terminal: CJK cell widths, the two languages, form drafts,
the home screen's queries and the duplicate lookups on a real SQLite store."""

from __future__ import annotations

import re

from rich.cells import cell_len

from fieldapp.domain.choices import STATUS
from fieldapp.domain.records import FIELD_INDEX
from fieldapp.store import lookups
from fieldapp.ui import i18n
from fieldapp.ui.format import display, fit, number, pad, to_raw
from tests.conftest import GRID, complete_site


def test_fit_counts_terminal_cells_not_characters():
    address = "上海市徐汇区天平路街道衡山路1234弄56号789室"
    cut = fit(address, 20)
    assert cut.endswith("…") and cell_len(cut) <= 20
    assert cell_len(pad("天平路", 10)) == 10
    assert fit("天平路100号", 20) == "天平路100号"
    assert fit("第一行\n第二行", 20) == "第一行 第二行"  # a newline would break the row


def test_every_ui_string_exists_in_both_languages_with_the_same_placeholders():
    for key in i18n.keys():
        zh, en = i18n.t(key, "zh"), i18n.t(key, "en")
        assert zh and en, key
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key


def test_values_shown_with_labels_units_and_back_to_form_input():
    specs = FIELD_INDEX["site"]
    assert display(specs["source_type"], "storefront", "zh") == "闲置门面房"
    assert display(specs["source_type"], "storefront", "en") == "Idle storefront"
    assert display(specs["usable_area"], 120.0, "zh") == "120㎡"
    assert display(specs["candidate_functions"], ["elderly", "meal"], "zh") == "养老服务、社区助餐"
    assert display(specs["street_frontage"], False, "en") == "No"
    assert to_raw(specs["usable_area"], 120.0) == "120"
    assert to_raw(specs["lat"], 31.205123) == "31.205123"  # no precision lost on a round trip
    assert to_raw(specs["candidate_functions"], None) == []
    assert number(3) == "3" and STATUS.label("returned", "en") == "Returned"


def test_form_draft_round_trip_and_clear(store):
    assert lookups.load_form_draft(store.conn, "site", None) is None
    lookups.save_form_draft(store.conn, "site", None, {"address": "天平路1号"})
    lookups.save_form_draft(store.conn, "site", None, {"address": "天平路2号"})
    kept = lookups.load_form_draft(store.conn, "site", None)
    assert kept.data == {"address": "天平路2号"} and kept.form_key == "site:new"
    lookups.save_form_draft(store.conn, "site", "abc", {"address": "x"})
    lookups.clear_form_draft(store.conn, "site", None)
    assert lookups.load_form_draft(store.conn, "site", None) is None
    assert lookups.load_form_draft(store.conn, "site", "abc").data == {"address": "x"}


def test_home_queries_count_by_kind_grid_and_returned(store):
    a = store.save("site", complete_site())
    store.save("site", complete_site(address="天平路102号"), status="submitted")
    store.save("site", complete_site(address="天平路103号", grid_code="310104003001G02"))
    store.conn.execute("UPDATE record SET status = 'returned', review_comment = '请复核' "
                       "WHERE id = ?", (a.id,))
    assert lookups.counts_by_kind(store.conn) == {"site": {"returned": 1, "submitted": 1,
                                                           "draft": 1}}
    assert lookups.worker_grids(store.conn, None) == [(GRID, 2), ("310104003001G02", 1)]
    scoped = lookups.worker_grids(store.conn, {GRID, "310104003001G03"})
    assert scoped == [(GRID, 2), ("310104003001G03", 0)]
    assert [r.id for r in lookups.returned(store.conn)] == [a.id]
    assert lookups.grid_names(store.conn, [GRID])[GRID].endswith("网格")


def test_nearby_and_inspections_of_a_target(store):
    site = store.save("site", complete_site(lat=31.2050, lng=121.4430))
    near = store.save("site", complete_site(address="天平路104号", lat=31.2051, lng=121.4431))
    store.save("site", complete_site(address="天平路900号", lat=31.2100, lng=121.4430))
    found = lookups.nearby(store.conn, "site", 31.2050, 121.4430, exclude_id=site.id)
    assert [r.id for r, _ in found] == [near.id] and 10 < found[0][1] < 20
    inspection = store.save("inspection", {
        "target_kind": "site", "target_id": site.id, "grid_code": GRID,
        "inspected_on": "2025-05-01", "inspector": "王芳"})
    assert [r.id for r in lookups.inspections_of(store.conn, site.id)] == [inspection.id]
    assert lookups.inspections_of(store.conn, near.id) == []
    assert len(lookups.pending_of(store.conn, site.id)) == 1
