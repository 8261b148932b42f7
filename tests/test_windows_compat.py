"""What breaks on a street office's Windows laptop, proved here on any OS: output on a GBK
console, the sync lock, files held by another program, attachments opened through a copy
with the right ending, `attach` expanding patterns, options after the command, plain mode.

Windows-only branches (msvcrt, os.startfile, WinError codes) run against stand-ins that
behave as Windows does; the POSIX branches run for real.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fieldapp.cli import main
from fieldapp.compat import console, files, locking, terminal
from fieldapp.context import AppContext
from fieldapp.demo import demo_areas
from fieldapp.domain import attachment_types as types
from fieldapp.store import attachments as att
from tests.attachment_support import jpeg_bytes, pdf_bytes, write
from tests.conftest import complete_site

FIELDAPP = [sys.executable, "-m", "fieldapp"]


# -- console encoding ----------------------------------------------------------------------

def test_characters_gbk_lacks_become_readable_look_alikes():
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="gbk", errors="strict", write_through=True)
    console.make_safe(stream)
    stream.write("覆盖 ✓ 缺 ✗ 面积 12m² 120㎡ 😀\n")
    assert raw.getvalue().decode("gbk") == "覆盖 √ 缺 × 面积 12m2 120㎡ ?\n"


def test_ascii_console_gets_ascii_stand_ins_and_utf8_is_left_alone():
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii", write_through=True)
    console.make_safe(stream)
    stream.write("✓ ✗ · 养\n")
    assert raw.getvalue() == b"v x . ?\n"
    utf8 = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    console.make_safe(utf8)
    assert utf8.errors == "strict"
    console.make_safe(io.StringIO())  # no reconfigure: left as it is


def test_coverage_redirected_to_a_gbk_file_exits_0(tmp_path):
    """The issue's own command: `PYTHONIOENCODING=gbk fieldapp coverage --area … > f.txt`."""
    data = tmp_path / "data"
    store = AppContext.create(str(data)).open_store()
    store.load_areas(demo_areas())
    store.save("site", complete_site())
    store.conn.close()
    out = tmp_path / "f.txt"
    env = {**os.environ, "PYTHONIOENCODING": "gbk"}
    with open(out, "wb") as fh:
        proc = subprocess.run([*FIELDAPP, "--data-dir", str(data), "coverage", "--area",
                               "310104003"], stdout=fh, stderr=subprocess.PIPE, env=env,
                              timeout=120)
    assert proc.returncode == 0, proc.stderr.decode("gbk", "replace")
    text = out.read_bytes().decode("gbk")  # strict: every byte is valid GBK
    assert "×" in text and "网格" in text and "✗" not in text


# -- the sync lock -------------------------------------------------------------------------

def test_file_lock_is_exclusive_between_opens_and_processes(tmp_path):
    path = tmp_path / "x.sync-lock"
    first, second = locking.FileLock(path), locking.FileLock(path)
    assert first.acquire() and first.held
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()

    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from fieldapp.compat.locking import FileLock
            lock = FileLock({str(path)!r})
            assert lock.acquire()
            print("held", flush=True)
            sys.stdin.read()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert not first.acquire()
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert first.acquire()  # the holder's exit released it
    first.release()


def test_windows_branch_locks_the_first_byte_with_msvcrt(tmp_path, monkeypatch):
    calls: list[tuple[int, int]] = []
    held: set[str] = set()

    class FakeMsvcrt:
        LK_NBLCK, LK_UNLCK = 2, 0

        @staticmethod
        def locking(fd: int, mode: int, nbytes: int) -> None:
            name = os.path.realpath(f"/proc/self/fd/{fd}")
            assert os.lseek(fd, 0, os.SEEK_CUR) == 0 and nbytes == 1
            calls.append((mode, nbytes))
            if mode == FakeMsvcrt.LK_NBLCK:
                if name in held:
                    raise PermissionError(13, "Permission denied")  # what msvcrt raises
                held.add(name)
            else:
                held.discard(name)

    monkeypatch.setitem(sys.modules, "msvcrt", FakeMsvcrt)
    monkeypatch.setattr(locking, "IS_WINDOWS", True)
    a, b = locking.FileLock(tmp_path / "l"), locking.FileLock(tmp_path / "l")
    assert a.acquire() and not b.acquire()
    a.release()
    assert b.acquire()
    b.release()
    assert calls[0] == (FakeMsvcrt.LK_NBLCK, 1) and (FakeMsvcrt.LK_UNLCK, 1) in calls


# -- files held by another program ---------------------------------------------------------

def _sharing_violation() -> PermissionError:
    exc = PermissionError(13, "The process cannot access the file because it is being used "
                              "by another process", "x")
    exc.winerror = 32  # as Windows sets it
    return exc


def test_a_short_windows_lock_is_waited_out_a_real_error_is_not():
    tries = []

    def flaky() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise _sharing_violation()
        return "done"

    assert files.retry_while_locked(flaky, delays=(0, 0, 0)) == "done" and len(tries) == 3

    def denied() -> None:
        tries.append(1)
        raise PermissionError(13, "Permission denied")  # POSIX: no winerror, no retry

    tries.clear()
    with pytest.raises(PermissionError):
        files.retry_while_locked(denied, delays=(0, 0, 0))
    assert len(tries) == 1

    def held() -> None:
        raise _sharing_violation()

    with pytest.raises(files.FileInUse):
        files.retry_while_locked(held, delays=(0, 0))


