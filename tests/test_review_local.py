"""The review queue on one laptop: order, filters, counts, decisions, what changed, the CLI."""

import json

import pytest

from fieldapp.cli import main
from fieldapp.domain.workflow import TransitionError
from fieldapp.store.review import (
    QueueFilter,
    approve,
    changed_since_last_review,
    counts_per_grid,
    queue,
    send_back,
)
from tests.conftest import GRID, complete_site

OTHER_GRID = "310104003002G01"


def submitted(store, **fields):
    return store.save("site", complete_site(**fields), status="submitted")


def test_queue_is_oldest_first_and_filters(store):
    first = submitted(store, address="天平路1号")
    second = submitted(store, address="天平路2号", grid_code=OTHER_GRID)
    store.save("site", complete_site(address="天平路3号"))  # a draft is not in the queue
    assert [r.id for r in queue(store)] == [first.id, second.id]
    assert [r.id for r in queue(store, QueueFilter(grid_code=OTHER_GRID))] == [second.id]
    assert [r.id for r in queue(store, QueueFilter(grid_code="310104003"))] == [first.id, second.id]
    assert queue(store, QueueFilter(kind="facility")) == []
    assert queue(store, QueueFilter(function="sports")) == []
    assert counts_per_grid(store) == {GRID: 1, OTHER_GRID: 1}
    in_scope = QueueFilter(grids=frozenset({GRID}))
    assert [r.id for r in queue(store, in_scope)] == [first.id]
    assert queue(store, QueueFilter(grids=frozenset())) == []


def test_worker_cannot_decide_supervisor_can(store):
    record = submitted(store)
    with pytest.raises(TransitionError):
        approve(store, [record.id])
    store.role = "supervisor"
    with pytest.raises(TransitionError):
        send_back(store, record.id, "  ")
    returned = send_back(store, record.id, "请补充联系电话")
    assert returned.status == "returned" and returned.review_comment == "请补充联系电话"
    store.role = "worker"
    fixed = store.save("site", {"owner_phone": "13812345678"}, record_id=record.id,
                       status="submitted")
    assert changed_since_last_review(store, record.id) == {"owner_phone": [None, "13812345678"]}
    store.role = "supervisor"
    assert approve(store, [fixed.id])[0].status == "approved"
    actions = [h["action"] for h in store.history(record.id)]
    assert actions == ["create", "returned", "submitted", "approved"]
    assert store.get(record.id).review_comment is None  # cleared, as the registry stores it


def test_cli_queue_approve_return_history(store, tmp_path, capsys):
    a, b = submitted(store, address="天平路1号"), submitted(store, address="天平路2号")
    store.set_setting("current_user", "li")
    store.set_setting("role:li", "supervisor")
    home = ["--data-dir", str(tmp_path)]
    assert main([*home, "review", "queue", "--json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [a.id, b.id]
    assert main([*home, "review", "approve", a.id[:8]]) == 0
    assert main([*home, "review", "return", b.id, "--comment", "面积不符"]) == 0
    assert main([*home, "review", "return", "zz"]) == 2  # argparse: --comment is required
    capsys.readouterr()
    assert main([*home, "review", "approve", "nosuchid"]) == 1
    assert "a record id holds only 0-9, a-f" in capsys.readouterr().err
    assert main([*home, "review", "approve", "abcdef12"]) == 1
    assert "no record id starts with abcdef12" in capsys.readouterr().err
    assert main([*home, "history", b.id[:8]]) == 0
    out = capsys.readouterr().out
    assert "面积不符" in out and "li" in out
