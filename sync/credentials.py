"""Device credentials on the laptop: enrolling, keeping them per user, choosing the current one.

They live in `credentials.json` in the config dir (directory 0700, file 0600): a team laptop
may have several enrolled users, each with their own server credential, role and scopes.
The file is replaced atomically, so a crash never leaves half of it.

Each user enrolled with a PIN has their credential sealed under it (sync/vault.py): it is
usable only in a process where the PIN was entered (`unlock`), and switching to that user
needs the PIN unless it was used in the last 15 minutes. Entries written before PINs (a plain
`credential`) keep working until the user enrolls again.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import time
from pathlib import Path

from fieldapp.i18n import Msg
from fieldapp.store.db import transaction
from fieldapp.store.records import RecordStore
from sync import vault
from sync.client import RegistryClient, SyncError

FILE_NAME = "credentials.json"
#: Enrolments sent whose answer may have been lost: {sha256(token): {nonce, at}}. A rerun of
#: `fieldapp enroll` with the same token resends the same nonce and gets the same credential.
PENDING_NAME = "enroll-pending.json"
PENDING_FOR = 3600  # seconds; the registry answers a resend for 10 minutes only anyway
SEQUENCE_DIR = "sequence"


class NotEnrolled(SyncError):
    retriable = False


class Locked(SyncError):
    """The user's credential is sealed under a PIN not entered in this process: sync for
    them waits until it is (retriable: background sync tries again)."""
    retriable = True


class PinRefused(SyncError):
    """A wrong PIN, a PIN that cannot be used, or too many wrong ones (`until`)."""
    retriable = False

    def __init__(self, exc: vault.PinError) -> None:
        super().__init__(exc.msg.zh, exc.msg.en)
        self.msg, self.left, self.until = exc.msg, exc.left, exc.until


def path(config_dir: Path) -> Path:
    return Path(config_dir) / FILE_NAME


def load(config_dir: Path) -> dict:
    try:
        data = json.loads(path(config_dir).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"current": None, "users": {}}
    except (OSError, ValueError) as exc:
        raise NotEnrolled("登录凭据文件无法读取,请重新登记", "the credentials file cannot be "
                          "read: enroll again", str(exc)) from exc
    data.setdefault("users", {})
    data.setdefault("current", None)
    return data


def save(config_dir: Path, data: dict) -> None:
    config_dir = Path(config_dir)
    config_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix":  # NTFS ignores mode bits; the folder is already per-user there
        os.chmod(config_dir, 0o700)
    target = path(config_dir)
    tmp = target.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    if os.name == "posix":  # O_CREAT's mode is cut by umask and ignored for an existing file
        os.chmod(tmp, 0o600)
    os.replace(tmp, target)


def current(config_dir: Path, user: str | None = None) -> dict:
    """The credential entry of `user` (default: the current user) with its `credential`;
    NotEnrolled if none, Locked if it is sealed and its PIN was not entered here."""
    data = load(config_dir)
    name = user or data.get("current")
    entry = data["users"].get(name) if name else None
    if not entry:
        raise NotEnrolled("本机尚未登记到同步服务器,请先运行 fieldapp enroll",
                          "this laptop is not enrolled with a registry: run fieldapp enroll",
                          name or "")
    if sealed(entry):
        credential = vault.SESSION.credential(session_key(config_dir, entry))
        if credential is None:
            raise Locked(f"请输入 {entry['user']} 的 PIN 解锁后再同步",
                         f"enter {entry['user']}'s PIN to unlock sync", entry["user"])
        entry = {**entry, "credential": credential}
    return entry


def sealed(entry: dict) -> bool:
    return isinstance(entry.get("sealed"), dict)


def session_key(config_dir: Path, entry: dict) -> str:
    """Which unlocked credential of this process is this entry's (vault.SESSION)."""
    return f"{Path(config_dir).resolve()}|{entry['user']}|{entry['sealed'].get('salt')}"


def unlocked(config_dir: Path, user: str) -> bool:
    """Whether `user`'s credential is usable in this process (not sealed, or PIN entered)."""
    entry = load(config_dir)["users"].get(user)
    return bool(entry) and (not sealed(entry) or vault.SESSION.credential(
        session_key(config_dir, entry)) is not None)


def needs_pin(config_dir: Path, user: str) -> bool:
    """Whether acting as `user` now needs their PIN: sealed, and not entered or used in the
    last 15 minutes in this process."""
    entry = load(config_dir)["users"].get(user)
    return bool(entry) and sealed(entry) and not vault.SESSION.fresh(
        session_key(config_dir, entry))