def test_demo_reset_retries_then_explains_a_held_file(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "demo"
    assert main(["--data-dir", str(folder), "demo", "--no-open", "--records", "5"]) == 0
    real_rmtree, calls = files.shutil.rmtree, []

    def rmtree_held_twice(path, **kwargs):  # noqa: ANN001, ANN003
        calls.append(path)
        if len(calls) <= 2:
            raise _sharing_violation()
        real_rmtree(path, **kwargs)

    monkeypatch.setattr(files, "RETRY_DELAYS", (0, 0, 0))
    monkeypatch.setattr(files.shutil, "rmtree", rmtree_held_twice)
    capsys.readouterr()
    assert main(["--data-dir", str(folder), "demo", "--no-open", "--reset",
                 "--records", "7"]) == 0
    assert len(calls) == 3 and "7 records" in capsys.readouterr().err

    monkeypatch.setattr(files.shutil, "rmtree", lambda path, **kw: (_ for _ in ()).throw(
        _sharing_violation()))
    assert main(["--data-dir", str(folder), "demo", "--no-open", "--reset"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fieldapp: ") and "cannot remove the old demo data" in err
    assert err.count("\n") == 1


# -- attachments through a copy with the right ending ---------------------------------------

def test_the_right_ending_for_the_content():
    assert types.extension_for("image/jpeg", "IMG_1.JPG") == ".JPG"
    assert types.extension_for("image/jpeg", "scan") == ".jpg"
    assert types.extension_for("image/heic", "phone.jpg") == ".heic"  # the content decides
    assert types.extension_for("application/pdf", "同意书.pdf") == ".pdf"
    assert files.safe_file_name('a<b>:"c"?.jpg', ".jpg") == "a_b___c__.jpg"
    assert files.safe_file_name("CON.jpg", ".jpg") == "_CON.jpg"
    assert files.safe_file_name("...", ".pdf") == "file.pdf"


@pytest.fixture
def attached(tmp_path):
    data = tmp_path / "data"
    store = AppContext.create(str(data)).open_store()
    store.load_areas(demo_areas())
    site = store.save("site", complete_site())
    photo = att.attach(store, site.id, write(tmp_path / "card" / "IMG_1.JPG",
                                              jpeg_bytes(2000)), data_dir=data)
    letter = att.attach(store, site.id, write(tmp_path / "card" / "同意书", pdf_bytes()),
                        data_dir=data)
    return data, store, site, photo, letter


def _fake_launcher(tmp_path: Path, exit_code: int) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    launcher = bin_dir / "xdg-open"
    launcher.write_text(f'#!/bin/sh\necho "$1" >> "{tmp_path}/opened"\nexit {exit_code}\n',
                        encoding="utf-8")
    launcher.chmod(0o755)
    return bin_dir


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX desktop's launcher")
def test_open_hands_the_desktop_a_copy_named_like_the_original(attached, tmp_path,
                                                               monkeypatch):
    data, store, _site, photo, letter = attached
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("PATH", f"{_fake_launcher(tmp_path, 0)}{os.pathsep}{os.environ['PATH']}")
    assert att.open_in_viewer(data, photo) is None and att.open_in_viewer(data, letter) is None
    opened = (tmp_path / "opened").read_text(encoding="utf-8").split()
    assert [Path(p).name for p in opened] == ["IMG_1.JPG", "同意书.pdf"]
    assert Path(opened[0]).read_bytes() == att.blob_path(data, photo.sha256).read_bytes()
    assert not str(opened[0]).startswith(str(data))  # a viewer never locks the stored file


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX desktop's launcher")
def test_no_program_for_the_file_is_a_message_not_a_crash(attached, tmp_path, monkeypatch):
    data, store, site, photo, _letter = attached
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("PATH", f"{_fake_launcher(tmp_path, 3)}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(att.AttachmentError) as caught:
        att.open_in_viewer(data, photo)
    assert "no program could open this file" in caught.value.message("en")
    assert "IMG_1.JPG" in caught.value.message("en")  # where the copy is, to open by hand
    code = main(["--data-dir", str(data), "attachment", "open", photo.id[:8]])
    assert code == 1


def test_windows_without_a_program_for_the_type(attached, monkeypatch):
    data, _store, _site, photo, _letter = attached
    started = []

    def startfile(path: str) -> None:
        started.append(path)
        raise OSError(22, "No application is associated with the specified file for this "
                          "operation", path)

    monkeypatch.setattr(files, "IS_WINDOWS", True)
    monkeypatch.setattr(os, "startfile", startfile, raising=False)
    with pytest.raises(att.AttachmentError) as caught:
        att.open_in_viewer(data, photo)
    assert started and started[0].endswith("IMG_1.JPG")
    assert "没有能打开此文件的程序" in caught.value.message("zh")


async def test_the_app_says_why_it_cannot_open_and_keeps_running(attached, monkeypatch):
    from fieldapp.ui.screens.attachments import AttachmentsScreen
    from fieldapp.ui.screens.record_detail import RecordDetailScreen
    from tests.ui_support import SIZE, make_app, settle, text_of, wait_for_screen

    data, store, site, _photo, _letter = attached
    store.set_setting("current_user", "wangfang")
    store.conn.close()

    def no_program(path: Path) -> bool:
        raise files.NoViewer("WinError 1155: no application is associated")

    monkeypatch.setattr(files, "open_with_desktop", no_program)
    app = make_app(data, "en")
    async with app.run_test(size=SIZE) as pilot:
        app.open_detail(site.id)
        await wait_for_screen(pilot, RecordDetailScreen)
        await pilot.press("a")
        screen = await wait_for_screen(pilot, AttachmentsScreen)
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert "no program could open this file" in text_of(screen.query_one("#att-message"))
        assert app.is_running and isinstance(app.screen, AttachmentsScreen)


# -- attach expands patterns itself; options after the command ------------------------------

def test_attach_expands_a_pattern_cmd_left_alone(attached, tmp_path, capsys):
    data, store, site, *_ = attached
    card = tmp_path / "DCIM"
    for name in ("IMG_2.JPG", "IMG_3.JPG"):
        write(card / name, jpeg_bytes(100 + len(name)))
    write(card / "notes.txt", b"skip")
    capsys.readouterr()
    assert main(["attach", site.id[:8], str(card / "*.JPG"), "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "IMG_2.JPG" in out and "IMG_3.JPG" in out and "notes" not in out
    assert main(["attach", site.id[:8], str(card / "*.PNG"), "--data-dir", str(data)]) == 1
    assert "no file matches" in capsys.readouterr().err


def test_options_after_the_command(attached, capsys):
    data, *_ = attached
    other = data.parent / "other"
    capsys.readouterr()
    assert main(["status", "--json", "--data-dir", str(data)]) == 0
    assert '"total": 2' in capsys.readouterr().out
    assert main(["--data-dir", str(other), "status", "--data-dir", str(data), "--json"]) == 0
    assert '"total": 2' in capsys.readouterr().out  # after the command wins
    assert main(["review", "queue", "--json", "--data-dir", str(data), "--lang", "en"]) == 0
    assert main(["settings", "borders", "--data-dir", str(data)]) == 0
    assert "borders = auto" in capsys.readouterr().out
    assert main(["--data-dir", str(data), "settings", "borders", "plain"]) == 0
    assert AppContext.create(str(data)).open_store().setting("borders") == "plain"
    assert main(["--data-dir", str(data), "settings", "borders", "wide"]) == 1
    assert "auto | plain | box" in capsys.readouterr().err


# -- plain borders -------------------------------------------------------------------------

def test_plain_is_chosen_for_conhost_with_a_cjk_code_page():
    from fieldapp.ui.plain import wants_plain

    wide = terminal.draws_box_chars_wide
    assert wide({}, 936, windows=True) and wide({}, 950, windows=True)
    assert not wide({"WT_SESSION": "x"}, 936, windows=True)  # Windows Terminal
    assert not wide({"TERM_PROGRAM": "vscode"}, 936, windows=True)
    assert not wide({}, 65001, windows=True) and not wide({}, 936, windows=False)
    assert wants_plain(True, None) and wants_plain(False, "plain")
    assert not wants_plain(False, "box")


def test_plain_mode_keeps_every_symbol_one_ascii_cell():
    from rich.cells import cell_len

    from fieldapp.ui.plain import narrow_symbols, plain_driver

    line = "─│┌┐└┘╭╮ ● · × √ ✓ ✗ ▾ ⏎ ↓ ↑ → — … ▀ ▍ ② 天平路 ㎡"
    written = []

    class Driver:
        def write(self, data: str) -> None:
            written.append(data)

    plain_driver(Driver)().write(f"\x1b[1;1H{line}")
    out = written[0]
    assert out.startswith("\x1b[1;1H")  # escape sequences untouched
    text = out[len("\x1b[1;1H"):]
    assert cell_len(text) == cell_len(line)  # no column moves
    assert all(ch.isascii() or cell_len(ch) == 2 for ch in text), text
    assert text.startswith("-|++++++ * . x v v x v") and "天平路 ㎡" in text
    assert len(narrow_symbols()) > 500


def test_plain_glyph_tables_are_ascii_and_undone():
    from textual import _border
    from textual.scrollbar import ScrollBarRender

    from fieldapp.ui.plain import apply_plain_glyphs

    before = _border.BORDER_CHARS["round"]
    undo = apply_plain_glyphs()
    try:
        for name in ("round", "tall", "heavy", "double", "wide", "panel"):
            assert all(ch.isascii() for row in _border.BORDER_CHARS[name] for ch in row)
        assert set(ScrollBarRender.VERTICAL_BARS) == {" "}
    finally:
        undo()
    assert _border.BORDER_CHARS["round"] == before and "▁" in ScrollBarRender.VERTICAL_BARS
