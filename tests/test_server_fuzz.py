"""Any envelope-valid mutation gets an answer (applied, conflict or rejected), never a crash:
random values of every JSON type for real and made-up field names, against real records."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from server_support import GRID, STREET, site

from fieldapp.domain.records import FIELD_INDEX
from sync.protocol import Mutation
from sync.server import admin
from sync.server.admin import engine_for
from sync.server.auth import Principal
from sync.server.push import push

NAMES = sorted({n for fields in FIELD_INDEX.values() for n in fields}
               | {"status", "review_comment", "colour", ""})
SCALARS = (st.none() | st.booleans() | st.integers(-2**53, 2**53)
           | st.floats(-1e15, 1e15, allow_nan=False)
           | st.text(max_size=30) | st.sampled_from(["draft", "submitted", "approved", GRID,
                                                      "2024-02-30", "13800138000", "elderly"]))
VALUES = SCALARS | st.lists(st.integers(0, 9) | st.text(max_size=8) | st.sampled_from(
    ["elderly", "meal", "childcare"]), max_size=4)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(op=st.sampled_from(["create", "update", "delete"]),
       kind=st.sampled_from(["site", "facility", "inspection"]),
       fields=st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=8),
       base=st.integers(0, 5), role=st.sampled_from(["worker", "supervisor", "admin"]))
def test_any_mutation_gets_an_answer(tmp_path_factory, op, kind, fields, base, role):
    url = getattr(test_any_mutation_gets_an_answer, "url", None)
    if url is None:
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'registry.sqlite3'}"
        admin.load_demo_areas(url)
        test_any_mutation_gets_an_answer.url = url
    engine = engine_for(url)
    who = Principal(1, "fuzz", role, (STREET,), f"dev-{role}")
    seed = Mutation(mutation_id=str(uuid.uuid4()), record_id=str(uuid.uuid4()), kind="site",
                      op="create", fields=site())
    [made] = push(engine, who, [seed])
    assert made["outcome"] == "applied"
    record_id = seed.record_id if op != "create" else str(uuid.uuid4())
    m = Mutation(mutation_id=str(uuid.uuid4()), record_id=record_id, kind=kind, op=op,
                   base_version=base, fields=fields)
    [result] = push(engine, who, [m])
    assert result["outcome"] in ("applied", "conflict", "rejected")
    if result["outcome"] == "rejected":
        reason = result["reason"]
        assert reason["code"] and reason["message"] and reason["message_zh"]
    else:  # applied with the version only when stored exactly as sent
        assert result["version"] >= 1
        assert "record" in result or result["outcome"] == "applied"
        assert result.get("record", {"grid_code": "as sent"})["grid_code"]
