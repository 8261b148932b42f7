"""Removing and opening files on a laptop where another program may be holding them.

On Windows a file that an antivirus scanner, a photo viewer or another fieldapp has open
cannot be deleted or replaced for a moment (sharing violation); a short retry usually
succeeds. Elsewhere such errors are real and are raised at once.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from fieldapp.compat import IS_MACOS, IS_WINDOWS

T = TypeVar("T")

#: ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION, ERROR_DIR_NOT_EMPTY
#: (a file inside is still being let go).
TRANSIENT_WINERRORS = {5, 32, 33, 145}
RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.5)  # about 4 s in all


class FileInUse(OSError):
    """A file stayed locked by another program through every retry."""


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and getattr(exc, "winerror", None) in TRANSIENT_WINERRORS


def retry_while_locked(func: Callable[..., T], *args: object,
                       delays: tuple[float, ...] | None = None) -> T:
    """Call `func(*args)`, again after a pause while it fails on a Windows file lock."""
    for delay in (*(RETRY_DELAYS if delays is None else delays), None):
        try:
            return func(*args)
        except OSError as exc:
            if delay is None or not is_transient(exc):
                if is_transient(exc):
                    raise FileInUse(exc.errno, exc.strerror, exc.filename) from exc
                raise
            time.sleep(delay)
    raise AssertionError("unreachable")


def remove_file(path: str | os.PathLike) -> None:
    """Delete a file if it exists, waiting out a short lock by another program."""
    retry_while_locked(Path(path).unlink, True)


def _clear_read_only(func: Callable, path: str, error: object) -> None:
    # Windows refuses to delete a read-only file (a copy off a CD or a camera card keeps
    # the flag); clear it and try once more. Anything else is a real error.
    if IS_WINDOWS and os.path.exists(path):
        os.chmod(path, stat.S_IWRITE)
        func(path)
        return
    raise error[1] if isinstance(error, tuple) else error  # onerror gives exc_info


def remove_tree(path: str | os.PathLike) -> None:
    """Delete a folder and everything in it, waiting out short locks (antivirus, WAL files)."""
    folder = Path(path)
    option = "onexc" if sys.version_info >= (3, 12) else "onerror"

    def attempt() -> None:
        if folder.exists():
            shutil.rmtree(folder, **{option: _clear_read_only})

    retry_while_locked(attempt)


_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}


def safe_file_name(name: str, extension: str, fallback: str = "file") -> str:
    """A name every file system takes, ending in `extension` (e.g. ".jpg")."""
    stem = Path(_UNSAFE.sub("_", name)).stem.strip(" .") or fallback
    if stem.upper() in _RESERVED:
        stem = f"_{stem}"
    return stem[:80] + extension


def viewing_copy(source: Path, name: str, extension: str, key: str) -> Path:
    """A copy of `source` in the temp folder named `name` with `extension`, so the desktop
    knows which program opens it (content files have no extension) and a viewer holding it
    open never locks the original."""
    root = _view_root()
    _forget_old_copies(root)
    folder = root / key
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_file_name(name, extension)
    if target.exists() and target.stat().st_size == source.stat().st_size:
        return target
    try:
        retry_while_locked(shutil.copyfile, source, target)
    except FileInUse:  # an old copy still open in a viewer: use another name
        target = Path(tempfile.mkdtemp(dir=folder)) / target.name
        shutil.copyfile(source, target)
    return target


def _view_root() -> Path:
    """A folder of this user's own in the temp folder (on Windows %TEMP% is per user already;
    a shared /tmp may hold another user's folder of that name, or a trap: then a fresh one)."""
    import getpass

    try:
        user = re.sub(r"[^\w.-]", "_", getpass.getuser())
    except (KeyError, OSError, ImportError):
        user = "user"
    root = Path(tempfile.gettempdir()) / f"fieldapp-view-{user}"
    root.mkdir(mode=0o700, exist_ok=True)
    if not IS_WINDOWS:
        info = root.lstat()
        if root.is_symlink() or info.st_uid != os.getuid() or info.st_mode & 0o077:
            return Path(tempfile.mkdtemp(prefix="fieldapp-view-"))
    return root


def _forget_old_copies(root: Path, older_than: float = 24 * 3600) -> None:
    if not root.is_dir():
        return
    now = time.time()
    for folder in root.iterdir():
        try:
            if now - folder.stat().st_mtime > older_than:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


class NoViewer(OSError):
    """There is no desktop program to open the file with (or it refused)."""


def open_with_desktop(path: Path) -> bool:
    """Open `path` with the desktop's program for its type. False where there is no desktop
    (a server or an SSH session: print the path instead); NoViewer when the desktop has no
    program for it or the program failed to start."""
    if IS_WINDOWS:
        try:
            os.startfile(str(path))  # type: ignore[attr-defined]  # noqa: S606
        except OSError as exc:  # e.g. WinError 1155: no application is associated
            raise NoViewer(str(exc)) from exc
        return True
    if IS_MACOS:
        command = ["open", str(path)]
    elif (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) \
            and shutil.which("xdg-open"):
        command = ["xdg-open", str(path)]
    else:
        return False
    try:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        raise NoViewer(str(exc)) from exc
    # A launcher that cannot find a program says so at once (xdg-open exits 3 or 4); one
    # that found it keeps running or exits 0. The viewer itself outlives us either way.
    try:
        code = proc.wait(timeout=1.5)
    except subprocess.TimeoutExpired:
        return True
    if code != 0:
        raise NoViewer(f"{command[0]} exited with status {code}")
    return True
