"""The registry's HTTP API: `create_app(database_url)` builds the FastAPI app of PROTOCOL.md.

Also here: the protocol-version gate, the request body limit, one log line per request and
the error handlers that turn every failure into the protocol's JSON error (never a trace).
"""

from __future__ import annotations

import hmac
import logging
import time
from collections import Counter

import orjson
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync import protocol
from sync.protocol import HEADER, MAX_BODY, PULL_DEFAULT_LIMIT, PULL_MAX_LIMIT, UNGATED
from sync.protocol import VERSION as PROTOCOL
from sync.server import attachments, auth, blobstore, ops
from sync.server.areas import AreaChains
from sync.server.db import make_engine, normalise_url, reading, writing
from sync.server.metrics import Metrics
from sync.server.metrics import available as metrics_available
from sync.server.migrations import migrate
from sync.server.pull import history_dict, pull
from sync.server.push import HISTORY, RECORDS, load_record, push, record_dict
from sync.server.settings import settings

#: Routes that return dicts are checked against their protocol model and written with the keys
#: they set (no defaults added). Push and pull answers skip FastAPI's encoder for speed (their
#: shape is checked by tests/test_protocol.py).
SHAPED = {"response_model_exclude_unset": True,
          "responses": {status: {"model": protocol.ErrorBody} for status in (401, 403, 426)}}
HEADER_KEY = HEADER.lower().encode("latin-1")  # ASGI header names are lower-case bytes
log = logging.getLogger("fieldapp.server")


class ApiError(Exception):
    def __init__(self, status: int, code: str, en: str, zh: str, **extra) -> None:
        super().__init__(en)
        self.status, self.code, self.en, self.zh, self.extra = status, code, en, zh, extra


def error(status: int, code: str, en: str, zh: str, **extra) -> JSONResponse:
    return JSONResponse({"error": code, "message": en, "message_zh": zh, **extra},
                        status_code=status)


async def raw_body(request: Request) -> bytes:
    return await request.body()


