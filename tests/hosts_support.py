"""Several registry hosts for tests: real `fieldapp serve` processes and a round-robin HTTP
load balancer in front of them (each request to the next host, as a cloud balancer may do).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from faultproxy import _Closed, _read_message
from server_support import free_port


class RegistryProcess:
    """`fieldapp serve` in its own process on a free loopback port."""

    def __init__(self, database_url: str, home: Path, *options: str) -> None:
        self.port = free_port()
        home.mkdir(parents=True, exist_ok=True)
        self.log_path = home / f"serve-{self.port}.log"
        self._log = open(self.log_path, "w", encoding="utf-8")  # noqa: SIM115
        env = {**os.environ, "FIELDAPP_HOME": str(home)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fieldapp", "serve", "--database-url", database_url,
             "--port", str(self.port), *options], env=env, stdout=self._log,
            stderr=subprocess.STDOUT)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60) -> RegistryProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"fieldapp serve exited: {self.log_path.read_text('utf-8')}")
            try:
                if httpx.get(f"{self.url}/api/v1/health/ready", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("registry did not become ready")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


class RoundRobin:
    """An HTTP/1.1 balancer on a loopback port: each request goes to the next upstream."""

    def __init__(self, upstream_ports: list[int]) -> None:
        self.upstreams = list(upstream_ports)
        self.served: Counter = Counter()  # upstream port → requests
        self._next = 0
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RoundRobin:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._listener.close()
        except OSError:
            pass

    def _pick(self) -> int:
        with self._lock:
            port = self.upstreams[self._next % len(self.upstreams)]
            self._next += 1
            self.served[port] += 1
            return port

    def _accept_loop(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        conns: dict[int, tuple[socket.socket, bytearray]] = {}
        buf = bytearray()
        try:
            while True:
                request = _read_message(client, buf)
                port = self._pick()
                if port not in conns:
                    conns[port] = (socket.create_connection(("127.0.0.1", port), 30),
                                   bytearray())
                upstream, ubuf = conns[port]
                upstream.sendall(request)
                head_only = request.startswith(b"HEAD ")
                client.sendall(_read_response(upstream, ubuf, head_only))
        except (_Closed, OSError, ValueError):
            return
        finally:
            for s in [client, *(c for c, _ in conns.values())]:
                try:
                    s.close()
                except OSError:
                    pass


def _read_response(sock: socket.socket, buf: bytearray, head_only: bool) -> bytes:
    if not head_only:
        return _read_message(sock, buf)
    while b"\r\n\r\n" not in buf:  # a HEAD answer has headers only, whatever they say
        chunk = sock.recv(65536)
        if not chunk:
            raise _Closed()
        buf.extend(chunk)
    end = buf.index(b"\r\n\r\n") + 4
    message = bytes(buf[:end])
    del buf[:end]
    return message
