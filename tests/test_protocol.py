"""The typed protocol (sync/protocol.py) against its document and against the real registry.

Every example in sync/PROTOCOL.md parses with the model it names and comes back unchanged;
every answer the registry gives in a real push/pull/attachment exchange fits its model with
no key the model does not know. So the document, the models and the server cannot drift.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from pathlib import Path

import pytest
from attachment_support import jpeg_bytes
from pydantic import BaseModel, ValidationError
from server_support import GRID, GRID_OTHER_STREET, client, mutation, registry_for, site

from fieldapp.domain.records import KINDS
from sync import protocol

DOC = Path(__file__).resolve().parent.parent / "sync" / "PROTOCOL.md"
BLOCK = re.compile(r"^```json (\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
#: Models that are a whole request or answer body: each needs an example of its own.
BODIES = {"EnrollRequest", "PushRequest", "AttachmentsRequest", "Health", "UserInfo",
          "EnrollAnswer", "Record", "PushAnswer", "PullPage", "AttachmentsAnswer", "BlobStored",
          "HistoryAnswer", "ErrorBody", "Mutation"}


def examples() -> list[tuple[str, str]]:
    return BLOCK.findall(DOC.read_text(encoding="utf-8"))


def round_trip(model: type[BaseModel], raw: dict) -> BaseModel:
    """Parse `raw` with `model`; dumping it again must give back exactly `raw`."""
    parsed = model.model_validate(raw)
    assert parsed.model_dump(mode="json", exclude_unset=True) == raw
    return parsed


@pytest.mark.parametrize("name,text", examples(), ids=[n for n, _ in examples()])
def test_every_example_in_the_document_round_trips(name, text):
    assert name in protocol.MODELS, f"PROTOCOL.md names an unknown model {name}"
    raw = json.loads(text)
    model = protocol.MODELS[name]
    round_trip(model, raw)
    # As the wire carries it: pydantic-core parsing the bytes gives the same.
    again = model.model_validate_json(text.encode("utf-8"))
    assert again.model_dump(mode="json", exclude_unset=True) == raw


def test_the_document_shows_every_body_and_every_outcome():
    found = examples()
    assert BODIES <= {name for name, _ in found}
    pushed = [json.loads(t) for n, t in found if n == "PushAnswer"]
    outcomes = {r["outcome"] for answer in pushed for r in answer["results"]}
    assert outcomes == {"applied", "already_applied", "conflict", "rejected"}
    ops = {c["op"] for n, t in found if n == "PullPage" for c in json.loads(t)["changes"]}
    assert {"upsert", "evict"} <= ops


def test_kinds_come_from_the_record_definitions():
    assert protocol.Mutation.model_json_schema()["properties"]["kind"]["enum"] == list(KINDS)
    base = json.loads(dict(examples())["Mutation"])
    for kind in KINDS:
        protocol.Mutation.model_validate({**base, "kind": kind})
    with pytest.raises(ValidationError):
        protocol.Mutation.model_validate({**base, "kind": "shop"})


def test_requests_are_strict_and_answers_lenient():
    base = json.loads(dict(examples())["Mutation"])
    for bad in ({**base, "extra": 1}, {**base, "base_version": "1"},
                {**base, "fields": {"a": {"nested": 1}}}, {**base, "mutation_id": "x"}):
        with pytest.raises(ValidationError):
            protocol.Mutation.model_validate(bad)
    with pytest.raises(ValidationError):
        protocol.PushRequest.model_validate({"mutations": [base] * (protocol.MAX_BATCH + 1)})
    # A newer registry may add keys: an older laptop ignores them.
    health = protocol.Health.model_validate({"ok": True, "protocol": 1, "build": "x"})
    assert health.ok and not hasattr(health, "build")


def test_the_client_and_the_server_share_one_version_and_header(tmp_path):
    from sync.client import RegistryClient

    with registry_for("sqlite", tmp_path) as reg:
        with RegistryClient(reg.base) as c:
            assert c._http.headers[protocol.HEADER] == str(protocol.VERSION)
            assert c.health().protocol == protocol.VERSION
        with client(reg.base, protocol=str(protocol.VERSION + 1)) as old:
            r = old.get("/api/v1/me")
        assert r.status_code == 426
        round_trip(protocol.ErrorBody, r.json())
        openapi = client(reg.base).get("/openapi.json").json()
        schemas = openapi["components"]["schemas"]
        assert {"PushAnswer", "PullPage", "Record", "ErrorBody"} <= set(schemas)
        push_body = openapi["paths"]["/api/v1/push"]["post"]["requestBody"]
        mutations = push_body["content"]["application/json"]["schema"]["properties"]
        assert mutations["mutations"]["maxItems"] == protocol.MAX_BATCH


def test_real_answers_fit_their_models_exactly(tmp_path):
    """A push with every outcome, pulls with upsert/delete/evict, attachments, history."""
    with registry_for("sqlite", tmp_path) as reg:
        with client(reg.base) as anonymous:
            round_trip(protocol.Health, anonymous.get("/api/v1/health").json())
        from sync.server import admin

        token = admin.add_user(reg.url, "wangfang", "worker", "310104003")
        with client(reg.base) as c:
            r = c.post("/api/v1/enroll", json={"token": token, "device_id": "d1",
                                                "device_name": "x"})
        enrolled = round_trip(protocol.EnrollAnswer, r.json())
        worker = client(reg.base, enrolled.credential)
        boss = reg.user("li", "supervisor", "310104")
        round_trip(protocol.UserInfo, worker.get("/api/v1/me").json())

        first = mutation(fields=site())
        bad = mutation(fields=site(usable_area=1))
        answer = round_trip(protocol.PushAnswer, worker.post(
            "/api/v1/push", json={"mutations": [first, bad]}).json())
        assert [r.outcome for r in answer.results] == ["applied", "rejected"]
        record_id = first["record_id"]
        again = round_trip(protocol.PushAnswer, worker.post(
            "/api/v1/push", json={"mutations": [first]}).json())
        assert again.results[0].outcome == "already_applied"
        theirs = mutation("update", {"usable_area": 80}, record_id, 1)
        mine = mutation("update", {"usable_area": 95}, record_id, 1)
        round_trip(protocol.PushAnswer, boss.post("/api/v1/push",
                                                  json={"mutations": [theirs]}).json())
        clash = round_trip(protocol.PushAnswer, worker.post(
            "/api/v1/push", json={"mutations": [mine]}).json())
        assert clash.results[0].outcome == "conflict"

        content = jpeg_bytes(2000)
        sha = hashlib.sha256(content).hexdigest()
        round_trip(protocol.BlobStored, worker.put(
            f"/api/v1/blobs/{sha}", content=content,
            headers={"Content-Type": "application/octet-stream"}).json())
        row = {"id": str(uuid.uuid4()), "record_id": record_id, "sha256": sha,
               "name": "门面.jpg", "kind": "photo", "mime": "image/jpeg", "size": len(content),
               "caption": "", "created_at": "2026-01-05T10:00:00+08:00", "deleted": False}
        orphan = {**row, "id": str(uuid.uuid4()), "record_id": str(uuid.uuid4())}
        stored = round_trip(protocol.AttachmentsAnswer, worker.post(
            "/api/v1/attachments", json={"attachments": [row, orphan]}).json())
        assert [r.outcome for r in stored.results] == ["stored", "rejected"]

        round_trip(protocol.Record, worker.get(f"/api/v1/records/{record_id}").json())
        round_trip(protocol.HistoryAnswer,
                   worker.get(f"/api/v1/records/{record_id}/history").json())
        page = round_trip(protocol.PullPage, worker.get("/api/v1/pull").json())
        assert page.areas and page.history and page.attachments
        assert {c.op for c in page.changes} == {"upsert"}

        # Deleted elsewhere, and another record moved out of the worker's scope.
        gone = mutation(fields=site())
        round_trip(protocol.PushAnswer, worker.post("/api/v1/push",
                                                    json={"mutations": [gone]}).json())
        moves = [mutation("update", {"grid_code": GRID_OTHER_STREET}, gone["record_id"], 1),
                 mutation("delete", {}, record_id, 3)]
        round_trip(protocol.PushAnswer, boss.post("/api/v1/push",
                                                  json={"mutations": moves}).json())
        later = round_trip(protocol.PullPage, worker.get(
            "/api/v1/pull", params={"cursor": page.cursor}).json())
        assert {c.op for c in later.changes} == {"delete", "evict"}
        assert site()["grid_code"] == GRID
        worker.close()
