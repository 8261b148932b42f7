"""Authorization matrix: every role × in-scope/out-of-scope × read/write/approve, with the
answer each cell must get from the registry, plus requests without any credential."""

from __future__ import annotations

import pytest
from server_support import (
    BACKENDS,
    GRID,
    GRID_OTHER_STREET,
    GRID_SAME_STREET,
    STREET,
    mutation,
    push,
    registry_for,
    site,
)

# Everyone's scope is one street (天平路街道); "out" records sit in the next street (湖南路).
EXPECTED = {
    ("worker", "in", "read"): 200,
    ("worker", "in", "write"): "applied",
    ("worker", "in", "approve"): "rejected:workflow",
    ("worker", "out", "read"): 403,
    ("worker", "out", "write"): "rejected:out_of_scope",
    ("worker", "out", "approve"): "rejected:out_of_scope",
    ("supervisor", "in", "read"): 200,
    ("supervisor", "in", "write"): "applied",
    ("supervisor", "in", "approve"): "applied",
    ("supervisor", "out", "read"): 403,
    ("supervisor", "out", "write"): "rejected:out_of_scope",
    ("supervisor", "out", "approve"): "rejected:out_of_scope",
    ("admin", "in", "read"): 200,
    ("admin", "in", "write"): "applied",
    ("admin", "in", "approve"): "applied",
    ("admin", "out", "read"): 403,
    ("admin", "out", "write"): "rejected:out_of_scope",
    ("admin", "out", "approve"): "rejected:out_of_scope",
    ("none", "in", "read"): 401,
    ("none", "in", "write"): 401,
    ("none", "in", "approve"): 401,
    ("none", "in", "move_out"): 401,
}
# Moving a record: within the street is an edit; out of the user's scope (湖南路), or out of
# another street into the user's own, is refused for every role of a street-wide scope.
for _role in ("worker", "supervisor", "admin"):
    EXPECTED[(_role, "in", "move_within")] = "applied"
    EXPECTED[(_role, "in", "move_out")] = "rejected:out_of_scope"
    EXPECTED[(_role, "out", "move_in")] = "rejected:out_of_scope"
MOVES = {"move_within": GRID_SAME_STREET, "move_out": GRID_OTHER_STREET, "move_in": GRID}


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory):  # noqa: ANN001, ANN201
    """One registry per backend with a city-wide author and a user per role in one street."""
    with registry_for(request.param, tmp_path_factory.mktemp("matrix")) as reg:
        author = reg.user("city", "admin", "*")
        users = {role: reg.user(f"u-{role}", role, STREET)
                 for role in ("worker", "supervisor", "admin")}
        yield reg, author, users


def fresh_record(author, where: str, status: str) -> dict:  # noqa: ANN001
    grid = GRID if where == "in" else GRID_OTHER_STREET
    result = push(author, mutation(fields=site(grid_code=grid, status=status)))[0]
    assert result["outcome"] == "applied", result
    return result["record"]


def attempt(reg, c, action: str, record: dict):  # noqa: ANN001, ANN201
    if action == "read":
        return c.get(f"/api/v1/records/{record['id']}").status_code
    fields = {"notes": "现场复核"} if action == "write" else {"status": "approved"}
    if action in MOVES:
        fields = {"grid_code": MOVES[action]}
    r = c.post("/api/v1/push", json={"mutations": [
        mutation("update", fields, record["id"], record["version"])]})
    if r.status_code != 200:
        return r.status_code
    result = r.json()["results"][0]
    if result["outcome"] == "rejected":
        return f"rejected:{result['reason']['code']}"
    return result["outcome"]


@pytest.mark.parametrize("cell", list(EXPECTED), ids=lambda c: "-".join(c))
def test_authorization_matrix(world, cell):
    reg, author, users = world
    role, where, action = cell
    record = fresh_record(author, where, "submitted" if action == "approve" else "draft")
    if role == "none":
        from server_support import client

        with client(reg.base) as anonymous:
            answer = attempt(reg, anonymous, action, record)
    else:
        answer = attempt(reg, users[role], action, record)
    assert answer == EXPECTED[cell]
    # Whatever was refused left the record as it was.
    now = author.get(f"/api/v1/records/{record['id']}").json()
    changed = answer == "applied"
    assert (now["version"] == record["version"] + 1) is changed
    if action in MOVES:
        assert now["grid_code"] == (MOVES[action] if changed else record["grid_code"])
