"""Laptops and the registry's device identity (issue 16): an enrolment whose answer was lost
is run again with the same result; a credential copied to a second device (a copied data
folder, a cloned disk) is caught by its sync sequence and revoked, telling both to enroll
again; one laptop syncing again and again, or one cycle's request committed after the next
cycle's, is never taken for a copy."""

from __future__ import annotations

import shutil

from sqlalchemy import select
from sync_helpers import Laptop, registry, sqlite_only

from fieldapp.cli import main
from sync import credentials
from sync.client import RegistryClient
from sync.server import admin
from sync.server.admin import engine_for
from sync.server.models import DeviceCredential
from tests.conftest import complete_site

__all__ = ["registry"]


@sqlite_only
def test_enroll_again_after_a_lost_answer(registry, tmp_path):
    """The laptop keeps the nonce until it has saved the answer, so `fieldapp enroll` run
    again with the same token gets the credential the registry already issued."""
    laptop = Laptop("a", tmp_path / "a", registry.url)
    token = registry.token("wangfang")
    nonce = credentials._pending_nonce(laptop.config_dir, token)
    with RegistryClient(registry.url) as c:
        lost = c.enroll(token, "a", nonce)  # answered, but the laptop never saw it
    entry = laptop.enroll(token)
    assert entry["credential"] == lost.credential and entry["device_id"] == lost.device_id
    assert laptop.store.setting("registry_device:wangfang") == lost.device_id
    assert laptop.sync().ok
    laptop.close()


@sqlite_only
def test_copied_credential_is_caught_and_both_told_to_enroll_again(registry, tmp_path,
                                                                    capsys):
    a = Laptop("a", tmp_path / "a", registry.url)
    a.enroll(registry.token("wangfang"))
    assert a.sync().ok  # brings the areas the form checks grids against
    a.store.save("site", complete_site())
    assert a.sync().ok
    a.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copytree(a.home, tmp_path / "b")  # the whole folder, credential and all
    b = Laptop("b", tmp_path / "b", registry.url)
    b.connect_engine()
    assert a.sync().ok  # the original goes on...
    caught = b.sync()  # ...and the copy's sequence goes back
    assert caught.fatal and "enroll again" in " ".join(caught.errors)
    again = a.sync()
    assert again.fatal and "两台设备" in " ".join(again.errors)
    with engine_for(registry.database_url).connect() as conn:
        reasons = conn.execute(select(DeviceCredential.__table__.c.revoked_reason)).scalars()
        assert list(reasons) == ["cloned"]
    [device] = admin.devices(registry.database_url)
    assert device["revoked_reason"] == "cloned" and device["revoked_at"]
    assert main(["admin", "--database-url", registry.database_url, "devices"]) == 0
    assert "copied to another device" in capsys.readouterr().out
    for laptop in (a, b):
        laptop.close()


@sqlite_only
def test_one_laptop_syncing_many_times_is_never_taken_for_a_copy(registry, tmp_path):
    a = Laptop("a", tmp_path / "a", registry.url)
    a.enroll(registry.token("wangfang"))
    for _ in range(3):
        assert a.sync().ok
    a.connect_engine()  # a new run of the app: the sequence lives beside the credential
    assert a.sync().ok
    a.close()


@sqlite_only
def test_a_late_status_request_is_not_a_copy_but_a_reused_number_is(registry, tmp_path):
    """A cycle's status request can be committed after the next cycle's (the laptop gave up
    waiting on a slow registry): a sequence a little lower, just after, is that. The same
    number with another tag, or a sequence far behind, is a second device."""
    import pytest

    from sync.client import SyncError

    a = Laptop("a", tmp_path / "a", registry.url)
    entry = a.enroll(registry.token("wangfang"))
    a.close()
    with RegistryClient(registry.url, entry["credential"]) as c:
        def report(sequence: int, tag: str) -> None:
            c.status({"app_version": "0.1.0", "queued": 0, "parked": 0,
                      "sequence": sequence, "sequence_tag": tag})

        report(20, "t20")
        report(19, "t19")  # the earlier cycle's request, committed late
        report(18, "t18")
        report(21, "t21")
        with pytest.raises(SyncError):
            report(21, "other")  # the same number from another device
    b = Laptop("b", tmp_path / "b", registry.url)
    entry = b.enroll(registry.token("zhaoli"))
    b.close()
    with RegistryClient(registry.url, entry["credential"]) as c:
        c.status({"app_version": "0.1.0", "queued": 0, "parked": 0, "sequence": 40,
                  "sequence_tag": "x"})
        with pytest.raises(SyncError):  # far behind: a copy made long ago
            c.status({"app_version": "0.1.0", "queued": 0, "parked": 0, "sequence": 30,
                      "sequence_tag": "y"})
