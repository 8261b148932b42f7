"""A user's device credential sealed under their PIN, and the credentials unlocked in this
process.

- **At rest**: scrypt (memory-hard: 32 MiB, about 0.1-0.2 s a try) derives a 256-bit key from
  the PIN and a random salt; AES-256-GCM (authenticated) seals the credential with the user's
  name as associated data, so a sealed credential copied into another user's entry does not
  open. Both from `cryptography`, which has wheels for every platform fieldapp bundles.
- **In memory**: an unlocked credential is held by `SESSION` in this process only, never
  written anywhere; background sync uses it for the user whose PIN was entered. It stays
  unlocked while the app runs, but switching to that user or a supervisor decision asks the
  PIN again once it has been idle IDLE_SECONDS.
- **Wrong PINs**: counted in the credentials file (sync/credentials.py), so closing the app
  does not reset them: MAX_FAILURES in a row lock the user out for LOCK_SECONDS.

A forgotten PIN cannot be recovered: enrolling again with a new token replaces the sealed
credential; what the user queued stays in the outbox under their name and goes with it.
"""

from __future__ import annotations

import base64
import os
import threading
import time
import unicodedata

from fieldapp.i18n import Msg

PIN_MIN, PIN_MAX = 6, 32
MAX_FAILURES = 5
LOCK_SECONDS = 300
IDLE_SECONDS = 15 * 60
#: scrypt cost: n=2**15, r=8 needs 32 MiB and about a tenth of a second, each try.
SCRYPT = {"n": 2 ** 15, "r": 8, "p": 1}
#: The demo's users have this PIN, shown on screen (a demo has nothing to protect).
DEMO_PIN = "123456"


class PinError(Exception):
    """A PIN that cannot be used or did not open the credential; `msg` says what to do."""

    def __init__(self, msg: Msg, *, left: int | None = None, until: float | None = None):
        super().__init__(msg.en)
        self.msg, self.left, self.until = msg, left, until


def normalize_pin(pin: str) -> str:
    """The PIN as sealed: full-width digits and letters (a Chinese input method) read as
    ASCII, surrounding spaces dropped. A PIN is ASCII letters and digits (check_pin), so no
    sealed PIN reads differently."""
    return unicodedata.normalize("NFKC", pin).strip()


def check_pin(pin: str) -> None:
    """Raise PinError unless `pin` is PIN_MIN..PIN_MAX digits or letters."""
    if not (PIN_MIN <= len(pin) <= PIN_MAX) or not pin.isascii() or not pin.isalnum():
        raise PinError(Msg(f"PIN 应为 {PIN_MIN}-{PIN_MAX} 位数字或字母",
                           f"the PIN must be {PIN_MIN}-{PIN_MAX} digits or letters"))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _key(pin: str, salt: bytes, params: dict) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=int(params["n"]), r=int(params["r"]),
                  p=int(params["p"])).derive(pin.encode("utf-8"))


def seal(credential: str, pin: str, user: str) -> dict:
    """The credential encrypted under the PIN, as JSON-ready text fields."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    pin = normalize_pin(pin)
    check_pin(pin)
    salt, nonce = os.urandom(16), os.urandom(12)
    sealed = AESGCM(_key(pin, salt, SCRYPT)).encrypt(nonce, credential.encode("utf-8"),
                                                     user.encode("utf-8"))
    return {"kdf": "scrypt", **SCRYPT, "salt": _b64(salt), "aead": "aes-256-gcm",
            "nonce": _b64(nonce), "sealed": _b64(sealed)}


def open_sealed(box: dict, pin: str, user: str) -> str:
    """The credential, or PinError when the PIN (or the user) is not the one it was sealed
    with."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        key = _key(normalize_pin(pin), base64.b64decode(box["salt"]), box)
        return AESGCM(key).decrypt(base64.b64decode(box["nonce"]),
                                   base64.b64decode(box["sealed"]),
                                   user.encode("utf-8")).decode("utf-8")
    except (InvalidTag, KeyError, ValueError, TypeError):
        raise PinError(Msg("PIN 不对", "wrong PIN")) from None


class Session:
    """Credentials unlocked in this process, with when each was last used by a person. Keys
    name the sealed credential (sync.credentials.session_key: folder, user, salt), so a user
    enrolled again, or another data folder's user of the same name, is never mixed up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, tuple[str, float]] = {}

    def put(self, key: str, credential: str) -> None:
        with self._lock:
            self._open[key] = (credential, time.monotonic())

    def credential(self, key: str) -> str | None:
        """For sync: the unlocked credential, however long ago the PIN was entered."""
        with self._lock:
            held = self._open.get(key)
        return held[0] if held else None

    def fresh(self, key: str, idle: float = IDLE_SECONDS) -> bool:
        """Whether the user's PIN was entered or used within `idle` seconds; using it now
        counts as use."""
        with self._lock:
            held = self._open.get(key)
            if held is None or time.monotonic() - held[1] > idle:
                return False
            self._open[key] = (held[0], time.monotonic())
            return True

    def idle_since(self, key: str, seconds_ago: float) -> None:
        """Pretend the PIN was last used `seconds_ago` (tests of the idle rule)."""
        with self._lock:
            if key in self._open:
                self._open[key] = (self._open[key][0], time.monotonic() - seconds_ago)

    def forget(self, key: str | None = None) -> None:
        with self._lock:
            if key is None:
                self._open.clear()
            else:
                self._open.pop(key, None)


SESSION = Session()
