"""Accounts on the registry: tokens and credentials (stored hashed), scopes, enrolment limits.

Nothing here is cached in process memory: every request looks its credential up in the
database, so revoking a user in one process (or with `fieldapp admin`) refuses them in every
other process at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from sync.server.models import DeviceCredential, EnrollFailure, EnrollmentToken, User

USERS = User.__table__
TOKENS = EnrollmentToken.__table__
CREDS = DeviceCredential.__table__
FAILS = EnrollFailure.__table__

ALL_SCOPE = "*"  # the whole city
ENROLL_FAILURES_PER_MINUTE = 10
TOKEN_LIFETIME = timedelta(days=7)
#: How long a resend of an enrolment (same token, same nonce) gets the same credential back:
#: long enough for a laptop whose answer was lost to try again, short enough that a token
#: read off a screen later is worth nothing.
RESEND_WINDOW = timedelta(minutes=10)


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    # A prefix so a token never starts with "-", which a command line would take for an option.
    return "fa-" + secrets.token_urlsafe(32)


def parse_scopes(text: str) -> tuple[str, ...]:
    return tuple(sorted({s.strip() for s in text.split(",") if s.strip()}))


def scope_fingerprint(role: str, scopes: tuple[str, ...]) -> str:
    return hashlib.sha256(f"{role}|{','.join(scopes)}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Principal:
    """Who is asking: the user behind a device credential."""
    user_id: int
    name: str
    role: str
    scopes: tuple[str, ...]
    device_id: str

    @property
    def everywhere(self) -> bool:
        return ALL_SCOPE in self.scopes

    def covers(self, codes: set[str] | tuple[str, ...]) -> bool:
        """True when one of the record's area codes (grid and its ancestors) is in scope."""
        return self.everywhere or any(c in self.scopes for c in codes)

    def as_dict(self) -> dict:
        return {"name": self.name, "role": self.role, "scopes": list(self.scopes)}


def principal_for(conn: Connection, credential: str) -> Principal | None:
    """The live principal for a bearer credential, or None (unknown or revoked)."""
    row = conn.execute(
        select(USERS.c.id, USERS.c.name, USERS.c.role, USERS.c.scopes, CREDS.c.device_id)
        .select_from(CREDS.join(USERS, USERS.c.id == CREDS.c.user_id))
        .where(CREDS.c.credential_hash == digest(credential), CREDS.c.revoked_at.is_(None),
               USERS.c.revoked.is_(False))
    ).first()
    if row is None:
        return None
    return Principal(row.id, row.name, row.role, parse_scopes(row.scopes), row.device_id)


def too_many_failures(conn: Connection, client: str) -> bool:
    since = time.time() - 60
    n = conn.execute(select(func.count()).select_from(FAILS)
                     .where(FAILS.c.client == client, FAILS.c.at > since)).scalar_one()
    return n >= ENROLL_FAILURES_PER_MINUTE


def record_failure(conn: Connection, client: str) -> None:
    now = time.time()
    conn.execute(insert(FAILS).values(client=client, at=now))
    # Old rows only ever matter for a minute; trimming here keeps the table tiny.
    conn.execute(delete(FAILS).where(FAILS.c.at < now - 3600))


class EnrollError(Exception):
    def __init__(self, code: str, en: str, zh: str) -> None:
        super().__init__(en)
        self.code, self.en, self.zh = code, en, zh


def derived_credential(token: str, nonce: str, device_id: str) -> str:
    """The credential of an enrolment made with a nonce: computed again from the token and
    nonce a resend carries, so the registry never has to keep a credential to repeat it."""
    mac = hmac.new(token.encode("utf-8"), f"fieldapp-credential|{device_id}|{nonce}"
                   .encode(), hashlib.sha256).digest()
    return "fa-" + base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Enrolled:
    credential: str
    user: dict
    device_id: str  # issued by the registry: the laptop's own id is never trusted


