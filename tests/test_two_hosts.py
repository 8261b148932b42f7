"""Two registry hosts, one city: two `fieldapp serve` processes on one PostgreSQL database
with the PostgreSQL blob store, laptops syncing through a round-robin balancer (each request
to the other host), photos uploaded through one host and fetched through the other, and
every laptop converging with each mutation applied exactly once."""

from __future__ import annotations

import hashlib

import pytest
from attachment_support import jpeg_bytes, png_bytes, write
from hosts_support import RegistryProcess, RoundRobin
from sqlalchemy import text
from sync_helpers import Laptop, live, make_database_url, server_records

from fieldapp.store import attachments as att
from sync import attachment_sync
from sync.server import admin
from sync.server.db import reading
from tests.conftest import complete_site

pytestmark = pytest.mark.postgres


@pytest.fixture
def city(tmp_path):
    import os

    if not os.environ.get("FIELDAPP_TEST_DATABASE_URL"):
        pytest.skip("needs FIELDAPP_TEST_DATABASE_URL (PostgreSQL)")
    url, drop = make_database_url("postgres", tmp_path)
    admin.load_demo_areas(url)
    hosts = [RegistryProcess(url, tmp_path / f"host{n}", "--blob-store", "postgres")
             for n in (1, 2)]
    try:
        for host in hosts:
            host.wait_ready()
        with RoundRobin([h.port for h in hosts]) as balancer:
            yield url, hosts, balancer
    finally:
        for host in hosts:
            host.stop()
        drop()


def _count(url: str, sql: str) -> int:
    with reading(admin.engine_for(url)) as conn:
        return conn.execute(text(sql)).scalar_one()


def test_laptops_converge_exactly_once_through_two_hosts(city, tmp_path):
    url, (host1, host2), balancer = city
    laptops = []
    for name, user, role, scopes in (("a", "wangfang", "worker", "310104003"),
                                     ("b", "zhaolei", "worker", "310104003"),
                                     ("c", "liming", "supervisor", "310104")):
        laptop = Laptop(name, tmp_path / name, balancer.url)
        laptop.enroll(admin.add_user(url, user, role, scopes))
        laptops.append(laptop)
    a, b, c = laptops
    sent = [0]

    def sync(laptop):  # noqa: ANN001, ANN202
        report = laptop.sync()
        assert report.ok, report.errors
        sent[0] += report.pushed + report.conflicts
        return report

    try:
        for laptop in laptops:
            sync(laptop)
        for n in range(40):  # two workers, 20 sites each, some submitted
            laptop = a if n % 2 else b
            site = laptop.store.save("site", complete_site(address=f"天平路{n + 1}号"))
            if n % 5 == 0:
                laptop.store.save("site", {}, record_id=site.id, status="submitted")
            photo = write(tmp_path / "card" / "IMG_1.JPG", jpeg_bytes(700_000, seed=3))
        plan = write(tmp_path / "card" / "plan.png", png_bytes(9))
        first = a.store.save("site", complete_site(address="漕溪北路1号"))
        p1 = att.attach(a.store, first.id, photo, caption="门面正面")
        att.attach(a.store, first.id, plan, caption="平面图")

        # a uploads through host 1 only; b pushes through the balancer meanwhile.
        a.connect_engine(host1.url)
        report = sync(a)
        assert report.attachments.uploaded == 2
        sync(b)
        # Each host's view of the edits the other took, then a few rounds through the balancer.
        for _ in range(2):
            for laptop in laptops:
                sync(laptop)

        # The supervisor approves some; the workers edit others' records; all through the LB.
        queue = [r for r in c.records().items() if r[1]["status"] == "submitted"]
        assert queue
        for record_id, _ in queue[:3]:
            c.store.save("site", {}, record_id=record_id, status="approved")
        shared = next(iter(a.records()))
        b.store.save("site", {"usable_area": 333}, record_id=shared)
        for _ in range(2):
            for laptop in laptops:
                sync(laptop)

        # Fetched through host 2: the content uploaded through host 1 is there.
        b.connect_engine(host2.url)
        got = attachment_sync.download(b.store, b.engine.client, p1.id)
        assert hashlib.sha256(got.read_bytes()).hexdigest() == p1.sha256
        c.connect_engine(host2.url)
        seen = att.list_for(c.store, first.id)
        assert sorted(x.caption for x in seen) == ["平面图", "门面正面"]
        for x in seen:
            path = attachment_sync.download(c.store, c.engine.client, x.id)
            assert hashlib.sha256(path.read_bytes()).hexdigest() == x.sha256

        server = live(server_records(url))
        for laptop in laptops:
            assert laptop.store.conn.execute(
                "SELECT count(*) FROM outbox").fetchone()[0] == 0
        # Workers see their street, the supervisor the district: here all in one street.
        assert a.records() == b.records() == c.records() == server
        assert len(server) == 41
        # Exactly once: one applied mutation and one history entry per mutation sent.
        assert sent[0] >= 40
        assert _count(url, "SELECT count(*) FROM applied_mutation") == sent[0]
        assert _count(url, "SELECT count(*) FROM history") == sent[0]
        assert _count(url, "SELECT count(DISTINCT mutation_id) FROM history") == sent[0]
        assert _count(url, "SELECT count(*) FROM (SELECT record_id, version FROM history "
                           "GROUP BY record_id, version HAVING count(*) > 1) d") == 0
        assert _count(url, "SELECT count(*) FROM blob WHERE store = 'db'") == 2
        assert _count(url, "SELECT count(*) FROM blob_upload") == 0
        # The balancer really spread the work.
        assert balancer.served[host1.port] > 10 and balancer.served[host2.port] > 10
    finally:
        for laptop in laptops:
            laptop.close()
        admin.dispose_all()
