"""Schemathesis against the real registry over real HTTP, on SQLite and PostgreSQL: every
operation of its OpenAPI document gets generated valid and invalid requests (with a real
credential and without). No answer may be a 5xx, and every status, content type and body must
be the one the document declares (400, 401, 403, 404, 409, 413, 415, 422, 426, 429, 503
included: sync/server/app.py ROUTE_ERRORS).

Bounded: FIELDAPP_SCHEMATHESIS_EXAMPLES per operation and mode (default 40), derandomized,
so a CI run takes about a minute a backend; raise it by hand for a long run."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from server_support import BACKENDS, mutation, push, registry_for

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("FIELDAPP_SCHEMATHESIS_EXAMPLES", "40"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def _run(operation, base: str, headers: dict, seen: dict, **fixed) -> str | None:  # noqa: ANN001
    """One operation in both modes; the first failure's text, or None."""
    for mode in GenerationMode:
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.generate, Phase.shrink])
        @given(case=operation.as_strategy(mode, **fixed))
        def check(case) -> None:  # noqa: ANN001
            response = case.call(base_url=base, headers=headers)
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except Unsatisfiable:
            continue  # nothing to make invalid (no parameters, no body): the valid run holds
        except Exception as exc:  # noqa: BLE001  (collected: every operation is tried)
            return f"{operation.label} ({mode.value}): {exc}"[:3000]
    return None


@pytest.mark.parametrize("backend", BACKENDS)
def test_registry_answers_only_what_its_openapi_declares(backend, tmp_path):
    with registry_for(backend, tmp_path) as reg:
        worker = reg.user("wangfang")
        # The status report moves the credential's sync sequence: random ones are a copied
        # credential (409, then revoked), so it gets a credential of its own.
        reporter = reg.user("zhaoli")
        record = mutation()
        push(worker, record)
        schema = schemathesis.openapi.from_url(f"{reg.base}/openapi.json")
        failures, seen = [], {}
        for result in schema.get_all_operations():
            operation = result.ok()
            who = reporter if operation.path == "/api/v1/status" else worker
            headers = {"X-Fieldapp-Protocol": "1",
                       "Authorization": who.headers["Authorization"]}
            failures.append(_run(operation, reg.base, headers, seen))
            if "{record_id}" in operation.path:  # and once on a record that exists
                failures.append(_run(operation, reg.base, headers, seen,
                                     path_parameters={"record_id": record["record_id"]}))
        failures = [f for f in failures if f]
        assert not failures, "\n\n".join(failures)
        assert not [s for s in seen if s >= 500], seen
        # The run reached past the door: answers, refusals and a copied credential's 409.
        assert {200, 401, 404, 409, 422}.issubset(seen), seen