def unlock(config_dir: Path, user: str, pin: str, now: float | None = None) -> dict:
    """Open `user`'s credential with `pin` for this process; PinRefused when wrong (the
    failure counted in the file: five in a row lock the user for five minutes)."""
    now = time.time() if now is None else now
    data = load(config_dir)
    entry = data["users"].get(user)
    if not entry:
        raise NotEnrolled(f"用户 {user} 未在本机登记", f"user {user} is not enrolled on this "
                          f"laptop")
    if not sealed(entry):
        return entry
    until = float(entry.get("locked_until") or 0)
    if until > now:
        minutes = max(1, round((until - now) / 60))
        raise PinRefused(vault.PinError(Msg(
            f"PIN 错误次数过多,请 {minutes} 分钟后再试",
            f"too many wrong PINs: try again in {minutes} min"), until=until))
    try:  # a PIN that cannot be one (too short, a symbol) is a typo: it costs no try
        vault.check_pin(vault.normalize_pin(pin))
    except vault.PinError as exc:
        raise PinRefused(exc) from None
    try:
        credential = vault.open_sealed(entry["sealed"], pin, user)
    except vault.PinError:
        failures = int(entry.get("pin_failures") or 0) + 1
        if failures >= vault.MAX_FAILURES:
            entry["pin_failures"], entry["locked_until"] = 0, now + vault.LOCK_SECONDS
            msg = Msg(f"PIN 连续错误 {failures} 次,已锁定 {vault.LOCK_SECONDS // 60} 分钟",
                      f"{failures} wrong PINs in a row: locked for "
                      f"{vault.LOCK_SECONDS // 60} min")
            error = vault.PinError(msg, left=0, until=now + vault.LOCK_SECONDS)
        else:
            entry["pin_failures"] = failures
            left = vault.MAX_FAILURES - failures
            error = vault.PinError(Msg(f"PIN 不对,还可以试 {left} 次",
                                       f"wrong PIN: {left} more tries"), left=left)
        save(config_dir, data)
        raise PinRefused(error) from None
    if entry.get("pin_failures") or entry.get("locked_until"):
        entry.pop("pin_failures", None)
        entry.pop("locked_until", None)
        save(config_dir, data)
    vault.SESSION.put(session_key(config_dir, entry), credential)
    return {**entry, "credential": credential}


def users(config_dir: Path) -> tuple[str | None, list[dict]]:
    data = load(config_dir)
    return data.get("current"), [data["users"][n] for n in sorted(data["users"])]


def update_identity(config_dir: Path, user: str, role: str, scopes: list[str]) -> None:
    """The registry changed `user`'s role or scopes: keep this file in step (`user list`)."""
    data = load(config_dir)
    entry = data["users"].get(user)
    if entry and (entry.get("role"), sorted(entry.get("scopes") or [])) != (role, sorted(scopes)):
        entry["role"], entry["scopes"] = role, sorted(scopes)
        save(config_dir, data)


def remember_device(store: RecordStore, entry: dict) -> None:
    """Note the device id the registry issued to this user's credential, so this laptop
    knows its own entries in the registry's history."""
    if entry.get("device_id"):
        with transaction(store.conn):
            store.set_setting(f"registry_device:{entry['user']}", entry["device_id"])


def _select_in_store(store: RecordStore, entry: dict) -> None:
    remember_device(store, entry)
    with transaction(store.conn):
        store.set_setting("current_user", entry["user"])
        store.set_setting(f"role:{entry['user']}", entry["role"])
        scopes = ",".join(sorted(entry.get("scopes") or []))
        store.set_setting(f"scopes:{entry['user']}", scopes)
        # What the registry said: a later change there is followed at sync (take_identity).
        store.set_setting(f"registry_identity:{entry['user']}", f"{entry['role']}|{scopes}")
    store.user, store.role = entry["user"], entry["role"]


