"""The offline bundle: which wheels a target needs (its markers, tags and extras, not the build
machine's), the completeness check, and `fieldapp bundle` run end to end against a local
package folder (pip --no-index), so no network is needed here. CI builds the real
manylinux_x86_64 and win_amd64 bundles from PyPI and installs one (.ci/laptop-smoke)."""

from __future__ import annotations

import base64
import hashlib
import json
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from fieldapp import __version__
from fieldapp.bundle import BundleError, build, check
from fieldapp.bundle.check import resolve
from fieldapp.bundle.platforms import TARGETS
from fieldapp.cli import main

ROOT = Path(__file__).resolve().parent.parent
WIN, LINUX = TARGETS["win_amd64"], TARGETS["manylinux_x86_64"]


def make_wheel(folder: Path, name: str, version: str, requires: list[str] = (),
               tag: str = "py3-none-any", extras: list[str] = ()) -> Path:
    """A minimal real wheel pip accepts."""
    folder.mkdir(parents=True, exist_ok=True)
    dist = f"{name.replace('-', '_')}-{version}"
    path = folder / f"{dist}-{tag}.whl"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Provides-Extra: {extra}\n" for extra in extras)
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = {f"{dist}.dist-info/METADATA": metadata,
             f"{dist}.dist-info/WHEEL": f"Wheel-Version: 1.0\nGenerator: test\n"
                                        f"Root-Is-Purelib: true\nTag: {tag}\n",
             f"{name.replace('-', '_')}/__init__.py": ""}
    record = ""
    for file, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record += f"{file},sha256={digest.decode()},{len(text.encode())}\n"
    files[f"{dist}.dist-info/RECORD"] = record + f"{dist}.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as archive:
        for file, text in files.items():
            archive.writestr(file, text)
    return path


def test_requirements_followed_with_the_targets_markers_tags_and_extras(tmp_path):
    wheels = tmp_path / "wheels"
    make_wheel(wheels, "fieldapp", __version__, [
        "clickish>=8", "db[binary]>=3", "fast>=1",
        "heif>=0.18; sys_platform == 'win32' or sys_platform == 'linux'"])
    make_wheel(wheels, "clickish", "8.1", ["colorama; platform_system == 'Windows'"])
    make_wheel(wheels, "db", "3.2", ["db-binary==3.2; extra == 'binary'"], extras=["binary"])
    make_wheel(wheels, "db-binary", "3.2", tag="cp312-cp312-manylinux_2_17_x86_64")
    make_wheel(wheels, "fast", "1.0", tag="cp312-cp312-manylinux_2_34_x86_64")  # too new glibc
    make_wheel(wheels, "fast", "1.0", tag="cp311-cp311-win_amd64")
    make_wheel(wheels, "heif", "1.4", tag="cp312-cp312-win_amd64")
    roots = [Requirement(f"fieldapp=={__version__}")]

    on_windows = resolve(wheels, WIN, (3, 12), roots)
    # colorama only matters on Windows; a Linux build machine's pip never fetched it.
    assert sorted(on_windows.missing) == ["colorama", "db-binary==3.2", "fast>=1"]
    assert set(on_windows.chosen) == {"fieldapp", "clickish", "db", "heif"}
    assert resolve(wheels, WIN, (3, 11), roots).chosen["fast"].version.public == "1.0"

    on_linux = resolve(wheels, LINUX, (3, 12), roots)
    assert sorted(on_linux.missing) == ["fast>=1", "heif>=0.18"]  # glibc 2.34 > 2.28
    assert "db-binary" in on_linux.chosen  # the extra was followed


def test_pyproject_keeps_server_packages_out_of_the_laptop_install():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = [Requirement(r).name for r in project["dependencies"]]
    extras = project["optional-dependencies"]
    assert "psycopg" not in core
    assert any(Requirement(r).name == "psycopg" for r in extras["postgres"])
    assert any(Requirement(r).name == "psycopg" for r in extras["test"])  # PostgreSQL tests
    for ui in ("textual", "textual-plotext", "rich"):  # majors pinned: plain mode patches them
        spec = next(Requirement(r).specifier for r in project["dependencies"]
                    if Requirement(r).name == ui)
        assert any(s.operator == "<" for s in spec), ui


def test_postgres_without_its_driver_says_what_to_install(monkeypatch):
    import sys

    from sync.server.db import make_engine

    monkeypatch.setitem(sys.modules, "psycopg", None)  # as on a laptop install
    with pytest.raises(ValueError, match=r"fieldapp\[postgres\]"):
        make_engine("postgresql://fieldapp@db/fieldapp")


@pytest.fixture
def package_folder(tmp_path, monkeypatch):
    """A local package folder standing in for PyPI, and pip pointed at it alone."""
    index = tmp_path / "index"
    make_wheel(index, "dep-a", "1.0", ["dep-b>=2", "winonly; sys_platform == 'win32'"])
    make_wheel(index, "dep-b", "2.0")
    make_wheel(index, "dep-b", "2.1")
    make_wheel(index, "winonly", "0.4")
    for abi in ("cp311", "cp312", "cp313"):
        make_wheel(index, "native", "3.0", tag=f"{abi}-{abi}-win_amd64")
        make_wheel(index, "native", "3.0", tag=f"{abi}-{abi}-manylinux_2_17_x86_64")
    own = make_wheel(tmp_path / "own", "fieldapp", __version__, ["dep-a", "native>=3"])
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    return own


