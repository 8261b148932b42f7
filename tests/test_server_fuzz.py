"""Any envelope-valid mutation, sent over HTTP to the real registry on SQLite and PostgreSQL,
gets a well-formed answer, and the answer is the truth: what is applied is stored as the
validation rules say, inside the sender's scope and role; what is refused changes nothing;
the same mutation sent again is answered "already applied" and applied once.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from server_support import (
    GRID,
    GRID_OTHER_STREET,
    GRID_SAME_STREET,
    STREET,
    mutation,
    registry,  # noqa: F401  (fixture)
    site,
)

from fieldapp.domain.records import FIELD_INDEX
from fieldapp.domain.validation import InvalidValue, coerce
from sync import protocol
from tests.conftest import examples

SITE_NAMES = sorted(FIELD_INDEX["site"]) + ["status", "review_comment"]
#: Mostly a site's own field names (the records mutated are sites), some of other kinds, some
#: that no kind has.
NAMES = SITE_NAMES * 6 + sorted({n for fields in FIELD_INDEX.values() for n in fields}
                                - set(SITE_NAMES) | {"colour", ""})
SCALARS = (st.none() | st.booleans() | st.integers(-2**53, 2**53)
           | st.floats(-1e15, 1e15, allow_nan=False)
           | st.text(max_size=30) | st.sampled_from(["draft", "submitted", "approved", "returned",
                                                      GRID, GRID_SAME_STREET, GRID_OTHER_STREET,
                                                      "2024-02-30", "13800138000", "elderly"]))
#: Values workers really type, so that many mutations are valid and get applied.
PLAUSIBLE = st.sampled_from([
    ("usable_area", 80), ("usable_area", "１２０㎡"), ("notes", "门口有台阶"), ("floor_from", 2),
    ("owner_consent", "已同意"), ("status", "submitted"), ("status", "draft"), ("lat", 31.2),
    ("review_comment", "请补充")])
VALUES = SCALARS | st.lists(st.integers(0, 9) | st.text(max_size=8) | st.sampled_from(
    ["elderly", "meal", "childcare"]), max_size=4)
#: Fields only supervisors and admins may change (joint review), by kind.
RESTRICTED = {kind: {n for n, spec in fields.items() if spec.roles}
              for kind, fields in FIELD_INDEX.items()}
_USERS: dict = {}


def _client(registry, role: str):  # noqa: ANN001, F811
    """One enrolled client per role for the registry of this test (made on first use)."""
    key = (registry.url, role)
    if key not in _USERS:
        scopes = "*" if role == "admin" else STREET
        _USERS[key] = registry.user(f"fuzz_{role}_{uuid.uuid4().hex[:6]}", role, scopes)
    return _USERS[key]


def _get(c, record_id: str) -> dict | None:  # noqa: ANN001
    r = c.get(f"/api/v1/records/{record_id}")
    if r.status_code == 404:
        return None
    assert r.status_code == 200, r.text
    return protocol.Record.model_validate(r.json()).model_dump()


def _history_of(c, record_id: str, mutation_id: str) -> int:  # noqa: ANN001
    r = c.get(f"/api/v1/records/{record_id}/history")
    if r.status_code == 404:
        return 0
    assert r.status_code == 200, r.text
    return sum(h["mutation_id"] == mutation_id for h in r.json()["history"])


def _send(c, m: dict) -> protocol.Result:  # noqa: ANN001
    r = c.post("/api/v1/push", json={"mutations": [m]})
    assert r.status_code == 200, r.text
    [result] = protocol.PushAnswer.model_validate(r.json()).results
    assert result.mutation_id == m["mutation_id"]
    return result


@pytest.mark.parametrize("registry", ["sqlite", pytest.param("postgresql",
                                                              marks=pytest.mark.postgres)],
                         indirect=True)
@settings(max_examples=examples(60), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(op=st.sampled_from(["create", "update", "delete"]),
       kind=st.sampled_from(["site"] * 8 + ["facility", "inspection"]),
       complete=st.booleans(), fields=st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=2),
       typed=st.lists(PLAUSIBLE, max_size=3),
       move=st.sampled_from([None, GRID, GRID_SAME_STREET, GRID_OTHER_STREET]),
       base=st.integers(0, 3), role=st.sampled_from(["worker", "supervisor", "admin"]),
       seed_grid=st.sampled_from([GRID, GRID_SAME_STREET]))
def test_any_mutation_over_http_gets_a_true_answer(registry, op, kind, complete,  # noqa: F811
                                                   fields, typed, move, base, role,
                                                   seed_grid):
    # A complete record, some fields as people type them, some replaced by anything.
    fields = {**(site() if complete else {}), **dict(typed), **fields}
    if move:
        fields["grid_code"] = move
    c = _client(registry, role)
    seed = mutation("create", site(grid_code=seed_grid))
    assert _send(c, seed).outcome == "applied"
    record_id = seed["record_id"] if op != "create" else str(uuid.uuid4())
    before = _get(c, record_id)
    m = mutation(op, fields, record_id=record_id, base_version=base, kind=kind)
    result = _send(c, m)
    after = _get(_client(registry, "admin"), record_id)

    if result.outcome == "rejected":
        reason = result.reason
        assert reason.code and reason.message and reason.message_zh
        assert after == before  # nothing applied: not a field, not a version
        assert _history_of(_client(registry, "admin"), record_id, m["mutation_id"]) == 0
        again = _send(c, m)
        assert again.outcome == "rejected" and again.reason.code == reason.code
        return

    assert result.outcome in ("applied", "conflict"), result
    assert after is not None and after["version"] == result.version >= 1
    if result.record is not None:
        assert result.record.model_dump() == after  # the answer tells what was stored
    # Inside the sender's scope and role, whatever the mutation asked for.
    if role != "admin":
        assert after["grid_code"].startswith(STREET), after["grid_code"]
    if role == "worker":
        assert after["status"] in ("draft", "submitted")
        assert after["review_comment"] is None
        for name in RESTRICTED[after["kind"]]:
            assert after["data"].get(name) == (before or {"data": {}})["data"].get(name)
    if op == "delete":
        assert after["deleted"]
    elif result.outcome == "applied":
        # Stored as validation says: every field sent is its coerced value (None: absent).
        specs = FIELD_INDEX[after["kind"]]
        for name, value in fields.items():
            if name in ("status", "review_comment"):
                continue
            try:
                expected = coerce(specs[name], value)
            except (InvalidValue, KeyError):  # pragma: no cover - it would have been refused
                raise AssertionError(f"{name}={value!r} applied although invalid") from None
            assert after["data"].get(name) == expected, name
        if "status" in fields:
            assert after["status"] == fields["status"]
    # Sent again (a lost answer): the first answer again, nothing applied twice.
    again = _send(c, m)
    assert again.outcome == "already_applied"
    assert again.effective == result.outcome
    assert _get(_client(registry, "admin"), record_id) == after
    assert _history_of(_client(registry, "admin"), record_id, m["mutation_id"]) <= 1
