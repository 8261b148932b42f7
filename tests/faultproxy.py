"""A fault-injecting TCP proxy for HTTP/1.1 between a laptop and the registry (tests only).

It understands just enough HTTP (headers and Content-Length) to act per request: pass it,
drop the connection before forwarding it (the server never sees it), drop it after the server
answered (the server committed, the laptop hears nothing), delay it, cut the answer short,
or reset the connection after forwarding. Modes are drawn from a seeded random generator, so
a failing run can be replayed; `plan(path, modes)` scripts the next requests to a path instead
(drop the answer to the third push, say), so a test can be certain a fault happened where it
means it to.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections import Counter

MODES = ("pass", "drop_before", "drop_after", "delay", "truncate", "reset")


class _Closed(Exception):
    pass


def _read_message(sock: socket.socket, buf: bytearray) -> bytes:
    """One whole HTTP message (headers and Content-Length body) from `sock`; the rest of
    what was read stays in `buf` for the next message on a kept-alive connection."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise _Closed()
        buf.extend(chunk)
    head_end = buf.index(b"\r\n\r\n") + 4
    length = 0
    for line in bytes(buf[:head_end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(buf) < head_end + length:
        chunk = sock.recv(65536)
        if not chunk:
            raise _Closed()
        buf.extend(chunk)
    message = bytes(buf[:head_end + length])
    del buf[:head_end + length]
    return message


def _path_of(request: bytes) -> str:
    """The request line's path (`POST /api/v1/push HTTP/1.1` → `/api/v1/push`)."""
    parts = request.split(b"\r\n", 1)[0].split(b" ")
    return parts[1].decode("latin-1") if len(parts) > 1 else ""


def _reset(sock: socket.socket) -> None:
    # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class FaultProxy:
    """Listens on a loopback port and forwards to `upstream_port` with faults.

    `weights` maps a mode to its relative weight; `delay` is how long "delay" waits.
    """

    def __init__(self, upstream_port: int, *, seed: int = 0, weights: dict | None = None,
                 delay: float = 0.2) -> None:
        self.upstream_port = upstream_port
        self.rng = random.Random(seed)
        self.weights = weights or {"pass": 1}
        self.paths: tuple[str, ...] | None = None
        self.delay = delay
        self.counts: Counter = Counter()
        self.by_path: Counter = Counter()  # (path, mode) → requests
        self._plans: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        try:
            self._listener.close()
        except OSError:
            pass

    def set_weights(self, paths: tuple[str, ...] | None = None, **weights: float) -> None:
        """Draw each request's mode with these weights; only for requests whose path starts
        with one of `paths`, when given (the others pass)."""
        with self._lock:
            self.weights = weights
            self.paths = paths

    def plan(self, path: str, modes: list[str]) -> None:
        """The next requests whose path starts with `path` get `modes`, in order; after them
        the weights decide again."""
        unknown = set(modes) - set(MODES)
        assert not unknown, unknown
        with self._lock:
            self._plans[path] = list(modes)

    def planned_left(self, path: str) -> int:
        with self._lock:
            return len(self._plans.get(path, ()))

    def _choose(self, path: str = "") -> str:
        with self._lock:
            planned = next((p for p in self._plans if path.startswith(p) and self._plans[p]),
                           None)
            if planned is not None:
                mode = self._plans[planned].pop(0)
            elif self.paths is not None and not path.startswith(self.paths):
                mode = "pass"
            else:
                modes = list(self.weights)
                mode = self.rng.choices(modes, [self.weights[m] for m in modes])[0]
            self.counts[mode] += 1
            self.by_path[(path.partition("?")[0], mode)] += 1
            return mode

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = None
        buf, ubuf = bytearray(), bytearray()
        try:
            while True:
                request = _read_message(client, buf)
                mode = self._choose(_path_of(request))
                if mode == "drop_before":
                    return
                if upstream is None:
                    upstream = socket.create_connection(("127.0.0.1", self.upstream_port), 10)
                upstream.sendall(request)
                if mode == "reset":
                    _reset(client)
                    return
                response = _read_message(upstream, ubuf)
                if mode == "drop_after":
                    return
                if mode == "delay":
                    time.sleep(self.delay)
                if mode == "truncate":
                    client.sendall(response[: max(1, len(response) // 2)])
                    return
                client.sendall(response)
        except (_Closed, OSError, ValueError):
            return
        finally:
            for s in (client, upstream):
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass
