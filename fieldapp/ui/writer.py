"""The UI's one writer: every write the app makes (a save, a draft kept, a review decision, a
retry, a resolved conflict, a setting) runs here, in order, on one thread with its own SQLite
connection, and its outcome comes back to the asking widget as a typed message.

Why: SQLite lets one transaction write at a time. While background sync applies a pulled page
(or another program writes), a save on the UI thread waited up to the busy timeout with the
screen frozen. Here the UI thread only queues the job; the writer waits, the screen keeps
answering keys, and `Saved` or `SaveFailed` arrives when the transaction is over.

A plain thread rather than a Textual worker: it lives as long as the app, and the app drains it
on exit (`close()`), so a draft kept by the last keystroke before Ctrl+Q still lands.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.message import Message
from textual.message_pump import MessagePump

from fieldapp.i18n import BilingualError, Msg
from fieldapp.store.records import RecordStore, ValidationFailed

Job = Callable[[RecordStore], Any]

NOTHING_SAVED = Msg("未保存任何内容", "nothing was saved")
UNEXPECTED = Msg("保存时出错", "the save went wrong")


@dataclass
class Saved(Message):
    """A write committed. `what` names the kind of write; `result` is what the job returned."""

    what: str
    result: Any
    token: int


@dataclass
class SaveFailed(Message):
    """A write was refused or failed; its transaction rolled back, so nothing of it is stored."""

    what: str
    error: BaseException
    token: int

    def reason(self, lang: str = "zh") -> str:
        """Why, in the user's language, ending with "nothing was saved" where it is not said."""
        error = self.error
        if isinstance(error, ValidationFailed):
            text = "; ".join(e.message(lang) for e in error.errors[:3])
        elif isinstance(error, BilingualError) or callable(getattr(error, "message", None)):
            text = error.message(lang)  # SyncError and the like speak both languages too
        else:
            text = f"{UNEXPECTED(lang)}: {type(error).__name__}: {error}"
        nothing = NOTHING_SAVED(lang)
        return text if nothing in text else f"{text} · {nothing}"


class Writer:
    """Runs write jobs one at a time on its own thread and connection, in submission order."""

    def __init__(self, open_store: Callable[[], RecordStore],
                 fallback: MessagePump | None = None) -> None:
        self._open_store = open_store
        self._fallback = fallback  # gets the answer when the asking widget has gone
        self._jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._token = 0
        self._pending = 0
        self._idle = threading.Event()
        self._idle.set()

    def submit(self, job: Job, *, what: str, reply_to: MessagePump | None = None,
               user: str | None = None, role: str | None = None) -> int:
        """Queue `job(store)`; returns the token its Saved/SaveFailed message will carry.

        `user`/`role` are who asked, at the moment they asked (the laptop's user may be
        switched before the job runs).
        """
        with self._lock:
            self._token += 1
            token = self._token
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fieldapp-writer",
                                                daemon=True)
                self._thread.start()
            self._pending += 1
            self._idle.clear()
            self._jobs.put((token, job, what, reply_to, user, role))
        return token

    def flush(self, timeout: float = 15.0) -> bool:
        """Wait until every queued job has run (tests, and the app before it exits)."""
        return self._idle.wait(timeout)

    def close(self, timeout: float = 15.0) -> None:
        """Run what is queued, then stop the thread."""
        with self._lock:
            thread = self._thread
            if thread is None:
                return
            self._jobs.put(None)
            self._thread = None
        thread.join(timeout)

    # -- the writer thread ------------------------------------------------------------------
    def _run(self) -> None:
        store: RecordStore | None = None
        while True:
            item = self._jobs.get()
            if item is None:
                break
            token, job, what, reply_to, user, role = item
            try:
                if store is None:
                    store = self._open_store()
                if user is not None:
                    store.user = user
                if role is not None:
                    store.role = role
                answer: Message = Saved(what, job(store), token)
            except Exception as exc:  # noqa: BLE001 - every failure becomes a message
                if store is not None and store.conn.in_transaction:
                    store.conn.execute("ROLLBACK")
                answer = SaveFailed(what, exc, token)
            self._deliver(answer, reply_to)
            with self._lock:
                self._pending -= 1
                if self._pending == 0:
                    self._idle.set()
        if store is not None:
            store.conn.close()
        self._idle.set()

    def _deliver(self, answer: Message, reply_to: MessagePump | None) -> None:
        for target in (reply_to, self._fallback):
            if target is None:
                continue
            try:
                if target.post_message(answer):
                    return
            except RuntimeError:  # the app's loop has closed; nobody is left to tell
                return