def switch(config_dir: Path, store: RecordStore, name: str, pin: str | None = None) -> dict:
    """Make `name` the current user. Their PIN is needed (`pin`) unless it was entered or
    used in the last 15 minutes here: a worker on a team laptop cannot become the
    supervisor without the supervisor's PIN."""
    data = load(config_dir)
    entry = data["users"].get(name)
    if not entry:
        raise NotEnrolled(f"用户 {name} 未在本机登记", f"user {name} is not enrolled on this "
                          f"laptop", ", ".join(sorted(data["users"])))
    if sealed(entry) and not vault.SESSION.fresh(session_key(config_dir, entry)):
        if pin is None:
            raise PinRefused(vault.PinError(Msg(f"切换到 {name} 需要 {name} 的 PIN",
                                                f"switching to {name} needs {name}'s PIN")))
        unlock(config_dir, name, pin)
        data = load(config_dir)
    data["current"] = name
    save(config_dir, data)
    _select_in_store(store, entry)
    return entry


def enroll(config_dir: Path, store: RecordStore, server: str, token: str,
           device_name: str | None = None, pin: str | None = None) -> dict:
    """Exchange a one-time token for this device's credential and make its user current.

    With `pin` (what `fieldapp enroll` always asks for) the credential is stored sealed under
    it, and unlocked in this process. Retry-safe: the nonce sent with the token is kept until
    the answer is saved, so running this again after a lost answer gets the same credential
    instead of "token already used". The registry issues the device id; this laptop's own id
    is not sent."""
    if pin is not None:
        try:
            vault.check_pin(vault.normalize_pin(pin))  # before the token is spent
        except vault.PinError as exc:
            raise PinRefused(exc) from None
    nonce = _pending_nonce(config_dir, token)
    with RegistryClient(server) as client:
        answer = client.enroll(token, device_name or socket.gethostname(), nonce)
    user = answer.user
    if not answer.credential or not user.name:
        raise NotEnrolled("服务器的登记回复不完整", "the server's enrollment answer is "
                          "incomplete")
    entry = {"server": server.rstrip("/"), "user": user.name, "role": user.role or "worker",
             "scopes": list(user.scopes), "device_id": answer.device_id}
    if pin is None:
        entry["credential"] = answer.credential
    else:
        entry["sealed"] = vault.seal(answer.credential, pin, user.name)
        vault.SESSION.put(session_key(config_dir, entry), answer.credential)
    data = load(config_dir)
    data["users"][entry["user"]] = entry
    data["current"] = entry["user"]
    save(config_dir, data)
    _forget_pending(config_dir, token)
    _select_in_store(store, entry)
    return {**entry, "credential": answer.credential}


def _pending_path(config_dir: Path) -> Path:
    return Path(config_dir) / PENDING_NAME


def _read_pending(config_dir: Path) -> dict:
    try:
        data = json.loads(_pending_path(config_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    now = time.time()
    return {k: v for k, v in data.items() if isinstance(v, dict)
            and isinstance(v.get("at"), int | float) and now - v["at"] < PENDING_FOR}


def _write_json(target: Path, data: dict) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)


def _pending_nonce(config_dir: Path, token: str) -> str:
    """The nonce of this token's enrolment: the one sent before, or a new one saved before it
    is ever sent (a crash after sending must not lose it)."""
    key = hashlib.sha256(token.encode("utf-8")).hexdigest()
    pending = _read_pending(config_dir)
    if key in pending and isinstance(pending[key].get("nonce"), str):
        return pending[key]["nonce"]
    nonce = secrets.token_urlsafe(24)
    pending[key] = {"nonce": nonce, "at": time.time()}
    _write_json(_pending_path(config_dir), pending)
    return nonce


def _forget_pending(config_dir: Path, token: str) -> None:
    pending = _read_pending(config_dir)
    if pending.pop(hashlib.sha256(token.encode("utf-8")).hexdigest(), None) is not None:
        _write_json(_pending_path(config_dir), pending)


def next_sequence(config_dir: Path, credential: str) -> tuple[int, str]:
    """The next sync sequence of this credential and a random tag for this cycle. Kept beside
    the credential (never in the data folder a backup restores), it rises by one per cycle:
    the registry takes a sequence going back for a second device holding a copy."""
    name = hashlib.sha256(credential.encode("utf-8")).hexdigest()[:20]
    target = Path(config_dir) / SEQUENCE_DIR / f"{name}.json"
    try:
        value = int(json.loads(target.read_text(encoding="utf-8"))["sequence"])
    except (OSError, ValueError, KeyError, TypeError):
        value = 0
    value += 1
    _write_json(target, {"sequence": value})  # saved before it is sent: never reused
    return value, secrets.token_hex(8)


def client_for(config_dir: Path, user: str | None = None, **kwargs) -> RegistryClient:
    entry = current(config_dir, user)
    return RegistryClient(entry["server"], entry["credential"], **kwargs)