def inline_schema(model) -> dict:  # noqa: ANN001
    """The model's JSON schema with its $defs written in place (for openapi_extra)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node):  # noqa: ANN001, ANN202
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.rsplit("/", 1)[1]])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)


def fast_json(body: dict) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


class Gate:
    """ASGI middleware: log line, protocol header, body size limit — before any route runs."""

    def __init__(self, app, metrics=None) -> None:  # noqa: ANN001
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), [0]
        scope.setdefault("state", {})

        async def send_logged(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            early = self._refuse(scope)
            if early is None and _streamed(scope):
                # Blobs (up to 20 MB) stream to and from disk; their routes enforce the limit.
                return await self._guarded(scope, receive, send_logged, status)
            if early is None:
                body = await _read_body(receive, MAX_BODY)
                if body is None:
                    early = error(413, "too_large", f"request body over {MAX_BODY} bytes",
                                  "请求内容过大")
            if early is not None:
                return await early(scope, receive, send_logged)
            await self._guarded(scope, _replay(body), send_logged, status)
        finally:
            seconds = time.perf_counter() - started
            code, user = status[0] or 500, _loggable(scope["state"].get("user", "-"))
            method, path = _loggable(scope["method"]), _loggable(scope["path"])
            log.info("%s %s %s %.1fms %s", method, path, code, seconds * 1000,
                     user, extra={"http": {"method": method, "path": path,
                                           "status": code, "ms": round(seconds * 1000, 1),
                                           "user": user}})
            if self.metrics is not None:
                route = getattr(scope.get("route"), "path", None) or "other"
                self.metrics.observe(route, scope["method"], code, seconds)

    async def _guarded(self, scope, receive, send, status: list) -> None:  # noqa: ANN001
        """The app, with an unexpected failure answered here as the protocol's JSON 500.

        Starlette's own last-resort handler answers too but then re-raises, and uvicorn
        closes the connection: the laptop's next request on it (the rest of its outbox)
        would fail as "cannot reach the server". One bad entry must cost one answer only."""
        try:
            await self.app(scope, receive, send)
        except Exception:
            log.exception("unhandled error")
            if status[0]:
                raise  # the answer had begun: nothing sensible can follow it
            await error(500, "internal_error", "the server failed; nothing was changed",
                        "服务器内部错误,未做任何修改")(scope, receive, send)

    @staticmethod
    def _refuse(scope) -> JSONResponse | None:  # noqa: ANN001
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"0")
        if not length.isdigit() or (int(length) > MAX_BODY and not _streamed(scope)):
            return error(413, "too_large", f"request body over {MAX_BODY} bytes", "请求内容过大")
        if scope["path"].startswith("/api/") and scope["path"] not in UNGATED:
            version = headers.get(HEADER_KEY, b"").decode("latin-1").strip()
            if version != str(PROTOCOL):
                return error(426, "upgrade_required",
                             f"this server speaks protocol {PROTOCOL}; update fieldapp",
                             f"服务器使用第 {PROTOCOL} 版同步协议,请升级 fieldapp",
                             protocol=PROTOCOL)
        return None


def _loggable(text: str) -> str:
    """`text` with every unprintable character escaped: a path holding %0A must not be able
    to start a forged line in the log (nor ESC to redraw an operator's terminal)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _streamed(scope) -> bool:  # noqa: ANN001
    # Uploads stream in, downloads stream out (a replayed receive would report a disconnect
    # mid-file), so blob requests pass unbuffered.
    return scope["path"].startswith(attachments.BLOB_PREFIX)


async def _read_body(receive, limit: int) -> bytes | None:  # noqa: ANN001
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes):  # noqa: ANN202
    sent = [False]

    async def receive() -> dict:
        if not sent[0]:
            sent[0] = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def create_app(database_url: str, *, migrate_schema: bool = True, pool_size: int | None = None,
               blob_dir: str | None = None, max_attachment: int | None = None,
               blob_store: str | None = None, user_quota: int | None = None) -> FastAPI:
    """The app on `database_url`; options not given come from sync/server/settings.py.
    `blob_store` is `dir:PATH` or `postgres` (see blobstore.open_store); `user_quota` the
    bytes of content one user may store (0: no limit)."""
    engine = make_engine(database_url, pool_size=pool_size or settings().pool_size)
    if migrate_schema:
        migrate(engine)
    app = FastAPI(title="fieldapp registry", version=f"protocol {PROTOCOL}",
                  description="Central registry for fieldapp laptops: see sync/PROTOCOL.md.")
    app.state.engine = engine
    store = blobstore.open_store(engine, normalise_url(database_url), blob_store, blob_dir)
    app.state.blob_store = store
    meter = Metrics(engine) if metrics_available() else None
    app.state.metrics = meter
    metrics_token = settings().metrics_token or ""
    bearer = HTTPBearer(auto_error=False)

    def principal(request: Request,
                  cred: HTTPAuthorizationCredentials | None = Depends(bearer)) -> auth.Principal:
        if cred is None or cred.scheme.lower() != "bearer" or len(cred.credentials) > 200:
            raise ApiError(401, "unauthorized", "a device credential is required",
                           "需要设备凭证,请先注册本机")
        with reading(engine) as conn:
            who = auth.principal_for(conn, cred.credentials)
            if who is None and auth.revoked_reason(conn, cred.credentials) == "cloned":
                raise copied()
        if who is None:
            raise ApiError(401, "unauthorized", "the credential is unknown or revoked",
                           "设备凭证无效或已被停用")
        request.state.user = who.name
        return who

    def copied(status: int = 401) -> ApiError:
        # 409 where the copy is caught (the status report), 401 for every request after.
        return ApiError(status, "credential_copied",
                        "this credential was used by two devices (a copied data folder or "
                        "disk) and has been revoked: ask for a new token and enroll again",
                        "此设备凭证被两台设备同时使用(数据文件夹或磁盘被复制),已停用:"
                        "请向管理员索取新的注册码并重新登记本机")

    @app.get("/api/v1/health", response_model=protocol.Health, **SHAPED)
    def health() -> dict:
        """Liveness: the process answers. Does not touch the database."""
        return {"ok": True, "protocol": PROTOCOL}

    @app.get("/api/v1/health/ready", response_model=protocol.Ready,
             responses={503: {"model": protocol.ErrorBody}})
    def health_ready() -> Response:
        """Readiness for a load balancer: database reachable, schema current, store usable."""
        try:
            return fast_json({**ops.ready(engine, store), "protocol": PROTOCOL})
        except Exception as exc:  # noqa: BLE001  (any failure means: send traffic elsewhere)
            log.warning("not ready: %s", type(exc).__name__)
            return error(503, "not_ready", f"not ready: {type(exc).__name__}",
                         "服务暂不可用", protocol=PROTOCOL)

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        # Off the public API: only with the metrics token (or on --metrics-port).
        given = request.headers.get("authorization", "")
        if meter is None or not metrics_token or not hmac.compare_digest(
                given.encode(), f"Bearer {metrics_token}".encode()):
            raise ApiError(404, "not_found", "Not Found", "请求的地址或方法不对")
        body, content_type = meter.exposition()
        return Response(body, media_type=content_type)

    @app.post("/api/v1/status", response_model=protocol.StatusAnswer, **SHAPED)
    def status(body: protocol.StatusRequest, request: Request,
               cred: HTTPAuthorizationCredentials | None = Depends(bearer),
               who: auth.Principal = Depends(principal)) -> dict:
        client = request.client.host if request.client else None
        held = auth.digest(cred.credentials)
        if body.sequence is not None and not ops.sequence_holds(
                engine, who, held, body.sequence, body.sequence_tag):
            raise copied(409)
        ops.record_status(engine, who, held, body.model_dump(), client)
        return {"server_time": auth.utcnow(), "generation": ops.generation(engine),
                "protocol": PROTOCOL, "user": who.as_dict()}

    @app.post("/api/v1/enroll", response_model=protocol.EnrollAnswer, **SHAPED)
    def enroll(body: protocol.EnrollRequest, request: Request) -> dict:
        client = request.client.host if request.client else "?"
        with reading(engine) as conn:
            if auth.too_many_failures(conn, client):
                raise ApiError(429, "too_many_attempts",
                               "too many failed enrolments: wait a minute",
                               "注册失败次数过多,请一分钟后再试")
        try:
            with writing(engine) as conn:
                done = auth.enroll(conn, body.token, body.device_name, body.nonce)
        except auth.EnrollError as exc:
            with writing(engine) as conn:
                auth.record_failure(conn, client)
            raise ApiError(401, exc.code, exc.en, exc.zh) from None
        request.state.user = done.user["name"]
        ops.log_activity(engine, auth.Principal(0, done.user["name"], done.user["role"], (),
                                                done.device_id), "enroll",
                         detail=body.device_name)
        return {"credential": done.credential, "user": done.user, "device_id": done.device_id}

    @app.get("/api/v1/me", response_model=protocol.UserInfo, **SHAPED)
    def me(who: auth.Principal = Depends(principal)) -> dict:
        return who.as_dict()

    push_body = inline_schema(protocol.PushRequest)

    @app.post("/api/v1/push", response_model=protocol.PushAnswer, openapi_extra={"requestBody": {
        "required": True, "content": {"application/json": {"schema": push_body}}}})
    def push_batch(body: bytes = Depends(raw_body),
                   cred: HTTPAuthorizationCredentials | None = Depends(bearer),
                   who: auth.Principal = Depends(principal)) -> Response:
        # pydantic-core parses the JSON itself (half the time of json.loads + validation), and
        # the answer skips FastAPI's encoder: both matter for a 500-mutation batch.
        try:
            batch = protocol.PushRequest.model_validate_json(body)
        except ValidationError as exc:
            raise RequestValidationError(exc.errors()) from None
        results = push(engine, who, batch.mutations)
        outcomes = Counter(r["outcome"] for r in results)
        if meter is not None:
            for outcome, n in outcomes.items():
                meter.mutations.labels(outcome).inc(n)
        ops.log_activity(engine, who, "push", len(results),
                         ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())),
                         credential_hash=auth.digest(cred.credentials))
        return fast_json({"results": results})

    @app.get("/api/v1/pull", response_model=protocol.PullPage)
    def pull_page(cursor: str | None = Query(default=None, max_length=200),
                  limit: int = Query(default=PULL_DEFAULT_LIMIT, ge=1, le=PULL_MAX_LIMIT),
                  who: auth.Principal = Depends(principal)) -> Response:
        page = pull(engine, who, cursor, limit)
        if meter is not None:
            meter.pulled.inc(len(page["changes"]))
        return fast_json(page)

    def visible_record(conn, record_id: str, who: auth.Principal) -> dict:  # noqa: ANN001
        try:
            # Never send a NUL (or anything but an id) to the database.
            record_id = protocol.canonical_uuid(record_id)
        except ValueError:
            raise ApiError(404, "not_found", "no such record", "没有该记录") from None
        row = conn.execute(select(RECORDS).where(RECORDS.c.id == record_id)).first()
        if row is None:
            raise ApiError(404, "not_found", "no such record", "没有该记录")
        # 403 (PROTOCOL.md) reveals only that a random UUID exists, never its content.
        if not who.covers(AreaChains(conn).scope_codes(row.grid_code)):
            raise ApiError(403, "out_of_scope", "this record is outside your scope",
                           "该记录不在您的负责范围内")
        return load_record(row)

    @app.get("/api/v1/records/{record_id}", response_model=protocol.Record, **SHAPED)
    def get_record(record_id: str, who: auth.Principal = Depends(principal)) -> dict:
        with reading(engine) as conn:
            return record_dict(visible_record(conn, record_id, who))

    @app.get("/api/v1/records/{record_id}/history", response_model=protocol.HistoryAnswer,
             **SHAPED)
    def get_history(record_id: str, who: auth.Principal = Depends(principal)) -> dict:
        with reading(engine) as conn:
            record = visible_record(conn, record_id, who)
            rows = conn.execute(select(HISTORY).where(HISTORY.c.record_id == record["id"])
                                .order_by(HISTORY.c.seq))
            return {"history": [history_dict(h) for h in rows]}

    if user_quota is None:
        user_quota = settings().user_quota_bytes
    app.include_router(attachments.router(
        engine, principal, store, max_attachment or attachments.max_size_default(),
        user_quota, meter, on_stored=lambda who, n: ops.log_activity(
            engine, who, "attachments", n)))
    install_error_handlers(app)
    declare_errors(app)
    app.add_middleware(Gate, metrics=meter)
    return app


