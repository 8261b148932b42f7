"""`fieldapp bundle`: make (or check) the offline install folder for street-office laptops."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from fieldapp.cli import CliError
from fieldapp.cli.lang import tr


def register(sub: argparse._SubParsersAction) -> None:
    from fieldapp.bundle.platforms import PLATFORMS

    p = sub.add_parser(
        "bundle", help=tr("为各电脑制作离线安装包(需要联网一次)",
                          "make an offline install folder for laptops (needs internet once)"),
        description="制作离线安装包 / make an offline install folder: every wheel the platform "
                    "needs for Python 3.11-3.13, the install script and 安装说明-INSTALL.txt.")
    p.add_argument("--platform", choices=sorted(PLATFORMS),
                   help="the laptops' system (macos holds Apple silicon and Intel)")
    p.add_argument("-o", "--output", metavar="DIR", type=Path, help="the folder to write")
    p.add_argument("--python", action="append", metavar="3.X", dest="pythons",
                   help="only these Python versions (default 3.11, 3.12 and 3.13)")
    p.add_argument("--wheel", metavar="FILE", type=Path,
                   help="fieldapp's own wheel (default: build it from this checkout)")
    p.add_argument("--python-installer", metavar="FILE", type=Path,
                   help="also ship this Python installer (python.org's python-3.12.x-amd64.exe "
                        "for Windows, a python-build-standalone install_only tarball for Linux)")
    p.add_argument("--cache", metavar="DIR", type=Path,
                   default=os.environ.get("FIELDAPP_BUNDLE_CACHE") or None,
                   help="keep downloaded wheels here and reuse them when they are all there "
                        "(also FIELDAPP_BUNDLE_CACHE)")
    p.add_argument("--check", metavar="DIR", type=Path,
                   help="only check a made folder: every requirement has a wheel, nothing changed")
    p.set_defaults(func=cmd_bundle)


def cmd_bundle(args: argparse.Namespace) -> int:
    from fieldapp.bundle import PYTHONS, BundleError, build, check

    try:
        if args.check:
            problems = check(args.check)
            for problem in problems:
                print(f"fieldapp: {problem}", file=sys.stderr)
            if problems:
                return 1
            print(f"完整 / complete: {args.check}")
            return 0
        if not args.platform or not args.output:
            raise CliError("请给出 --platform 和 -o DIR / give --platform and -o DIR "
                           "(or --check DIR)", 2)
        pythons = PYTHONS
        if args.pythons:
            try:
                pythons = tuple(tuple(int(x) for x in v.split(".")[:2]) for v in args.pythons)
            except ValueError:
                raise CliError(f"--python 应为 3.11 这样的版本 / --python takes a version such "
                               f"as 3.12, not {args.pythons}", 2) from None
            unknown = [p for p in pythons if p not in PYTHONS]
            if unknown:
                raise CliError(f"只支持 / supported: 3.11, 3.12, 3.13 (not {unknown})", 2)
        for path in (args.wheel, args.python_installer):
            if path is not None and not path.is_file():
                raise CliError(f"找不到文件 / file not found: {path}")
        manifest = build(args.platform, args.output, pythons, args.wheel,
                         args.python_installer, Path(args.cache) if args.cache else None,
                         log=lambda line: print(line, file=sys.stderr))
    except BundleError as exc:
        raise CliError(str(exc)) from exc
    wheels = sum(1 for name in manifest["files"] if name.startswith("wheels/"))
    print(f"已完成 / done: {args.output} ({wheels} wheels, Python "
          f"{', '.join(manifest['pythons'])}; {', '.join(manifest['targets'])})")
    return 0
