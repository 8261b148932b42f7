"""Device identity belongs to the registry (issue 16): it issues the device id at enrolment,
conflicts and history use it, a credential copied to a second device is caught and revoked,
and an enrolment whose answer was lost can be sent again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from server_support import STREET, client, mutation, push, registry
from sqlalchemy import select, update

from sync.server import admin, auth
from sync.server.admin import engine_for
from sync.server.models import DeviceCredential, EnrollmentToken

__all__ = ["registry"]


def enroll_raw(base: str, token: str, **extra) -> dict:
    with client(base) as c:
        r = c.post("/api/v1/enroll", json={"token": token, "device_name": "测试电脑", **extra})
    return {"status": r.status_code, **r.json()}


def test_two_laptops_claiming_one_device_id_still_conflict(registry):
    """A copied data folder carries its device id; each copy enrolled with its own token must
    still count as a different device: the second edit of one field from one base is a
    conflict, and history names the registry's device ids, never the claimed one."""
    a = registry.user("wangfang", device_id="copied-folder")
    b = registry.user("zhaoli", device_id="copied-folder")
    first = mutation()
    push(a, first)
    rid = first["record_id"]
    [mine] = push(a, mutation("update", {"usable_area": 150}, rid, 1))
    [theirs] = push(b, mutation("update", {"usable_area": 180}, rid, 1))
    assert mine["outcome"] == "applied"
    assert theirs["outcome"] == "conflict", theirs
    history = a.get(f"/api/v1/records/{rid}/history").json()["history"]
    devices = {h["device_id"] for h in history}
    assert "copied-folder" not in devices and len(devices) == 1
    assert all(uuid.UUID(d) for d in devices)


def test_enrolment_resend_with_its_nonce_gets_the_same_credential(registry):
    token = admin.add_user(registry.url, "wangfang", "worker", STREET)
    nonce = "n" * 24
    first = enroll_raw(registry.base, token, nonce=nonce)
    again = enroll_raw(registry.base, token, nonce=nonce)
    assert first["status"] == again["status"] == 200
    assert again["credential"] == first["credential"]
    assert again["device_id"] == first["device_id"]
    # Another nonce, or none, is another laptop: the token is used.
    for other in ({"nonce": "m" * 24}, {}):
        refused = enroll_raw(registry.base, token, **other)
        assert refused["status"] == 401 and refused["error"] == "token_used"
    with engine_for(registry.url).connect() as conn:
        creds = conn.execute(select(DeviceCredential.__table__)).fetchall()
    assert len(creds) == 1  # no orphan credential from the resend
    with client(registry.base, first["credential"]) as c:
        assert c.get("/api/v1/me").status_code == 200
    # Minutes later the resend is refused: a token read off a screen is worth nothing.
    late = (datetime.now(UTC) - auth.RESEND_WINDOW - timedelta(minutes=1)).isoformat()
    with engine_for(registry.url).begin() as conn:
        conn.execute(update(EnrollmentToken.__table__).values(used_at=late))
    assert enroll_raw(registry.base, token, nonce=nonce)["error"] == "token_used"


def test_revoked_user_is_restored_with_a_new_token(registry):
    c = registry.user("sun")
    admin.revoke_user(registry.url, "sun")
    assert c.get("/api/v1/me").status_code == 401
    token = admin.restore_user(registry.url, "sun")
    assert c.get("/api/v1/me").status_code == 401  # the old device stays cut off
    fresh = enroll_raw(registry.base, token)
    assert fresh["status"] == 200
    with client(registry.base, fresh["credential"]) as again:
        assert again.get("/api/v1/me").json()["name"] == "sun"