#: Error statuses each route can answer, beyond its own success (checked by schemathesis in
#: tests/test_schemathesis.py: no status the registry sends may be missing from OpenAPI).
#: Every gated /api/ route: 400 malformed, 413 too large, 422 invalid, 426 protocol; with a
#: credential also 401 and 503 (database down, try later).
ERROR_TEXT = {400: "malformed JSON", 401: "no, unknown, revoked or copied credential",
              403: "outside the user's scope", 404: "no such record or file (or not yours)",
              409: "the credential is also used on another device: enroll again",
              413: "request body or file too large, or storage quota used up",
              415: "file type not accepted", 422: "invalid request",
              426: "protocol version not spoken: update fieldapp",
              429: "too many failed enrolments: wait a minute",
              503: "database unavailable: try later"}
ROUTE_ERRORS = {
    ("/api/v1/enroll", "post"): (429, 503),
    ("/api/v1/status", "post"): (409,),
    ("/api/v1/records/{record_id}", "get"): (403, 404),
    ("/api/v1/records/{record_id}/history", "get"): (403, 404),
    ("/api/v1/blobs/{sha256}", "get"): (404,),
    ("/api/v1/blobs/{sha256}", "head"): (404,),
    ("/api/v1/blobs/{sha256}", "put"): (415,),
}


