"""The sync figures' baseline: a bare FastAPI endpoint that stores the same JSON records with
one `executemany` per request, on the same database, driven by httpx like the real client.

    python -m bench.bare_ingest URL PORT      # serve (the bench starts it as a subprocess)

It does what any ingest must (parse the request, write every record durably, answer) and
nothing the registry adds (validation with the form's rules, scope and conflict checks,
history, change feed, idempotency records, answers per record). The bench measures both in
the same run, so the ratio survives a busy machine.
"""

# No `from __future__ import annotations`: FastAPI must see the endpoint's `Request` class.
import subprocess
import sys
import time

import orjson

TABLE = "bare_ingest"


def create_app(url: str):  # noqa: ANN201
    from fastapi import FastAPI, Request
    from fastapi.responses import Response

    from sync.server.db import make_engine, writing

    engine = make_engine(url)  # the registry's own settings: WAL, synchronous=FULL on SQLite
    with writing(engine) as conn:
        conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {TABLE} (id VARCHAR(36) PRIMARY KEY, "
                             "kind VARCHAR(20) NOT NULL, data TEXT NOT NULL)")
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    app = FastAPI()

    @app.post("/ingest")
    async def ingest(request: Request) -> Response:
        rows = [(m["record_id"], m["kind"], orjson.dumps(m["fields"]).decode())
                for m in orjson.loads(await request.body())["mutations"]]
        with writing(engine) as conn:
            conn.exec_driver_sql(f"INSERT INTO {TABLE} (id, kind, data) VALUES "
                                 f"({mark}, {mark}, {mark})", rows)
        return Response(orjson.dumps({"stored": len(rows)}), media_type="application/json")

    @app.get("/health")
    def health() -> dict:
        return {"ok": True}

    return app


class BareIngest:
    """The baseline server in its own process (uvicorn, like `fieldapp serve`)."""

    def __init__(self, url: str) -> None:
        import httpx

        from sync.server.bench import free_port

        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.bare_ingest", url,
                                      str(self.port)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(400):
            try:
                httpx.get(f"{self.base}/health", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("the bare ingest server did not start")

    def ingest(self, mutations: list[dict], batch: int = 500) -> float:
        """Send the mutations in batches, one request after another; returns seconds."""
        import httpx

        with httpx.Client(base_url=self.base, timeout=300) as client:
            start = time.perf_counter()
            for i in range(0, len(mutations), batch):
                body = orjson.dumps({"mutations": mutations[i:i + batch]})
                client.post("/ingest", content=body,
                            headers={"Content-Type": "application/json"}).raise_for_status()
            return time.perf_counter() - start

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(create_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]),
                log_level="warning", access_log=False)
