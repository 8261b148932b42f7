"""Who may see a blob: the rule behind HEAD and GET of /api/v1/blobs and new attachment rows.

Knowing a file's SHA-256 proves nothing (a hash can come from history, a shared photo, a
guess at a common document). So content is reached only through proof:
- a user who sent the bytes (a PUT whose content hashed right, even when the registry
  already had them) *holds* the blob;
- a user *may read* a blob they hold, or one used by a live attachment row on a record in
  their scope whose author holds it;
- a new attachment row may point only at a blob its poster may read (else `blob_missing`:
  send the bytes first). A reader who attaches it again becomes a holder.
HEAD answers 404 to anyone who may not read the blob, exactly as if it did not exist, so it
is no oracle. The rule is about database rows only; where the bytes live is the blob
store's business (sync/server/attachments.py).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from sync.server.areas import AreaChains
from sync.server.auth import USERS, Principal, utcnow
from sync.server.models import Attachment, BlobHolder
from sync.server.push import RECORDS

HOLDERS = BlobHolder.__table__
ATTACHMENTS = Attachment.__table__


def holds(conn: Connection, who: Principal, sha256: str) -> bool:
    return conn.execute(select(HOLDERS.c.user_id).where(
        HOLDERS.c.sha256 == sha256, HOLDERS.c.user_id == who.user_id)).first() is not None


def may_read(conn: Connection, who: Principal, sha256: str) -> bool:
    if holds(conn, who, sha256):
        return True
    grids = [r.grid_code for r in conn.execute(
        select(RECORDS.c.grid_code).distinct()
        .select_from(ATTACHMENTS
                     .join(RECORDS, RECORDS.c.id == ATTACHMENTS.c.record_id)
                     .join(USERS, USERS.c.name == ATTACHMENTS.c.author)
                     .join(HOLDERS, (HOLDERS.c.sha256 == ATTACHMENTS.c.sha256)
                           & (HOLDERS.c.user_id == USERS.c.id)))
        .where(ATTACHMENTS.c.sha256 == sha256, ATTACHMENTS.c.deleted.is_(False)))]
    if not grids:
        return False
    chains = AreaChains(conn)
    chains.prefetch(grids)
    return any(who.covers(chains.scope_codes(g)) for g in grids)


def add_holder(conn: Connection, who: Principal, sha256: str) -> None:
    """Record that `who` holds the blob (idempotent; safe when two requests race)."""
    if holds(conn, who, sha256):
        return
    try:
        with conn.begin_nested():
            conn.execute(HOLDERS.insert().values(sha256=sha256, user_id=who.user_id,
                                                 at=utcnow()))
    except IntegrityError:
        pass  # the same user's other request recorded it first
