"""The offline install bundle: a folder with every wheel a target needs and its installer.

IT runs `fieldapp bundle --platform win_amd64 -o DIR` once on a machine with internet; the
folder goes to the laptops on a USB stick, where `install.cmd` / `install.sh` installs with
`pip --no-index` from it and nothing else. `platforms` names the targets, `check` proves a
folder complete (every requirement, followed with the target's own markers, has a wheel).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from packaging.requirements import Requirement

from fieldapp import __version__
from fieldapp.bundle.check import resolve
from fieldapp.bundle.platforms import PLATFORMS, PYTHONS, TARGETS, Target

MANIFEST = "bundle.json"
INSTALL_NOTE = "安装说明-INSTALL.txt"
#: How often missing requirements are fetched again before giving up (each round follows
#: the requirements the previous one brought in).
ROUNDS = 6


class BundleError(Exception):
    """The bundle cannot be made or is incomplete; the message says what is missing."""


@dataclass
class Problem:
    target: str
    python: str
    requirement: str

    def __str__(self) -> str:
        return f"{self.target} / Python {self.python}: no wheel for {self.requirement}"


def source_root() -> Path | None:
    """The checkout fieldapp runs from, when it runs from one (not from an installed wheel)."""
    root = Path(__file__).resolve().parents[2]
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and 'name = "fieldapp"' in pyproject.read_text(encoding="utf-8"):
        return root
    return None


def build_own_wheel(dest: Path, log=print) -> Path:  # noqa: ANN001
    """fieldapp's wheel, built from a clean copy of the checkout (a stale build/ folder in the
    checkout could otherwise slip old modules into it)."""
    root = source_root()
    if root is None:
        raise BundleError("fieldapp is not running from a source checkout: give its wheel with "
                          "--wheel FILE / 请在源代码目录运行,或用 --wheel 指定 fieldapp 的 wheel")
    with tempfile.TemporaryDirectory(prefix="fieldapp-wheel-") as tmp:
        copy = Path(tmp) / "src"
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
        for name in ("fieldapp", "sync"):
            shutil.copytree(root / name, copy / name, ignore=ignore)
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(root / name, copy / name)
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                   "--disable-pip-version-check", "--wheel-dir", str(dest), str(copy)]
        if _can_build_here():
            command.insert(5, "--no-build-isolation")
        log(f"building fieldapp {__version__} wheel")
        _run(command)
    wheels = sorted(dest.glob(f"fieldapp-{__version__}-*.whl"))
    if not wheels:
        raise BundleError("pip wheel made no fieldapp wheel")
    return wheels[-1]


def _can_build_here() -> bool:
    """setuptools that builds wheels by itself (70.1+, or with `wheel`) is already here, so
    pip need not fetch a build environment."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.version import Version

    try:
        if Version(version("setuptools")) >= Version("70.1"):
            return True
        version("wheel")
        return True
    except PackageNotFoundError:
        return False


def _run(command: list[str]) -> None:
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, encoding="utf-8", errors="replace")
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.strip().splitlines()[-15:])
        raise BundleError(f"{' '.join(command[2:4])} failed ({proc.returncode}):\n{tail}")


def download(requirements: list[str], target: Target, python: tuple[int, int], dest: Path,
             log=print, sources: list[str] | None = None) -> None:  # noqa: ANN001
    """pip download for `target` and `python`: binary wheels only, from the configured index
    (or only from `sources`, e.g. ["--no-index", "--find-links", CACHE])."""
    abi = f"cp{python[0]}{python[1]}"
    command = [sys.executable, "-m", "pip", "download", "--dest", str(dest),
               "--only-binary=:all:", "--implementation", "cp",
               "--python-version", f"{python[0]}.{python[1]}",
               "--abi", abi, "--abi", "abi3", "--abi", "none",
               "--disable-pip-version-check", "--progress-bar", "off", "--quiet",
               *(sources or [])]
    for platform in target.platforms:
        command += ["--platform", platform]
    names = [Path(r).name if r.endswith(".whl") else r for r in requirements]
    log(f"  {target.name} Python {python[0]}.{python[1]}: pip download "
        f"{' '.join(names) if len(names) < 4 else f'{len(names)} requirements'}"
        f"{' (cache)' if sources else ''}")
    _run(command + requirements)


def gather(folder: Path, own_wheel: Path, target: Target, python: tuple[int, int],
           cache: Path | None = None, log=print) -> None:  # noqa: ANN001
    """Download into `folder` until every requirement of fieldapp resolves there on the
    target: from `cache` alone when it has everything, else from the index."""
    roots = [Requirement(f"fieldapp=={__version__}")]
    if cache is not None and cache.is_dir():
        try:
            download([str(own_wheel)], target, python, folder, log,
                     ["--no-index", "--find-links", str(cache)])
            if not resolve(folder, target, python, roots).missing:
                return
        except BundleError:
            pass  # something is not in the cache yet: the index has it
    download([str(own_wheel)], target, python, folder, log)
    for _round in range(ROUNDS):
        missing = resolve(folder, target, python, roots).missing
        if not missing:
            return
        # pip evaluated these requirements' markers for this machine, not the target.
        download(missing, target, python, folder, log)
    missing = resolve(folder, target, python, roots).missing
    if missing:
        raise BundleError(f"{target.name} Python {python[0]}.{python[1]}: no binary wheel for "
                          f"{', '.join(missing)}")