def test_bundle_for_windows_has_every_wheel_and_the_installers(package_folder, tmp_path):
    out = tmp_path / "bundle"
    installer = tmp_path / "python-3.12.8-amd64.exe"
    installer.write_bytes(b"MZ")
    manifest = build("win_amd64", out, wheel=package_folder, python_installer=installer,
                     log=lambda line: None)
    names = sorted(p.name for p in (out / "wheels").iterdir())
    assert "winonly-0.4-py3-none-any.whl" in names  # fetched in a second round
    assert [n for n in names if n.startswith("native")] == [
        f"native-3.0-{a}-{a}-win_amd64.whl" for a in ("cp311", "cp312", "cp313")]
    assert "dep_b-2.1-py3-none-any.whl" in names and "dep_b-2.0-py3-none-any.whl" not in names
    assert manifest["pythons"] == ["3.11", "3.12", "3.13"]
    assert check(out) == []

    ps1, cmd = (out / "install.ps1").read_bytes(), (out / "install.cmd").read_bytes()
    assert ps1.startswith(b"\xef\xbb\xbf") and b"\r\n" in ps1  # PowerShell 5.1 reads UTF-8
    assert cmd.isascii() and b"\r\n" in cmd and b"install.ps1" in cmd
    script = ps1.decode("utf-8-sig")
    assert "--no-index" in script and '--find-links "$here\\wheels"' in script
    assert "RunAs" not in script and "InstallAllUsers=0" in script  # never asks for admin
    assert 'GetFolderPath("Programs")' in script and 'GetFolderPath("Desktop")' in script
    assert "wt.exe" in script  # shortcuts open Windows Terminal where it is installed
    assert (out / installer.name).read_bytes() == b"MZ"
    note = (out / "安装说明-INSTALL.txt").read_bytes()
    assert note.startswith(b"\xef\xbb\xbf")
    text = note.decode("utf-8-sig")
    assert "install.cmd --demo" in text and "双击 install.cmd" in text and "win_amd64" in text
    assert not (out / "install.sh").exists()

    (out / "wheels" / "winonly-0.4-py3-none-any.whl").unlink()
    problems = [str(p) for p in check(out)]
    assert "win_amd64 / Python 3.11: no wheel for winonly" in problems
    assert any("missing or changed" in p for p in problems)


def test_bundle_for_linux_from_the_command_line(package_folder, tmp_path, capsys):
    out = tmp_path / "linux"
    assert main(["bundle", "--platform", "manylinux_x86_64", "-o", str(out), "--python",
                 "3.12", "--wheel", str(package_folder)]) == 0
    assert "Python 3.12" in capsys.readouterr().out
    names = sorted(p.name for p in (out / "wheels").iterdir())
    assert "native-3.0-cp312-cp312-manylinux_2_17_x86_64.whl" in names
    assert not any(n.startswith("winonly") for n in names)
    script = (out / "install.sh").read_text(encoding="utf-8")
    assert "--no-index" in script and "install_only" in script
    assert "sh install.sh --demo" in (out / "安装说明-INSTALL.txt").read_text(encoding="utf-8")
    assert main(["bundle", "--check", str(out)]) == 0

    try:  # not one of the platforms offered
        code = main(["bundle", "--platform", "win_arm64", "-o", str(out)])
    except SystemExit as exc:  # argparse's own exit
        code = exc.code
    assert code == 2
    assert main(["bundle", "--platform", "win_amd64", "-o", str(out), "--python", "3.9"]) == 2
    assert main(["bundle", "--check", str(tmp_path)]) == 1
    assert "not a fieldapp bundle" in capsys.readouterr().err


def test_a_requirement_without_a_binary_wheel_is_named(package_folder, tmp_path):
    own = make_wheel(tmp_path / "own2", "fieldapp", __version__, ["nowheel>=1"])
    with pytest.raises(BundleError, match="nowheel"):
        build("win_amd64", tmp_path / "b", pythons=((3, 12),), wheel=own, log=lambda line: None)


def test_cache_alone_serves_a_second_bundle(package_folder, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    build("manylinux_x86_64", tmp_path / "one", pythons=((3, 12),), wheel=package_folder,
          cache=cache, log=lambda line: None)
    assert (cache / "dep_b-2.1-py3-none-any.whl").exists()
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "nowhere"))  # the "index" is gone
    lines = []
    build("manylinux_x86_64", tmp_path / "two", pythons=((3, 12),), wheel=package_folder,
          cache=cache, log=lines.append)
    assert all("(cache)" in line for line in lines if "pip download" in line)
    assert check(tmp_path / "two") == []
    assert json.loads((tmp_path / "two" / "bundle.json").read_text(encoding="utf-8"))[
        "targets"] == ["manylinux_x86_64"]
