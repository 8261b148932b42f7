"""Running the registry: readiness, the registry's generation, what devices report, activity.

- **Generation**: a random id in `registry_meta`, made at the first start and replaced when a
  backup is restored. Laptops compare it at every sync; a change tells them the registry may
  have forgotten what they pushed, and they send their journal again (sync/PROTOCOL.md,
  "Restored registry").
- **Device status**: each sync cycle starts with `POST /api/v1/status`, which records the
  device's app version, outbox depth and clock, and answers the server's time and generation.
- **Copied credentials**: the status report carries the laptop's sync sequence for its
  credential, which only rises on one device; a sequence that goes back means a second
  device holds the same credential (a copied data folder, a cloned disk): the credential is
  revoked (reason `cloned`) and the laptop is told to enroll again.
- **Activity**: one row per enrolment, pushed batch and stored attachment rows, so support can
  answer "did her laptop sync on Tuesday?" (`fieldapp admin activity`).
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from sync.server.auth import CREDS, Principal, utcnow
from sync.server.db import reading, writing
from sync.server.models import Activity, DeviceStatus, RegistryMeta

META = RegistryMeta.__table__
STATUS = DeviceStatus.__table__
ACTIVITY = Activity.__table__
GENERATION = "generation"
log = logging.getLogger("fieldapp.server")


def generation(engine: Engine) -> str:
    """This registry's generation id, made on first use. Read afresh each time (a restore
    changes it under running processes), one primary-key lookup."""
    with reading(engine) as conn:
        value = _meta(conn, GENERATION)
    if value:
        return value
    try:
        with writing(engine) as conn:
            value = _meta(conn, GENERATION)
            if not value:
                value = uuid.uuid4().hex
                conn.execute(insert(META).values(key=GENERATION, value=value))
    except IntegrityError:  # another process made it a moment earlier
        with reading(engine) as conn:
            value = _meta(conn, GENERATION)
    return value


def new_generation(conn: Connection) -> str:
    """Give the registry a new generation (after a restore): laptops will re-send."""
    value = uuid.uuid4().hex
    if _meta(conn, GENERATION) is None:
        conn.execute(insert(META).values(key=GENERATION, value=value))
    else:
        conn.execute(update(META).where(META.c.key == GENERATION).values(value=value))
    return value


def _meta(conn: Connection, key: str) -> str | None:
    return conn.execute(select(META.c.value).where(META.c.key == key)).scalar_one_or_none()


def record_status(engine: Engine, who: Principal, credential_hash: str, report: dict,
                  address: str | None) -> None:
    values = {"user_name": who.name, "device_id": who.device_id,
              "app_version": str(report.get("app_version") or "")[:40],
              "queued": _count(report.get("queued")), "parked": _count(report.get("parked")),
              "client_time": str(report.get("client_time") or "")[:40] or None,
              "last_seen_at": utcnow(), "address": (address or "")[:100] or None}
    with best_effort("device status"), writing(engine) as conn:
        done = conn.execute(update(STATUS).where(STATUS.c.credential_hash == credential_hash)
                            .values(**values)).rowcount
        if not done:
            conn.execute(insert(STATUS).values(credential_hash=credential_hash, **values))


def sequence_holds(engine: Engine, who: Principal, credential_hash: str, sequence: int,
                   tag: str) -> bool:
    """Record the credential's sync sequence; False (and the credential revoked as cloned)
    when it does not rise: another device holds the same credential. The same sequence with
    the same tag is one cycle's resend, not a second device."""
    for _ in range(2):  # a first report racing another one for the insert tries once more
        try:
            with writing(engine) as conn:
                moved = conn.execute(update(STATUS).where(
                    STATUS.c.credential_hash == credential_hash,
                    or_(STATUS.c.sequence.is_(None), STATUS.c.sequence < sequence,
                        and_(STATUS.c.sequence == sequence, STATUS.c.sequence_tag == tag)))
                    .values(sequence=sequence, sequence_tag=tag)).rowcount
                if moved:
                    return True
                known = conn.execute(select(STATUS.c.sequence, STATUS.c.last_seen_at).where(
                    STATUS.c.credential_hash == credential_hash)).first()
                if known is None:
                    conn.execute(insert(STATUS).values(
                        credential_hash=credential_hash, user_name=who.name,
                        device_id=who.device_id, last_seen_at=utcnow(), sequence=sequence,
                        sequence_tag=tag))
                    return True
                if _late_request(known.sequence, known.last_seen_at, sequence):
                    return True
                conn.execute(update(CREDS).where(CREDS.c.credential_hash == credential_hash)
                             .values(revoked_at=utcnow(), revoked_reason="cloned"))
                log.warning("credential of %s (device %s) used by two devices: revoked",
                            who.name, who.device_id)
                return False
        except IntegrityError:
            continue
    return True


#: A status request of an earlier cycle can be committed after a later one: the laptop gave
#: up waiting (a slow registry, a cut connection) and started its next cycle while the server
#: was still answering the first. A sequence a little lower than the one just reported is
#: that, not a second device; a copy shows itself by reusing a number (same sequence, another
#: tag) or by falling further behind.
LATE_CYCLES = 3
LATE_SECONDS = 120


def _late_request(known: int | None, known_at: str | None, sequence: int) -> bool:
    if known is None or not known_at or not 0 < known - sequence <= LATE_CYCLES:
        return False
    try:
        age = datetime.now(UTC) - datetime.fromisoformat(known_at)
    except ValueError:
        return False
    return age.total_seconds() <= LATE_SECONDS


@contextmanager
def best_effort(what: str) -> Iterator[None]:
    """Support records never fail the sync they describe (which has committed already)."""
    try:
        yield
    except SQLAlchemyError as exc:
        log.warning("could not record %s: %s", what, type(exc).__name__)


def _count(value: object) -> int:
    return value if isinstance(value, int) and 0 <= value < 10**9 else 0


def log_activity(engine: Engine, who: Principal, action: str, count: int = 0,
                 detail: str = "", *, credential_hash: str | None = None) -> None:
    """One activity line; a push also stamps the device's last push time."""
    at = utcnow()
    with best_effort("activity"), writing(engine) as conn:
        conn.execute(insert(ACTIVITY).values(at=at, user_name=who.name, device_id=who.device_id,
                                             action=action, count=count, detail=detail[:500]))
        if action == "push" and credential_hash:
            conn.execute(update(STATUS).where(STATUS.c.credential_hash == credential_hash)
                         .values(last_push_at=at))


def ready(engine: Engine, store) -> dict:  # noqa: ANN001
    """Raises when the registry cannot serve: database unreachable, schema behind, store
    unusable. Answers what it checked."""
    from sync.server.migrations import current

    with reading(engine) as conn:
        version = current(conn)
    if version != _head():
        raise RuntimeError(f"schema at {version}, this program needs {_head()}")
    store.check()
    return {"ok": True, "database": engine.dialect.name, "schema_version": version,
            "blob_store": store.kind}


@functools.cache
def _head() -> str:
    from sync.server.migrations import head

    return head()
