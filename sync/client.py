"""The laptop's HTTP client for the registry (sync/PROTOCOL.md): headers, timeouts, errors.

Every failure comes out as one of a few exceptions with a bilingual message, so the engine
and the CLI can tell "try again later" (Offline, ServerError) from "the user must act"
(UpgradeRequired, Unauthorized, Refused). Every answer is parsed into the models of
sync/protocol.py; one that does not fit is a ServerError, never half-applied.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from sync import protocol

PUSH_LIMIT = protocol.MAX_BATCH
Model = TypeVar("Model", bound=BaseModel)


class SyncError(Exception):
    """A sync failure with a Chinese and an English message; `retriable` if waiting may fix it."""

    retriable = False
    status: int | None = None  # the HTTP status of the answer, if there was one

    def __init__(self, zh: str, en: str, detail: str = "") -> None:
        super().__init__(f"{en} ({detail})" if detail else en)
        self.zh, self.en, self.detail = zh, en, detail

    def message(self, lang: str = "zh") -> str:
        text = f"{self.zh} / {self.en}" if lang == "zh" else self.en
        return f"{text} ({self.detail})" if self.detail else text


class Offline(SyncError):
    """Connection refused, timed out, reset or cut short: the server may or may not have acted."""

    retriable = True


class ServerError(SyncError):
    """The server answered with an error or an answer that makes no sense."""

    def __init__(self, zh: str, en: str, detail: str = "", retriable: bool = True) -> None:
        super().__init__(zh, en, detail)
        self.retriable = retriable


class UpgradeRequired(SyncError):
    """HTTP 426: this program speaks a protocol version the server no longer accepts."""


class Unauthorized(SyncError):
    """HTTP 401: the credential is unknown or revoked; the user must enroll again."""


class Refused(SyncError):
    """HTTP 403 or another 4xx on a whole request (enrollment token used, out of scope...)."""


@contextmanager
def _transport_errors() -> Iterator[None]:
    """httpx's transport failures as Offline: refused, reset, timed out or cut off mid-answer
    all mean "no usable answer", so the caller retries later with the same mutation ids."""
    import httpx

    try:
        yield
    except httpx.TimeoutException as exc:
        raise Offline("连接同步服务器超时", "the sync server did not answer in time",
                      type(exc).__name__) from exc
    except httpx.TransportError as exc:
        raise Offline("无法连接同步服务器", "cannot reach the sync server",
                      f"{type(exc).__name__}: {exc}"[:200]) from exc


def _body(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class RegistryClient:
    """One registry server, optionally with a device credential. Use as a context manager."""

    def __init__(self, server: str, credential: str | None = None, *, timeout: float = 30.0,
                 connect_timeout: float = 5.0) -> None:
        import httpx

        self.server = server.rstrip("/")
        self.credential = credential
        headers = {protocol.HEADER: str(protocol.VERSION), "User-Agent": "fieldapp-sync/1"}
        if credential:
            headers["Authorization"] = f"Bearer {credential}"
        self._http = httpx.Client(
            base_url=self.server, headers=headers, follow_redirects=False,
            timeout=httpx.Timeout(timeout, connect=connect_timeout))

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- endpoints ----------------------------------------------------------------------------
    def health(self) -> protocol.Health:
        return self._parse(protocol.Health, self._request("GET", "/api/v1/health"))

    def enroll(self, token: str, device_name: str, nonce: str | None = None
               ) -> protocol.EnrollAnswer:
        body = {"token": token, "device_name": device_name}
        if nonce:
            body["nonce"] = nonce
        return self._parse(protocol.EnrollAnswer, self._request("POST", "/api/v1/enroll",
                                                                json=body))

    def me(self) -> protocol.UserInfo:
        return self._parse(protocol.UserInfo, self._request("GET", "/api/v1/me"))

    def status(self, report: dict) -> protocol.StatusAnswer | None:
        """Tell the registry this laptop's version and outbox depth; answers the server's
        time and generation, or None from a registry that predates the endpoint."""
        response = self._send("POST", "/api/v1/status", json=report)
        if response.status_code == 404:
            return None
        self._check(response, "/api/v1/status")
        return self._parse(protocol.StatusAnswer, response.content)

    def push(self, mutations: list[dict]) -> list[protocol.Result]:
        """Send a batch of Mutations (wire dicts); one Result per mutation, in order."""
        if len(mutations) > PUSH_LIMIT:
            raise ValueError(f"at most {PUSH_LIMIT} mutations per push")
        import orjson

        try:
            content = orjson.dumps({"mutations": mutations})
        except orjson.JSONEncodeError as exc:  # e.g. an integer beyond 64 bits
            error = Refused("该条目无法编码发送", "an entry cannot be encoded for sending",
                            str(exc)[:200])
            error.status = 400
            raise error from None
        body = self._request("POST", "/api/v1/push", content=content,
                             headers={"Content-Type": "application/json"})
        results = self._parse(protocol.PushAnswer, body).results
        if [r.mutation_id for r in results] != [m["mutation_id"] for m in mutations]:
            # Applying answers to the wrong rows would lose data; treat it as no answer.
            raise ServerError("服务器的回复与发送的内容不符", "the server's answer does not match "
                              "what was sent", "push results out of order or missing")
        return results

    def pull(self, cursor: str | None, limit: int = protocol.PULL_DEFAULT_LIMIT
             ) -> protocol.PullPage:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return self._parse(protocol.PullPage, self._request("GET", "/api/v1/pull",
                                                            params=params))

    # -- attachments (sync/attachment_sync.py) ----------------------------------------------
    def blob_exists(self, sha256: str) -> bool:
        """HEAD: does the registry hold this content already? (then it is never sent again)"""
        response = self._send("HEAD", f"/api/v1/blobs/{sha256}")
        if response.status_code == 404:
            return False
        if response.status_code == 200:
            return True
        self._check(response, "blob")
        raise ServerError("服务器的回复无法理解", "the server's answer is not understood",
                          f"HEAD blob HTTP {response.status_code}")

    def put_blob(self, sha256: str, content: bytes) -> protocol.BlobStored:
        return self._parse(protocol.BlobStored, self._request(
            "PUT", f"/api/v1/blobs/{sha256}", content=content,
            headers={"Content-Type": "application/octet-stream"}))

    def post_attachments(self, rows: list[dict]) -> list[protocol.AttachmentResult]:
        body = self._request("POST", "/api/v1/attachments", json={"attachments": rows})
        results = self._parse(protocol.AttachmentsAnswer, body).results
        if [r.id for r in results] != [r["id"] for r in rows]:
            raise ServerError("服务器的回复与发送的内容不符", "the server's answer does not match "
                              "what was sent", "attachment results out of order or missing")
        return results

    def get_blob(self, sha256: str, out) -> int:
        """Stream the content into the binary file `out`; returns the bytes written."""
        with _transport_errors(), self._http.stream("GET", f"/api/v1/blobs/{sha256}") as response:
            if response.status_code != 200:
                response.read()
                self._check(response, "blob")
                raise ServerError("服务器的回复无法理解", "the server's answer is not "
                                  "understood", f"GET blob HTTP {response.status_code}")
            written = 0
            for chunk in response.iter_bytes(1024 * 1024):
                out.write(chunk)
                written += len(chunk)
            return written

    # -- plumbing -----------------------------------------------------------------------------
    def _send(self, method: str, path: str, **kwargs: Any):
        with _transport_errors():
            return self._http.request(method, path, **kwargs)

    def _request(self, method: str, path: str, **kwargs: Any) -> bytes:
        response = self._send(method, path, **kwargs)
        self._check(response, path)
        return response.content

    @staticmethod
    def _parse(model: type[Model], content: bytes) -> Model:
        """The answer as its protocol model; one that does not fit is no answer at all."""
        try:
            return model.model_validate_json(content)
        except ValidationError as exc:
            problem = exc.errors()[0] if exc.errors() else {}
            where = ".".join(str(x) for x in problem.get("loc", ()))
            raise ServerError("服务器的回复无法理解", "the server's answer is not understood",
                              f"{model.__name__} {where}: {problem.get('msg', '')}"[:200]
                              ) from None

    def _check(self, response, path: str = "") -> None:
        """Raise the exception an error answer means; a 2xx body is read by `_parse`."""
        status = response.status_code
        if status < 400:
            return
        body = _body(response)
        zh = body.get("message_zh") or ""
        en = body.get("message") or ""
        if status == 426:
            raise UpgradeRequired(zh or "同步协议版本过旧,请升级 fieldapp",
                                  en or "this fieldapp is too old for the server: please upgrade")
        if status == 401 and path.endswith("/enroll"):
            raise Refused(zh or "登记令牌无效", en or "the enrollment token is not valid",
                          body.get("error", ""))
        if status == 401 and body.get("error") == "credential_copied":
            raise Unauthorized(zh, en, "credential_copied")
        if status == 401:
            raise Unauthorized(
                "登录凭据无效或已被撤销,请重新登记本机 (fieldapp enroll)",
                "the credential is unknown or revoked: enroll this laptop again "
                "(fieldapp enroll)", en)
        if status == 429 or status >= 500:
            error = ServerError(zh or "同步服务器暂时出错", en or "the sync server had a problem",
                                f"HTTP {status}", retriable=True)
        else:
            error = Refused(zh or "服务器拒绝了请求", en or "the server refused the request",
                            f"HTTP {status} {body.get('error', '')}".strip())
        error.status = status
        raise error
