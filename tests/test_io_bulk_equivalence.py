"""The import's bulk path refuses exactly what the form refuses, and stores what it would.

10,000 messy rows (full-width digits, units, thousands separators, labels and codes, bad
dates, unknown grids, missing required values, out-of-range numbers, control characters,
statuses a worker may not set, ...) go through `import_file` (batched, `insert_many`) and,
one by one, through the form's path (`RecordStore.save`: check_record, workflow, roles).
Every row must be accepted by both or refused by both, and an accepted row must be stored
with the same values.
"""

from __future__ import annotations

import csv
import json
import random

from fieldapp.demo import DemoMaker, demo_areas
from fieldapp.domain.records import SPECS
from fieldapp.domain.workflow import TransitionError
from fieldapp.io.exporter import display_value
from fieldapp.io.importer import import_file
from fieldapp.store.db import connect
from fieldapp.store.records import RecordStore, ValidationFailed

ROWS = 10_000
FULLWIDTH = str.maketrans("0123456789.,-", "０１２３４５６７８９．，－")
STATUSES = ["", "", "", "草稿", "已提交", "submitted", "已通过", "退回", "不存在的状态"]
SPECS_BY_NAME = {s.name: s for s in SPECS["site"]}


def messy(rng: random.Random, name: str, text: str) -> str:
    """What people type instead: the same value written otherwise, or a wrong one."""
    spec = SPECS_BY_NAME[name]
    roll = rng.random()
    if roll < 0.96:
        return text
    if roll < 0.965:
        return ""  # a required value left out (or an optional one)
    if spec.type in ("int", "float"):
        return rng.choice([text.translate(FULLWIDTH), f"{text}㎡", f"约{text}平方米", "1,200",
                           "1,2", "abc", "1", "99", "-7", "１２０", "12.5.3"])
    if spec.type == "date":
        return rng.choice(["2024/3/5", "2024年3月5日", "2024-13-45", "昨天", "20240305",
                           "２０２４-０３-０５"])
    if spec.type == "phone":
        return rng.choice(["1380013800", "138-0013-8000", "１３８００１３８０００", "021-6431 2345",
                           "电话", "+86 138 0013 8000"])
    if spec.type == "grid":
        return rng.choice(["310104999999G99", text.lower(), f" {text} ", "网格一"])
    if spec.type in ("choice", "multi"):
        return rng.choice(["不知道", text.upper(), f"{text}、养老服务", "elderly meal", "其他",
                           "良好", "同意"])
    if spec.type == "bool":
        return rng.choice(["是", "否", "Y", "n", "也许", "TRUE"])
    return rng.choice([text + "\x07", "  " + text + "  ", text * 30, "号", text.translate(
        FULLWIDTH)])


def write_rows(path, rng: random.Random) -> list[list[str]]:
    maker = DemoMaker(seed=19)
    specs = SPECS["site"]
    header = [s.zh for s in specs] + ["状态"]
    rows = []
    for number in range(ROWS):
        data = maker.site()
        data["external_id"] = f"M{number:06d}"  # every row its own record
        cells = [display_value(s, data.get(s.name)) for s in specs]
        cells = [c if s.name == "external_id" else messy(rng, s.name, c)
                 for s, c in zip(specs, cells, strict=True)]
        rows.append(cells + [rng.choice(STATUSES)])
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return rows


def store_at(path) -> RecordStore:
    store = RecordStore(connect(path), user="wangfang", role="worker")
    store.load_areas(demo_areas())
    return store


def form_path(store: RecordStore, cells: list[str]) -> bool:
    """The row as a person would enter it in the form: True if the form saves it."""
    from fieldapp.domain.choices import STATUS

    specs = SPECS["site"]
    raw = {}
    for spec, text in zip(specs, cells, strict=False):
        if not text.strip():
            continue
        raw[spec.name] = text  # the form reads a several-choice cell as the importer does
    status_text = cells[-1].strip()
    status = STATUS.parse(status_text) if status_text else None
    if status_text and status is None:
        return False  # the form offers only the statuses there are
    try:
        store.save("site", raw, status=status)
    except (ValidationFailed, TransitionError):
        return False
    return True


def test_bulk_import_and_form_accept_and_refuse_the_same_rows(tmp_path):
    rng = random.Random(1919)
    rows = write_rows(tmp_path / "messy.csv", rng)
    bulk = store_at(tmp_path / "bulk.sqlite3")
    report = import_file(bulk, tmp_path / "messy.csv", "site", errors_path=None)
    refused_by_bulk = {e.row - 1 for e in report.errors}  # row 1 is the header

    form = store_at(tmp_path / "form.sqlite3")
    refused_by_form = {i for i, cells in enumerate(rows, start=1) if not form_path(form, cells)}

    assert report.added + report.rejected == ROWS
    assert 0.2 * ROWS < len(refused_by_form) < 0.9 * ROWS  # messy, not hopeless
    assert refused_by_bulk == refused_by_form, (
        f"bulk only: {sorted(refused_by_bulk - refused_by_form)[:10]}, "
        f"form only: {sorted(refused_by_form - refused_by_bulk)[:10]}")

    assert stored(bulk) == stored(form)


def stored(store: RecordStore) -> dict[str, tuple]:
    """external id → (fields, status) of every record the store holds."""
    return {data["external_id"]: (data, status) for data, status in (
        (json.loads(row["data"]), row["status"])
        for row in store.conn.execute("SELECT data, status FROM record"))}
