"""Smoke test of an installed fieldapp, as a newcomer and a field laptop use it.

Run with any Python against the `fieldapp` command of a fresh install (from the offline
bundle): demo data, list, status, export, import, then enroll and sync against a registry
served on loopback. Uses only the standard library, so it tests the install, not the checkout.

    python .ci/laptop_smoke.py VENV/bin/fieldapp WORKDIR
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

PIN = "246810"  # each enrolled user's PIN: enroll sets it, sync asks it (one line of stdin)


def run(*args: str, ok: tuple[int, ...] = (0,), pin: bool = False) -> str:
    proc = subprocess.run([FIELDAPP, *args], capture_output=True, text=True, encoding="utf-8",
                          timeout=300, input=f"{PIN}\n" if pin else "")
    if proc.returncode not in ok:
        raise SystemExit(f"FAILED ({proc.returncode}): fieldapp {' '.join(args)}\n"
                         f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return proc.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    work = Path(sys.argv[2])
    demo, laptop, registry = work / "demo", work / "laptop", work / "registry"

    run("--data-dir", str(demo), "demo", "--no-open", "--records", "300")
    status = json.loads(run("status", "--json", "--data-dir", str(demo)))
    # 300 made on the laptop, all queued to sync; the demo's opened projects add the
    # facilities their openings created (the registry's to send, not the laptop's).
    assert status["outbox_pending"] == 300, status
    assert sum(sum(v.values()) for v in status["records"].values()) >= 300, status
    listed = json.loads(run("list", "sites", "--json", "--limit", "5", "--data-dir", str(demo)))
    assert len(listed) == 5, listed
    csv = work / "sites.csv"
    run("--data-dir", str(demo), "export", "--kind", "sites", "--status", "draft", "-o",
        str(csv))
    exported = len(csv.read_text(encoding="utf-8-sig").splitlines()) - 1
    assert exported > 0

    run("--data-dir", str(registry), "admin", "load-demo-areas")
    token = run("--data-dir", str(registry), "admin", "add-user", "liming", "--role",
                "supervisor", "--scope", "*").strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen([FIELDAPP, "--data-dir", str(registry), "serve", "--port",
                               str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{base}/api/v1/health", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if server.poll() is not None:
                    error = server.stderr.read()
                    raise SystemExit(f"the registry did not start: {error}") from None
                time.sleep(0.1)
        run("--data-dir", str(laptop), "enroll", "--server", base, f"--token={token}",
            pin=True)
        run("--data-dir", str(laptop), "sync", pin=True)  # areas first: importer checks grids
        summary = run("--data-dir", str(laptop), "import", str(csv), "--kind", "sites")
        assert str(exported) in summary, summary
        report = json.loads(run("--data-dir", str(laptop), "sync", "--json", pin=True))
        assert report["pushed"] == exported and not report["rejected"], report
        after = json.loads(run("--data-dir", str(laptop), "status", "--json"))
        assert after["outbox_pending"] == 0, after
    finally:
        server.terminate()
        server.wait(timeout=30)
    out = work / "all.xlsx"
    run("--data-dir", str(laptop), "export", "-o", str(out))
    assert out.stat().st_size > 0
    print(f"smoke ok: {sys.version.split()[0]}, {exported} sites exported, imported, synced")


if __name__ == "__main__":
    FIELDAPP = sys.argv[1]
    main()