def check(folder: Path) -> list[Problem]:
    """Every requirement of every target and Python the manifest names has a wheel."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BundleError(f"not a fieldapp bundle ({MANIFEST} unreadable): {exc}") from exc
    roots = [Requirement(f"fieldapp=={manifest['fieldapp']}")]
    problems = []
    for name in manifest["targets"]:
        for version in manifest["pythons"]:
            python = tuple(int(part) for part in version.split("."))
            for requirement in resolve(folder / "wheels", TARGETS[name], python, roots).missing:
                problems.append(Problem(name, version, requirement))
    for file, digest in manifest["files"].items():
        path = folder / file
        if not path.is_file() or _sha256(path) != digest:
            problems.append(Problem("-", "-", f"{file} (missing or changed since made)"))
    return problems


def build(platform: str, out: Path, pythons: tuple[tuple[int, int], ...] = PYTHONS,
          wheel: Path | None = None, python_installer: Path | None = None,
          cache: Path | None = None, log=print) -> dict:  # noqa: ANN001
    """Make (or top up) the bundle folder `out` for `platform`; returns its manifest.

    `cache`: a folder of wheels kept between runs (CI); used alone when it has everything a
    target needs, and filled with what was downloaded."""
    if platform not in PLATFORMS:
        raise BundleError(f"unknown platform {platform!r}: {' | '.join(PLATFORMS)}")
    out = Path(out)
    wheels = out / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    if wheel is not None:
        own = wheels / Path(wheel).name
        shutil.copy2(wheel, own)
    else:
        own = build_own_wheel(wheels, log)
    targets = [TARGETS[name] for name in PLATFORMS[platform]]
    jobs = [(target, python) for target in targets for python in pythons]
    parts = out / ".parts"
    shutil.rmtree(parts, ignore_errors=True)
    # Each target and Python in its own folder, side by side: the time goes to index round
    # trips, not the CPU, and separate folders keep one pip from reading another's half file.
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = []
        for target, python in jobs:
            part = parts / f"{target.name}-{python[0]}{python[1]}"
            part.mkdir(parents=True)
            futures.append(pool.submit(gather, part, own, target, python, cache, log))
        for future in futures:
            future.result()
    for part in sorted(parts.iterdir()):
        for wheel_file in part.glob("*.whl"):
            if not (wheels / wheel_file.name).exists():
                os.replace(wheel_file, wheels / wheel_file.name)
    shutil.rmtree(parts)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        for wheel_file in wheels.glob("*.whl"):
            if wheel_file != own and not (cache / wheel_file.name).exists():
                shutil.copy2(wheel_file, cache / wheel_file.name)
    _write_installers(out, targets, python_installer)
    used = set()
    for target in targets:
        for python in pythons:
            chosen = resolve(wheels, target, python, [Requirement(
                f"fieldapp=={__version__}")]).chosen
            used |= {w.path.name for w in chosen.values()}
    for stale in wheels.glob("*.whl"):  # left from an older fieldapp in the same folder
        if stale.name not in used:
            stale.unlink()
    manifest = {
        "fieldapp": __version__, "platform": platform, "targets": [t.name for t in targets],
        "pythons": [f"{a}.{b}" for a, b in pythons],
        "made_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "files": {path.relative_to(out).as_posix(): _sha256(path)
                  for path in sorted(out.rglob("*")) if path.is_file() and
                  path.name != MANIFEST},
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n",
                                encoding="utf-8")
    _write_note(out, manifest, targets)
    return manifest


def _template(name: str) -> str:
    return resources.files("fieldapp.bundle").joinpath("templates", name).read_text(
        encoding="utf-8")


def _write_installers(out: Path, targets: list[Target], python_installer: Path | None) -> None:
    scripts = {t.installer for t in targets}
    if "install.ps1" in scripts:
        # Windows PowerShell 5.1 reads a script without a BOM in the ANSI code page, and
        # cmd.exe wants CRLF: write them as Windows expects.
        (out / "install.ps1").write_bytes(
            b"\xef\xbb\xbf" + _template("install.ps1").replace("\n", "\r\n").encode("utf-8"))
        (out / "install.cmd").write_bytes(
            _template("install.cmd").replace("\n", "\r\n").encode("ascii"))
    if "install.sh" in scripts:
        script = out / "install.sh"
        script.write_bytes(_template("install.sh").encode("utf-8"))
        if sys.platform != "win32":  # the executable bit; `sh install.sh` works without it
            script.chmod(0o755)
    if python_installer is not None:
        shutil.copy2(python_installer, out / Path(python_installer).name)


def _write_note(out: Path, manifest: dict, targets: list[Target]) -> None:
    windows = any(t.installer == "install.ps1" for t in targets)
    steps = _template("steps_windows.txt" if windows else "steps_posix.txt")
    text = _template("INSTALL.txt").format(
        version=manifest["fieldapp"], platform=manifest["platform"], steps=steps.strip(),
        wheel_count=sum(1 for f in manifest["files"] if f.startswith("wheels/")),
        pythons=", ".join(manifest["pythons"]), made_at=manifest["made_at"])
    if windows:  # Notepad on older Windows 10 needs the BOM to show Chinese
        (out / INSTALL_NOTE).write_bytes(
            b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    else:
        (out / INSTALL_NOTE).write_text(text, encoding="utf-8")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
