"""The laptop's HTTP client for the registry (sync/PROTOCOL.md): headers, timeouts, errors.

Every failure comes out as one of a few exceptions with a bilingual message, so the engine
and the CLI can tell "try again later" (Offline, ServerError) from "the user must act"
(UpgradeRequired, Unauthorized, Refused).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

PROTOCOL_VERSION = 1
PUSH_LIMIT = 500
HEADER = "X-Fieldapp-Protocol"


class SyncError(Exception):
    """A sync failure with a Chinese and an English message; `retriable` if waiting may fix it."""

    retriable = False

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
        headers = {HEADER: str(PROTOCOL_VERSION), "User-Agent": "fieldapp-sync/1"}
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
    def health(self) -> dict:
        return self._request("GET", "/api/v1/health")

    def enroll(self, token: str, device_id: str, device_name: str) -> dict:
        return self._request("POST", "/api/v1/enroll", json={
            "token": token, "device_id": device_id, "device_name": device_name})

    def me(self) -> dict:
        return self._request("GET", "/api/v1/me")

    def push(self, mutations: list[dict]) -> list[dict]:
        if len(mutations) > PUSH_LIMIT:
            raise ValueError(f"at most {PUSH_LIMIT} mutations per push")
        body = self._request("POST", "/api/v1/push", json={"mutations": mutations})
        results = body.get("results")
        ids = [m["mutation_id"] for m in mutations]
        if not isinstance(results, list) or [r.get("mutation_id") for r in results] != ids:
            # Applying answers to the wrong rows would lose data; treat it as no answer.
            raise ServerError("服务器的回复与发送的内容不符", "the server's answer does not match "
                              "what was sent", "push results out of order or missing")
        return results

    def pull(self, cursor: str | None, limit: int = 500) -> dict:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        body = self._request("GET", "/api/v1/pull", params=params)
        if not isinstance(body.get("changes"), list) or "cursor" not in body:
            raise ServerError("服务器的回复不完整", "the server's answer is incomplete",
                              "pull page without changes or cursor")
        return body

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

    def put_blob(self, sha256: str, content: bytes) -> dict:
        return self._request("PUT", f"/api/v1/blobs/{sha256}", content=content,
                             headers={"Content-Type": "application/octet-stream"})

    def post_attachments(self, rows: list[dict]) -> list[dict]:
        body = self._request("POST", "/api/v1/attachments", json={"attachments": rows})
        results = body.get("results")
        if not isinstance(results, list) or [r.get("id") for r in results] != [
                r["id"] for r in rows]:
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

    def _request(self, method: str, path: str, **kwargs: Any) -> dict:
        return self._check(self._send(method, path, **kwargs), path)

    def _check(self, response, path: str = "") -> dict:
        status = response.status_code
        body = _body(response)
        zh = body.get("message_zh") or ""
        en = body.get("message") or ""
        if status == 426:
            raise UpgradeRequired(zh or "同步协议版本过旧,请升级 fieldapp",
                                  en or "this fieldapp is too old for the server: please upgrade")
        if status == 401 and path.endswith("/enroll"):
            raise Refused(zh or "登记令牌无效", en or "the enrollment token is not valid",
                          body.get("error", ""))
        if status == 401:
            raise Unauthorized(
                "登录凭据无效或已被撤销,请重新登记本机 (fieldapp enroll)",
                "the credential is unknown or revoked: enroll this laptop again "
                "(fieldapp enroll)", en)
        if status == 429 or status >= 500:
            raise ServerError(zh or "同步服务器暂时出错", en or "the sync server had a problem",
                              f"HTTP {status}", retriable=True)
        if status >= 400:
            raise Refused(zh or "服务器拒绝了请求", en or "the server refused the request",
                          f"HTTP {status} {body.get('error', '')}".strip())
        if not body and response.content.strip() not in (b"{}",):
            raise ServerError("服务器的回复无法解析", "the server's answer cannot be read",
                              f"HTTP {status}, {len(response.content)} bytes")
        return body