def statuses_of(path: str, method: str) -> set[int]:
    if not path.startswith("/api/") or path in UNGATED:
        return set()
    codes = {400, 413, 422, 426, 401, 503}
    if path == "/api/v1/enroll":
        codes -= {503}
    return codes | set(ROUTE_ERRORS.get((path, method), ()))


def declare_errors(app: FastAPI) -> None:
    """Add the protocol's error answers (ErrorBody) to each operation of the OpenAPI document;
    FastAPI's own 422 schema is replaced, since this registry answers ErrorBody there too."""
    made = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = made()
        schema.setdefault("components", {}).setdefault("schemas", {})["ErrorBody"] = \
            protocol.ErrorBody.model_json_schema()
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                answers = operation.setdefault("responses", {})
                for code in sorted(statuses_of(path, method)):
                    answers[str(code)] = {
                        "description": ERROR_TEXT[code],
                        "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
                if method == "head":  # answers of HEAD carry headers only
                    for answer in answers.values():
                        answer.pop("content", None)
        for name in ("HTTPValidationError", "ValidationError"):
            schema["components"]["schemas"].pop(name, None)
        return schema

    app.openapi = openapi



def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_r: Request, exc: ApiError) -> JSONResponse:
        return error(exc.status, exc.code, exc.en, exc.zh, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        problems = exc.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return error(400, "malformed_json", "the request body is not valid JSON",
                         "请求内容不是有效的 JSON")
        # Keep where and why; drop the echoed input (it may be large, or hold a phone number).
        details = [{"where": ".".join(str(x) for x in p.get("loc", ())), "why": p.get("msg", "")}
                   for p in problems[:20]]
        first = details[0] if details else {"where": "?", "why": "invalid"}
        return error(422, "invalid_request", f"{first['where']}: {first['why']}",
                     f"请求格式不对: {first['where']}", details=details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_r: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error(exc.status_code, code, str(exc.detail), "请求的地址或方法不对")

    @app.exception_handler(OperationalError)
    async def _db_down(_r: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", type(exc.orig).__name__)
        return error(503, "unavailable", "the registry database is unavailable, try later",
                     "登记库暂时不可用,请稍后再试")

    @app.exception_handler(Exception)
    async def _crash(_r: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error(500, "internal_error", "the server failed; nothing was changed",
                     "服务器内部错误,未做任何修改")
