"""Registry accounts and the edges of every request: enrolment, credentials, revocation,
protocol version, and bad requests that must get a 4xx JSON error and change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from server_support import (
    BACKENDS,
    GRID_OTHER_STREET,
    STREET,
    client,
    mutation,
    push,
    registry,
    registry_for,
    site,
)
from sqlalchemy import func, select, update

from sync.server import admin, auth
from sync.server.admin import engine_for
from sync.server.models import EnrollmentToken, Record

__all__ = ["registry"]  # the fixture, imported for pytest


def enroll_with(reg, token: str, device: str = "dev-x"):  # noqa: ANN001, ANN201
    with client(reg.base) as c:
        return c.post("/api/v1/enroll", json={"token": token, "device_id": device,
                                              "device_name": "测试电脑"})


def record_count(url: str) -> int:
    with engine_for(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(Record.__table__)).scalar_one()


def test_token_enrolls_once_and_credential_works(registry):
    token = admin.add_user(registry.url, "wangfang", "worker", STREET)
    first = enroll_with(registry, token)
    assert first.status_code == 200
    body = first.json()
    assert body["user"] == {"name": "wangfang", "role": "worker", "scopes": [STREET]}
    again = enroll_with(registry, token, "dev-other")
    assert again.status_code == 401 and again.json()["error"] == "token_used"
    assert again.json()["message_zh"]
    with client(registry.base, body["credential"]) as c:
        assert c.get("/api/v1/me").json() == body["user"]


def test_tokens_and_credentials_are_stored_hashed(registry):
    token = admin.add_user(registry.url, "li", "worker", STREET)
    credential = enroll_with(registry, token).json()["credential"]
    with engine_for(registry.url).connect() as conn:
        stored = [tuple(r) for t in ("enrollment_token", "device_credential")
                  for r in conn.exec_driver_sql(f"SELECT * FROM {t}")]
    flat = " ".join(str(v) for row in stored for v in row)
    assert token not in flat and credential not in flat
    assert auth.digest(token) in flat and auth.digest(credential) in flat


def test_expired_and_forged_tokens_are_refused(registry):
    token = admin.add_user(registry.url, "zhao", "worker", STREET)
    with engine_for(registry.url).begin() as conn:
        past = (auth.datetime.now(auth.UTC) - timedelta(minutes=1)).isoformat()
        conn.execute(update(EnrollmentToken.__table__).values(expires_at=past))
    assert enroll_with(registry, token).json()["error"] == "token_expired"
    forged = enroll_with(registry, auth.new_secret())
    assert forged.status_code == 401 and forged.json()["error"] == "invalid_token"


def test_revoked_user_is_refused_at_once(registry):
    c = registry.user("sun", "worker", STREET)
    assert c.get("/api/v1/me").status_code == 200
    assert push(c, mutation())[0]["outcome"] == "applied"
    assert admin.revoke_user(registry.url, "sun") == 1
    for r in (c.get("/api/v1/me"), c.get("/api/v1/pull"),
              c.post("/api/v1/push", json={"mutations": [mutation()]})):
        assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    # A token issued before the revocation cannot bring the user back.
    with pytest.raises(admin.AdminError):
        admin.add_user(registry.url, "sun", "worker", STREET)


def test_lost_laptop_is_cut_off_and_its_owner_enrolls_a_new_one(registry):
    lost = registry.user("qian", "worker", STREET)
    assert admin.revoke_user(registry.url, "qian", devices_only=True) == 1
    assert lost.get("/api/v1/me").status_code == 401
    new_laptop = registry.user("qian", "worker", STREET)  # a fresh token for the same user
    assert new_laptop.get("/api/v1/me").json()["name"] == "qian"
    assert lost.get("/api/v1/me").status_code == 401


def test_missing_and_unknown_credentials_get_401(registry):
    with client(registry.base) as c:
        assert c.get("/api/v1/me").status_code == 401
    with client(registry.base, "not-a-real-credential") as c:
        r = c.get("/api/v1/pull")
        assert r.status_code == 401 and set(r.json()) >= {"error", "message", "message_zh"}


def test_enrol_brute_force_is_limited(registry):
    for _ in range(auth.ENROLL_FAILURES_PER_MINUTE):
        assert enroll_with(registry, "guess-" + auth.new_secret()).status_code == 401
    token = admin.add_user(registry.url, "late", "worker", STREET)
    r = enroll_with(registry, token)  # even a good token waits out the minute
    assert r.status_code == 429 and r.json()["error"] == "too_many_attempts"


def test_protocol_header_is_required(registry):
    c = registry.user("zhou")
    assert c.get("/api/v1/me", headers={"X-Fieldapp-Protocol": "2"}).status_code == 426
    with client(registry.base, protocol=None) as bare:
        r = bare.get("/api/v1/health")
        assert r.json() == {"ok": True, "protocol": 1}
        r = bare.post("/api/v1/enroll", json={})
        assert r.status_code == 426 and r.json()["error"] == "upgrade_required"


def test_openapi_is_served(shared):
    with client(shared[0].base) as c:
        paths = c.get("/openapi.json").json()["paths"]
    assert {"/api/v1/push", "/api/v1/pull", "/api/v1/enroll", "/api/v1/me"} <= set(paths)


BAD_BODIES = {
    "malformed json": (b'{"mutations": [', 400, "malformed_json"),
    "unknown envelope field": (b'{"mutations": [], "force": true}', 422, "invalid_request"),
    "wrong type": (b'{"mutations": "all of them"}', 422, "invalid_request"),
    "not a uuid": (b'{"mutations": [{"mutation_id": "1", "record_id": "2", "kind": "site", '
                   b'"op": "create", "base_version": 0, "fields": {}}]}', 422, "invalid_request"),
    "nested value": (b'{"mutations": [{"mutation_id": "0b9e4c1a-0000-4000-8000-000000000001", '
                     b'"record_id": "0b9e4c1a-0000-4000-8000-000000000002", "kind": "site", '
                     b'"op": "create", "base_version": 0, "fields": {"address": {"a": [1]}}}]}',
                     422, "invalid_request"),
    "base version as text": (b'{"mutations": [{"mutation_id": '
                             b'"0b9e4c1a-0000-4000-8000-000000000001", "record_id": '
                             b'"0b9e4c1a-0000-4000-8000-000000000002", "kind": "site", '
                             b'"op": "update", "base_version": "3", "fields": {}}]}',
                             422, "invalid_request"),
    "infinite number": (b'{"mutations": [{"mutation_id": "0b9e4c1a-0000-4000-8000-000000000001", '
                        b'"record_id": "0b9e4c1a-0000-4000-8000-000000000002", "kind": "site", '
                        b'"op": "create", "base_version": 0, "fields": {"floor_from": Infinity}}]}',
                        422, "invalid_request"),
    "huge number": (b'{"mutations": [{"mutation_id": "0b9e4c1a-0000-4000-8000-000000000001", '
                    b'"record_id": "0b9e4c1a-0000-4000-8000-000000000002", "kind": "site", '
                    b'"op": "create", "base_version": 0, "fields": {"floor_from": 1' + b"0" * 400
                    + b'}}]}', 422, "invalid_request"),
    "too many mutations": (None, 422, "invalid_request"),
    "oversized body": (b'{"mutations": [], "pad": "' + b"x" * (6 * 1024 * 1024) + b'"}',
                       413, "too_large"),
}


@pytest.fixture(scope="module", params=BACKENDS)
def shared(request, tmp_path_factory):  # noqa: ANN001, ANN201
    """One registry per backend for tests that only read or must change nothing."""
    with registry_for(request.param, tmp_path_factory.mktemp("shared")) as reg:
        yield reg, reg.user("qian")


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_bad_push_requests_get_4xx_json_and_write_nothing(shared, case):
    reg, c = shared
    body, status, code = BAD_BODIES[case]
    if body is None:
        import json

        body = json.dumps({"mutations": [mutation() for _ in range(501)]}).encode()
    before = record_count(reg.url)
    r = c.post("/api/v1/push", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    assert r.json()["error"] == code and r.json()["message"] and r.json()["message_zh"]
    assert "Traceback" not in r.text
    assert record_count(reg.url) == before == 0


def test_bad_record_content_is_rejected_per_mutation_with_reasons(registry):
    c = registry.user("wu")
    good = mutation()
    results = push(c, mutation(fields=site(grid_code="310104003001G99")),
                   mutation(fields=site(usable_area="lots", floor_from=99)),
                   mutation(fields=site(colour="red")),
                   mutation(fields=site(grid_code=GRID_OTHER_STREET)),
                   good)
    outcomes = [r["outcome"] for r in results]
    assert outcomes == ["rejected"] * 4 + ["applied"]
    reasons = [r["reason"] for r in results[:4]]
    assert reasons[0]["errors"][0]["field"] == "grid_code"
    grid_error = reasons[0]["errors"][0]
    assert "不存在" in grid_error["zh"] and "does not exist" in grid_error["en"]
    assert {e["field"] for e in reasons[1]["errors"]} == {"usable_area", "floor_from"}
    assert reasons[2]["errors"][0] == {"field": "colour", "zh": "未知字段 colour",
                                       "en": "unknown field colour"}
    assert reasons[3]["code"] == "out_of_scope" and reasons[3]["message_zh"]
    assert record_count(registry.url) == 1


def test_limits_on_pull_and_unknown_paths(shared):
    c = shared[1]
    assert c.get("/api/v1/pull", params={"limit": 5000}).status_code == 422
    assert c.get("/api/v1/pull", params={"limit": "many"}).status_code == 422
    r = c.get("/api/v1/nowhere")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert c.get("/api/v1/records/not-an-id").status_code == 404