def enroll(conn: Connection, token: str, device_name: str, nonce: str | None = None,
           now: datetime | None = None) -> Enrolled:
    """Exchange a one-time token for a device credential; raises EnrollError otherwise.

    The registry issues the device id. With a `nonce`, the same token and nonce sent again
    within RESEND_WINDOW (the laptop never got the first answer) get the same credential."""
    now = now or datetime.now(UTC)
    row = conn.execute(
        select(TOKENS.c.token_hash, TOKENS.c.expires_at, TOKENS.c.used_at, TOKENS.c.nonce_hash,
               TOKENS.c.device_id, USERS.c.id, USERS.c.name, USERS.c.role, USERS.c.scopes,
               USERS.c.revoked)
        .select_from(TOKENS.join(USERS, USERS.c.id == TOKENS.c.user_id))
        .where(TOKENS.c.token_hash == digest(token))
    ).first()
    # Compare in constant time anyway: the lookup is by hash, but be boring about secrets.
    if row is None or not hmac.compare_digest(row.token_hash, digest(token)):
        raise EnrollError("invalid_token", "the enrolment token is not valid",
                          "注册码无效")
    if row.revoked:
        raise EnrollError("user_revoked", "this user has been revoked", "该用户已被停用")
    user = {"name": row.name, "role": row.role, "scopes": list(parse_scopes(row.scopes))}
    if row.used_at is not None:
        again = _resent(conn, row, token, nonce, now)
        if again is None:
            raise EnrollError("token_used", "the enrolment token has already been used",
                              "注册码已被使用过")
        return Enrolled(again, user, row.device_id)
    if row.expires_at < now.isoformat(timespec="milliseconds"):
        raise EnrollError("token_expired", "the enrolment token has expired", "注册码已过期")
    device_id = str(uuid.uuid4())
    # The UPDATE's WHERE makes "works once" hold even if two requests race for one token.
    used = conn.execute(update(TOKENS).where(TOKENS.c.token_hash == row.token_hash,
                                             TOKENS.c.used_at.is_(None))
                        .values(used_at=now.isoformat(timespec="milliseconds"),
                                nonce_hash=digest(nonce) if nonce else None,
                                device_id=device_id)).rowcount
    if used != 1:
        raise EnrollError("token_used", "the enrolment token has already been used",
                          "注册码已被使用过")
    credential = derived_credential(token, nonce, device_id) if nonce else new_secret()
    conn.execute(insert(CREDS).values(credential_hash=digest(credential), user_id=row.id,
                                      device_id=device_id, device_name=device_name,
                                      created_at=utcnow()))
    return Enrolled(credential, user, device_id)


def _resent(conn: Connection, row, token: str, nonce: str | None,  # noqa: ANN001
            now: datetime) -> str | None:
    """The credential a resend of the same enrolment gets again, or None (not a resend, too
    late, or that credential has been revoked since)."""
    if not nonce or not row.nonce_hash or not row.device_id:
        return None
    if not hmac.compare_digest(row.nonce_hash, digest(nonce)):
        return None
    if datetime.fromisoformat(row.used_at) + RESEND_WINDOW < now:
        return None
    credential = derived_credential(token, nonce, row.device_id)
    live = conn.execute(select(CREDS.c.credential_hash).where(
        CREDS.c.credential_hash == digest(credential), CREDS.c.revoked_at.is_(None))).first()
    return credential if live else None


def revoked_reason(conn: Connection, credential: str) -> str | None:
    """Why a credential that no longer works was revoked (admin, cloned), if it was."""
    return conn.execute(select(CREDS.c.revoked_reason).where(
        CREDS.c.credential_hash == digest(credential))).scalar_one_or_none()


def issue_token(conn: Connection, user_id: int, lifetime: timedelta = TOKEN_LIFETIME) -> str:
    token = new_secret()
    expires = (datetime.now(UTC) + lifetime).isoformat(timespec="milliseconds")
    conn.execute(insert(TOKENS).values(token_hash=digest(token), user_id=user_id,
                                       expires_at=expires))
    return token
