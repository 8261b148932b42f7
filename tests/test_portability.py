"""Nothing POSIX-only outside a platform guard, nothing Windows-only outside one either.

Most street-office laptops run Windows; a call like `fcntl.flock`, `os.fork` or
`signal.SIGKILL` in the installed code is a crash there. This reads every module of the
installed packages (`fieldapp/`, `sync/`) and fails on such a call unless it sits where only
the right OS runs it:

- in the branch of an `if` that cannot run on that OS (`if IS_WINDOWS: … else: <here>`,
  `if sys.platform != "win32":`, `if os.name == "posix":`, `if hasattr(os, "fork"):`),
- after an `if` on the other OS that always returns or raises,
- inside `try: import fcntl` / `except ImportError:`, or after such an except that returns.

`fieldapp.compat` holds the few real differences behind such guards.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("fieldapp", "sync")

#: module → attributes that only exist (or only mean what you think) on POSIX; "*" = all.
POSIX_ONLY = {
    "fcntl": {"*"}, "pwd": {"*"}, "grp": {"*"}, "termios": {"*"}, "tty": {"*"},
    "pty": {"*"}, "resource": {"*"}, "posix": {"*"}, "syslog": {"*"}, "crypt": {"*"},
    "spwd": {"*"}, "curses": {"*"}, "readline": {"*"},
    "os": {"fork", "forkpty", "getuid", "geteuid", "getgid", "getegid", "setuid", "setgid",
           "setsid", "setpgid", "getpgid", "setpgrp", "killpg", "chown", "lchown", "fchown",
           "fchmod", "lchmod", "mkfifo", "mknod", "getloadavg", "sync", "nice",
           "wait3", "wait4", "WNOHANG", "uname", "statvfs", "fstatvfs", "sysconf", "pathconf",
           "openpty", "ttyname", "O_NOFOLLOW", "getgroups", "initgroups", "sched_getaffinity",
           "posix_spawn", "register_at_fork", "pipe2"},
    "signal": {"SIGKILL", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGCHLD",
               "SIGPIPE", "SIGSTOP", "SIGCONT", "SIGTSTP", "SIGWINCH", "alarm", "setitimer",
               "getitimer", "pause", "sigwait", "siginterrupt", "pthread_kill",
               "pthread_sigmask", "killpg"},
    "select": {"poll", "epoll", "kqueue"},
    "socket": {"AF_UNIX"},
    "shutil": {"chown"},
}
WINDOWS_ONLY = {
    "msvcrt": {"*"}, "winreg": {"*"}, "winsound": {"*"}, "_winapi": {"*"},
    "os": {"startfile", "add_dll_directory"},
    "ctypes": {"windll", "WinDLL", "oledll", "WinError", "FormatError"},
    "signal": {"CTRL_C_EVENT", "CTRL_BREAK_EVENT"},
    "subprocess": {"STARTUPINFO", "CREATE_NEW_CONSOLE", "CREATE_NO_WINDOW",
                   "CREATE_NEW_PROCESS_GROUP", "DETACHED_PROCESS"},
}
#: Calls whose POSIX meaning does not hold on Windows, on whatever object they are made.
#: (`os.chmod(p, 0o600)` protects nothing on NTFS; only the read-only flag, stat.S_IWRITE /
#: S_IREAD, means the same on both.)
POSIX_METHODS = {"chmod", "lchmod", "chown", "add_signal_handler", "add_reader",
                 "add_writer"}
POSIX_KEYWORDS = {"preexec_fn", "pass_fds", "user", "group", "extra_groups", "umask"}
_OS = ("windows", "posix")


def _truth(node: ast.expr, os_name: str) -> bool | None:
    """Whether `node` is true when running on `os_name`, when it is a platform test."""
    windows = os_name == "windows"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _truth(node.operand, os_name)
        return None if inner is None else not inner
    if isinstance(node, ast.BoolOp):
        values = [_truth(v, os_name) for v in node.values]
        if isinstance(node.op, ast.And):
            return False if False in values else (True if all(values) else None)
        return True if True in values else (False if all(v is False for v in values) else None)
    name = ast.unparse(node)
    for flag, value in (("IS_WINDOWS", windows), ("IS_MACOS", False), ("IS_POSIX", not windows)):
        if name == flag or name.endswith(f".{flag}"):
            return value
    if isinstance(node, ast.Call):
        func = ast.unparse(node.func)
        if func == "sys.platform.startswith" and node.args and \
                isinstance(node.args[0], ast.Constant):
            prefix = ast.literal_eval(node.args[0])
            return ("win32" if windows else "linux").startswith(prefix) if windows or \
                prefix != "darwin" else None
        if func == "hasattr" and len(node.args) == 2 and isinstance(node.args[1], ast.Constant):
            module, attr = ast.unparse(node.args[0]), ast.literal_eval(node.args[1])
            if attr in POSIX_ONLY.get(module, ()):
                return not windows
            if attr in WINDOWS_ONLY.get(module, ()):
                return windows
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and \
            isinstance(node.comparators[0], ast.Constant):
        left, value = ast.unparse(node.left), node.comparators[0].value
        actual = {"sys.platform": "win32" if windows else "linux",
                  "os.name": "nt" if windows else "posix",
                  "platform.system()": "Windows" if windows else "Linux"}.get(left)
        if actual is None:
            return None
        if value == "darwin" or value == "Darwin":  # neither answer tells about Linux
            return False if windows else None
        if isinstance(node.ops[0], ast.Eq):
            return actual == value
        if isinstance(node.ops[0], ast.NotEq):
            return actual != value
    return None


def _ends_flow(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], ast.Return | ast.Raise | ast.Continue | ast.Break)


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = ast.unparse(handler.type) if handler.type else ""
    return "ImportError" in names or "ModuleNotFoundError" in names or "AttributeError" in names


class Scanner(ast.NodeVisitor):
    """Collects (line, what, which OS lacks it) for every unguarded OS-specific use."""

    def __init__(self) -> None:
        self.modules: dict[str, str] = {}  # local name → module
        self.excluded: list[str] = []  # OSes the current position cannot run on
        self.found: list[tuple[int, str, str]] = []

    # -- where we are ------------------------------------------------------------------
    def _block(self, body: list[ast.stmt]) -> None:
        pushed = 0
        for stmt in body:
            self.visit(stmt)
            if isinstance(stmt, ast.If) and _ends_flow(stmt.body):
                for os_name in _OS:  # `if <os>: … return` → the rest never runs on <os>
                    if _truth(stmt.test, os_name) is True:
                        self.excluded.append(os_name)
                        pushed += 1
            if isinstance(stmt, ast.Try) and any(
                    _catches_import_error(h) and _ends_flow(h.body) for h in stmt.handlers):
                self.excluded.append("*")
                pushed += 1
        del self.excluded[len(self.excluded) - pushed:]

    def generic_visit(self, node: ast.AST) -> None:
        for _field, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt) and \
                    not isinstance(node, ast.If | ast.Try):
                self._block(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    def visit_If(self, node: ast.If) -> None:  # noqa: N802
        self.visit(node.test)
        for branch, wanted in ((node.body, False), (node.orelse, True)):
            pushed = [os_name for os_name in _OS if _truth(node.test, os_name) is wanted]
            self.excluded += pushed
            self._block(branch)
            del self.excluded[len(self.excluded) - len(pushed):]

    def visit_Try(self, node: ast.Try) -> None:  # noqa: N802
        guarded = any(_catches_import_error(h) for h in node.handlers)
        if guarded:
            self.excluded.append("*")
        self._block(node.body)
        if guarded:
            self.excluded.pop()
        for handler in node.handlers:
            self.visit(handler)
        self._block(node.orelse)
        self._block(node.finalbody)

    visit_TryStar = visit_Try  # noqa: N815

    # -- what we look for --------------------------------------------------------------
    def _report(self, node: ast.AST, what: str, lacking: str) -> None:
        if lacking not in self.excluded and "*" not in self.excluded:
            self.found.append((node.lineno, what, lacking))

    def _check(self, node: ast.AST, module: str, attr: str) -> None:
        for table, lacking in ((POSIX_ONLY, "windows"), (WINDOWS_ONLY, "posix")):
            names = table.get(module, ())
            if "*" in names or attr in names:
                self._report(node, f"{module}.{attr}" if attr else module, lacking)

    def visit_Import(self, node: ast.Import) -> None:  # noqa: N802
        for alias in node.names:
            self.modules[alias.asname or alias.name] = alias.name
            self._check(node, alias.name, "")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:  # noqa: N802
        module = node.module or ""
        for alias in node.names:
            self._check(node, module, alias.name)

    def visit_Attribute(self, node: ast.Attribute) -> None:  # noqa: N802
        if isinstance(node.value, ast.Name) and node.value.id in self.modules:
            module = self.modules[node.value.id]
            self._check(node, module, node.attr)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:  # noqa: N802
        if isinstance(node.func, ast.Attribute) and node.func.attr in POSIX_METHODS and \
                not any(flag in ast.unparse(node) for flag in ("S_IWRITE", "S_IREAD")):
            self._report(node, f"{ast.unparse(node.func)}()", "windows")
        for keyword in node.keywords:
            if keyword.arg in POSIX_KEYWORDS and ast.unparse(node.func).endswith(
                    ("Popen", "run", "call", "check_call", "check_output")):
                self._report(node, f"{ast.unparse(node.func)}({keyword.arg}=…)", "windows")
        self.generic_visit(node)


def scan(source: str) -> list[tuple[int, str, str]]:
    scanner = Scanner()
    scanner._block(ast.parse(source).body)
    return scanner.found


def test_installed_code_runs_on_windows_and_posix():
    problems = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for line, what, lacking in scan(path.read_text(encoding="utf-8")):
                problems.append(f"{path.relative_to(ROOT)}:{line}: {what} does not exist "
                                f"(or means something else) on {lacking}; move it behind a "
                                f"platform guard or into fieldapp/compat")
    assert not problems, "\n".join(problems)


def test_the_scanner_sees_unguarded_calls_and_accepts_guards():
    bad = textwrap.dedent("""
        import fcntl, os, signal
        from os import fork
        import msvcrt
        def f(fh, proc):
            fcntl.flock(fh, fcntl.LOCK_EX)
            os.kill(proc.pid, signal.SIGKILL)
            os.chmod("c", 0o600)
            os.chmod("c", stat.S_IWRITE)  # clears the read-only flag: the same everywhere
            os.startfile("x.jpg")
            subprocess.Popen(["x"], preexec_fn=os.setsid)
            if fh:  # not a platform test
                os.getuid()
    """)
    found = {(what, lacking) for _line, what, lacking in scan(bad)}
    assert found == {("fcntl", "windows"), ("os.fork", "windows"), ("msvcrt", "posix"),
                     ("fcntl.flock", "windows"), ("fcntl.LOCK_EX", "windows"),
                     ("signal.SIGKILL", "windows"), ("os.chmod()", "windows"),
                     ("os.startfile", "posix"), ("subprocess.Popen(preexec_fn=…)", "windows"),
                     ("os.setsid", "windows"), ("os.getuid", "windows")}

    good = textwrap.dedent("""
        import os, signal, sys
        from fieldapp.compat import IS_WINDOWS
        def a(fh):
            if IS_WINDOWS:
                import msvcrt
                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl
                fcntl.flock(fh, fcntl.LOCK_EX)
        def b(path):
            if os.name == "posix":
                os.chmod(path, 0o600)
            if sys.platform != "win32" and path:
                os.kill(1, signal.SIGHUP)
            if hasattr(os, "fork"):
                os.fork()
        def c():
            try:
                import fcntl
            except ImportError:
                return None
            return fcntl.LOCK_EX
        def d(path):
            if IS_WINDOWS:
                os.startfile(path)
                return True
            return os.getuid()
        def e():
            if not sys.platform.startswith("win"):
                return signal.SIGKILL
    """)
    assert scan(good) == []
