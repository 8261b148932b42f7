"""The whole review cycle across two laptops and the registry, offline in between, and the
registry's refusals of decisions a worker (even with a modified client) may not make."""

from __future__ import annotations

import uuid

from fieldapp.store.review import approve, queue, send_back
from tests.conftest import complete_site
from tests.sync_helpers import laptops, registry  # noqa: F401  (fixtures)


def synced(*laptops_) -> None:
    for _ in range(2):
        for laptop in laptops_:
            assert not laptop.sync().errors


def test_submit_return_fix_resubmit_approve(registry, laptops):
    worker = laptops("worker")
    boss = laptops("boss", user="lisupervisor", role="supervisor", scopes="310104")
    synced(worker, boss)
    site = worker.store.save("site", complete_site(), status="submitted")
    worker.sync()  # then offline

    boss.sync()
    assert [r.id for r in queue(boss.store)] == [site.id]
    send_back(boss.store, site.id, "请补充权属方联系电话")  # decided offline ...
    boss.sync()  # ... and synced later

    worker.sync()
    back = worker.store.get(site.id)
    assert back.status == "returned" and back.review_comment == "请补充权属方联系电话"
    worker.store.save("site", {"owner_phone": "13812345678"}, record_id=site.id,
                      status="submitted")
    worker.sync()

    boss.sync()
    assert boss.store.get(site.id).data["owner_phone"] == "13812345678"
    approve(boss.store, [site.id])
    boss.sync()
    worker.sync()
    assert worker.store.get(site.id).status == "approved"
    server = registry.records()[site.id]
    assert server["status"] == "approved" and server["version"] == 4
    whos = [h["who"] for h in worker.store.history(site.id)]
    assert "lisupervisor" in whos and "wangfang" in whos


def test_registry_refuses_a_worker_approval_and_a_supervisor_outside_scope(registry, laptops):
    worker = laptops("worker")
    outsider = laptops("outsider", user="zhou", role="supervisor", scopes="310101")
    synced(worker, outsider)
    site = worker.store.save("site", complete_site(), status="submitted")
    worker.sync()
    worker.store.role = "supervisor"  # a modified client that thinks it may approve
    approve(worker.store, [site.id])
    report = worker.sync()
    assert report.rejected and "supervisor" in report.rejected[0]["reason_en"]
    assert registry.records()[site.id]["status"] == "submitted"
    # A supervisor of another district never even sees it, and cannot decide it blind.
    outsider.sync()
    assert outsider.store.get(site.id) is None
    [answer] = outsider.engine.client.push([{
        "mutation_id": str(uuid.uuid4()), "record_id": site.id, "kind": "site",
        "op": "update", "base_version": 1, "fields": {"status": "approved"}}])
    assert answer.outcome == "rejected" and answer.reason.code == "out_of_scope"
    assert registry.records()[site.id]["status"] == "submitted"
