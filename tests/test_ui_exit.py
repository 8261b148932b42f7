"""`fieldapp` (the app) exits non-zero when the app stopped on an error, so a script or a
desktop shortcut can tell a crash from a normal quit."""

from __future__ import annotations

from fieldapp.cli import main
from fieldapp.ui.app import FieldApp
from tests.ui_support import copy_demo


def _headless(monkeypatch, on_mount=None):
    original = FieldApp.run

    def run(self, **kwargs):
        kwargs["headless"] = True
        if on_mount is None:  # a normal session: quit as soon as the app is up
            self.call_later(self.exit)
        return original(self, **kwargs)

    monkeypatch.setattr(FieldApp, "run", run)
    if on_mount is not None:
        monkeypatch.setattr(FieldApp, "on_mount", on_mount)


def test_a_crash_in_the_app_exits_with_1(demo_template, tmp_path, monkeypatch, capsys):
    data = copy_demo(demo_template, tmp_path / "data")

    def crash(self):
        raise RuntimeError("boom")

    _headless(monkeypatch, crash)
    assert main(["--data-dir", str(data)]) == 1
    assert "boom" in capsys.readouterr().err  # Textual prints the traceback


def test_a_normal_quit_exits_with_0(demo_template, tmp_path, monkeypatch):
    data = copy_demo(demo_template, tmp_path / "data")
    _headless(monkeypatch)
    assert main(["--data-dir", str(data)]) == 0
