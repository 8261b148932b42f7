"""`fieldapp serve` and `fieldapp admin …`: run the registry and manage its users and areas."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from fieldapp.cli import CliError
from fieldapp.cli.lang import tr
from fieldapp.cli.options import choice_type, port_number, positive_int
from fieldapp.domain.choices import COORD_SYSTEM, ROLE


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help=tr("运行中心登记库服务器(HTTP 接口)",
                                       "run the central registry server (HTTP API)"))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=port_number, default=8765, help=tr("端口 1–65535(默认 8765)",
                                                                    "1–65535 (default 8765)"))
    p.add_argument("--database-url", metavar="URL",
                   help="sqlite:///FILE or postgresql+psycopg://USER@HOST/DB "
                        "(default: registry.sqlite3 in the data dir; also FIELDAPP_DATABASE_URL)")
    p.add_argument("--workers", type=positive_int, default=1, metavar="N",
                   help="uvicorn worker processes (use PostgreSQL for more than one)")
    p.add_argument("--forwarded-allow-ips", metavar="IPS", default=None,
                   help="load balancer addresses whose X-Forwarded-For is trusted (the client "
                        "address limits failed enrolments); default 127.0.0.1")
    p.add_argument("--blob-dir", metavar="DIR",
                   help="keep photos and documents in this folder (same as --blob-store "
                        "dir:DIR; also FIELDAPP_BLOB_DIR)")
    p.add_argument("--blob-store", metavar="dir:PATH|postgres",
                   help="where photos and documents are kept: a folder, or the PostgreSQL "
                        "database itself so several hosts share them (default: postgres on "
                        "PostgreSQL, blobs/ beside a SQLite file; also FIELDAPP_BLOB_STORE)")
    p.add_argument("--user-quota", metavar="SIZE",
                   help="content one user may store, e.g. 10GB, 500MB, 0 for no limit "
                        "(default 10GB; also FIELDAPP_USER_QUOTA_BYTES)")
    p.add_argument("--metrics-port", type=port_number, metavar="PORT",
                   help="serve Prometheus /metrics on this port (keep it private); or set "
                        "FIELDAPP_METRICS_TOKEN to serve /metrics on the main port behind "
                        "that bearer token")
    p.add_argument("--metrics-host", default="127.0.0.1", metavar="ADDR",
                   help="address for --metrics-port (default 127.0.0.1)")
    p.add_argument("--log-format", choices=["text", "json"],
                   help="request log lines as text (default) or one JSON object each "
                        "(also FIELDAPP_LOG_FORMAT)")
    p.set_defaults(func=cmd_serve)

    admin = sub.add_parser("admin", help=tr("管理登记库:用户、注册码、区域、备份",
                                           "manage the registry: users, tokens, areas, backups"))
    admin.add_argument("--database-url", metavar="URL", help="as for serve")
    asub = admin.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    p = asub.add_parser("add-user", help=tr("添加(或续期)用户并给出一次性注册码",
                                            "add a user (or renew one) and print a one-time "
                                            "enrolment token"))
    p.add_argument("name")
    p.add_argument("--role", required=True, type=choice_type(ROLE, ("角色", "role")),
                   metavar="ROLE", help=tr("网格员、主管或管理员 (worker|supervisor|admin)",
                                           "worker|supervisor|admin (网格员/主管/管理员)"))
    p.add_argument("--scope", required=True, metavar="CODE[,CODE…]",
                   help=tr("区、街镇或网格编码,逗号分隔;* 为全市",
                           "district, street or grid codes; * for the whole city"))
    p.set_defaults(func=cmd_add_user)
    p = asub.add_parser("list-users", help=tr("列出用户、角色、范围和设备",
                                              "list users, roles, scopes and devices"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list_users)
    p = asub.add_parser("revoke-user", help=tr("停用用户及其全部设备",
                                               "revoke a user and every device they enrolled"))
    p.add_argument("name")
    p.add_argument("--devices-only", action="store_true",
                   help="cut off the user's devices (a lost laptop) but keep the user")
    p.set_defaults(func=cmd_revoke_user)
    p = asub.add_parser("restore-user", help=tr(
        "恢复被停用的用户并发给新的一次性注册码(旧设备仍停用,需重新登记)",
        "give a revoked user their account back with a new one-time token (their old devices "
        "stay revoked: each enrolls again)"))
    p.add_argument("name")
    p.set_defaults(func=cmd_restore_user)
    p = asub.add_parser("load-areas", help=tr(
        "从 CSV 导入区域(code,name,level,parent_code[,lat,lng,households,pilot,"
        "annual_target])或从 GeoJSON 导入网格边界",
        "load areas from CSV (code,name,level,parent_code[,lat,lng,households,pilot,"
        "annual_target]) or grid outlines from GeoJSON"))
    p.add_argument("file", help="areas.csv, or grids.geojson (Polygon/MultiPolygon per grid, "
                                "its code in a code/grid_code/网格编码 property)")
    p.add_argument("--coords", type=choice_type(COORD_SYSTEM, ("坐标系", "coordinates")),
                   metavar="wgs84|gcj02",
                   help="GeoJSON coordinates (default: what the file declares, else wgs84); "
                        "gcj02 (Amap/Tencent) is converted to WGS-84 on load")
    p.set_defaults(func=cmd_load_areas)
    p = asub.add_parser("load-demo-areas", help=tr("导入演示用的区、街镇和网格",
                                                   "load the demo districts, streets and grids"))
    p.set_defaults(func=cmd_load_demo_areas)
    p = asub.add_parser("set-pilot", help=tr("把社区(或街镇)标为试点;--off 取消",
                                             "flag areas as pilot communities; --off unflags"))
    p.add_argument("codes", nargs="+", metavar="CODE")
    p.add_argument("--off", action="store_true", help=tr("取消试点", "no longer a pilot"))
    p.set_defaults(func=cmd_set_pilot)
    p = asub.add_parser("set-target", help=tr("区域今年计划开放的设施数(年度目标)",
                                              "how many facilities an area plans to open this "
                                              "year (annual target)"))
    p.add_argument("codes", nargs="+", metavar="CODE")
    p.add_argument("--target", type=int, metavar="N",
                   help=tr("设施数;不给则清除", "number of facilities; omit to clear"))
    p.set_defaults(func=cmd_set_target)
    p = asub.add_parser("devices", help=tr(
        "已登记的设备:最近同步时间、程序版本、当时待同步的数量",
        "enrolled devices: last sync, app version, what waited to sync at that time"))
    p.add_argument("--user", metavar="NAME")
    p.add_argument("--stale", metavar="AGE", help="only devices not seen for AGE (7d, 12h)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_devices)
    p = asub.add_parser("activity", help=tr(
        "谁在何时同步了什么(登记、推送、附件),最新的在前",
        "who synced what, when (enrolments, pushes, attachments), newest first"))
    p.add_argument("--user", metavar="NAME")
    p.add_argument("--since", metavar="WHEN", help="an age (7d) or a local date (2026-03-01)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_activity)
    p = asub.add_parser("backup", help=tr("把登记库(数据库和照片)备份到一个文件",
                                          "back up the registry (database and photo content) "
                                          "to one file"))
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument("--pg-bin", metavar="DIR", help="folder of pg_dump/pg_restore (default: "
                                                   "PATH; also FIELDAPP_PG_BIN)")
    _store_options(p)
    p.set_defaults(func=cmd_backup)
    p = asub.add_parser("restore", help=tr(
        "用备份替换登记库(先停止服务器);各电脑下次同步时补发较新的数据",
        "replace the registry with a backup (stop its hosts first); laptops re-send newer "
        "work at their next sync"))
    p.add_argument("file")
    p.add_argument("--yes", action="store_true",
                   help="really replace the registry's database with the backup's")
    p.add_argument("--pg-bin", metavar="DIR", help="as for backup")
    _store_options(p)
    p.set_defaults(func=cmd_restore)
    p = asub.add_parser("copy-blobs", help=tr(
        "从另一处存储复制照片内容到本登记库(如从文件夹到 PostgreSQL)",
        "copy photo content from another store into this registry's (e.g. a folder into "
        "PostgreSQL)"))
    p.add_argument("--from", dest="source", required=True, metavar="dir:PATH|postgres")
    _store_options(p)
    p.set_defaults(func=cmd_copy_blobs)
    p = asub.add_parser("gc-blobs", help=tr(
        "删除已无附件使用的照片/文件内容(有宽限期)",
        "delete photo/document content that no attachment uses any more, after a grace "
        "period"))
    p.add_argument("--older-than", default="7d", metavar="AGE",
                   help="only content stored or last asked for before this (7d, 12h; "
                        "default 7d)")
    p.add_argument("--dry-run", action="store_true", help="only say what would go")
    _store_options(p)
    p.set_defaults(func=cmd_gc_blobs)
    for action in asub.choices.values():
        action.add_argument("--database-url", metavar="URL", default=argparse.SUPPRESS,
                            help="as for serve")


def _store_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--blob-store", metavar="dir:PATH|postgres", help="as for serve")
    p.add_argument("--blob-dir", metavar="DIR", help="as for serve")


def database_url(args: argparse.Namespace) -> str:
    """--database-url, else FIELDAPP_DATABASE_URL, else registry.sqlite3 in the data dir."""
    url = getattr(args, "database_url", None)
    if url:
        return url
    from fieldapp import paths
    from sync.server.settings import settings

    return settings().url_or(f"sqlite:///{paths.data_dir(args.data_dir) / 'registry.sqlite3'}")


def _admin(func, *a):  # noqa: ANN001, ANN202
    from sqlalchemy.exc import OperationalError

    from sync.server.admin import AdminError
    from sync.server.migrations import SchemaTooNew

    try:
        return func(*a)
    except (AdminError, SchemaTooNew, ValueError, OSError) as exc:
        raise CliError(str(exc)) from None
    except OperationalError as exc:
        reason = " ".join(str(exc.orig).split())  # drivers answer in several lines; CLI: one
        raise CliError(f"无法连接数据库 / cannot reach the database: {reason}") from None


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from sync.server.db import normalise_url

    url = normalise_url(database_url(args))
    if args.workers > 1 and url.startswith("sqlite"):
        print("fieldapp: 注意 SQLite 多进程写入会排队 / note: several workers on SQLite queue "
              "for one writer; use PostgreSQL for real load", file=sys.stderr)
    _check_port(args.host, args.port)  # before anything is created, migrated or set
    # Workers are separate processes: they read these (sync/server/settings.py).
    os.environ["FIELDAPP_DATABASE_URL"] = url
    if args.blob_dir:
        os.environ["FIELDAPP_BLOB_DIR"] = str(Path(args.blob_dir).expanduser().resolve())
    _legacy_blob_folder(args, url)
    if args.blob_store:
        os.environ["FIELDAPP_BLOB_STORE"] = args.blob_store
    if args.user_quota is not None:
        os.environ["FIELDAPP_USER_QUOTA_BYTES"] = str(parse_size(args.user_quota))
    if args.log_format:
        os.environ["FIELDAPP_LOG_FORMAT"] = args.log_format
    _multiprocess_metrics()
    # Migrate once here so workers start on a ready schema and errors reach the user plainly.
    from sync.server.admin import engine_for
    from sync.server.blobstore import BlobStoreError, open_store

    engine = _admin(engine_for, url)
    try:
        store = open_store(engine, url, args.blob_store, args.blob_dir)
        store.check()
    except (BlobStoreError, OSError) as exc:
        raise CliError(f"附件存储不可用 / blob store unusable: {exc}") from None
    if args.metrics_port:
        from sync.server.metrics import available, serve_metrics_port

        if not available():
            raise CliError("--metrics-port 需要 prometheus-client / needs prometheus-client: "
                           "pip install 'fieldapp[server]'")
        serve_metrics_port(engine, args.metrics_host, args.metrics_port)
        print(f"metrics on http://{args.metrics_host}:{args.metrics_port}/metrics",
              file=sys.stderr)
    print(f"fieldapp registry on http://{args.host}:{args.port} ({url.split('://')[0]}, "
          f"files: {store.describe()}); API docs at /docs", file=sys.stderr)
    uvicorn.run("sync.server.asgi:app", host=args.host, port=args.port, workers=args.workers,
                access_log=False, log_level="warning", proxy_headers=True,
                forwarded_allow_ips=args.forwarded_allow_ips)
    return 0


def _legacy_blob_folder(args: argparse.Namespace, url: str) -> None:
    """Before the database store, a PostgreSQL registry kept photos in the user data folder
    by default. If they are there and nothing says where, keep serving them from there."""
    from sync.server.attachments import blob_dir_for
    from sync.server.settings import settings

    config = settings()
    if args.blob_store or args.blob_dir or config.blob_store or config.blob_dir \
            or not url.startswith("postgresql"):
        return
    legacy = blob_dir_for(url)
    if legacy.is_dir() and any(legacy.iterdir()):
        args.blob_store = f"dir:{legacy}"
        print(f"fieldapp: 注意 照片仍在 {legacy};用 fieldapp admin copy-blobs --from "
              f"dir:{legacy} 复制进数据库后改用 --blob-store postgres / note: photos are still "
              f"in {legacy}, serving them from there; copy them into the database with "
              f"fieldapp admin copy-blobs --from dir:{legacy}, then use --blob-store postgres",
              file=sys.stderr)


def _multiprocess_metrics() -> None:
    """Counters of every uvicorn worker add up when they write to one folder (emptied here:
    files of an earlier run would be counted again)."""
    import tempfile

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):  # only prometheus-client's own files
            stale.unlink(missing_ok=True)
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="fieldapp-metrics-")


def parse_size(text: str) -> int:
    """`10GB`, `500MB`, `1.5G`, `0`, a plain number of bytes → bytes (1 GB = 1024³)."""
    raw = text.strip().upper().replace(" ", "").removesuffix("B").removesuffix("I")
    units = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
    factor = units.get(raw[-1:], 1)
    number = raw[:-1] if raw[-1:] in units else raw
    try:
        value = float(number)
    except ValueError:
        raise CliError(f"大小应写作 10GB、500MB 或 0 / a size looks like 10GB, 500MB or 0: "
                       f"{text!r}") from None
    if value < 0:
        raise CliError(f"大小不能为负 / a size cannot be negative: {text!r}")
    return int(value * factor)


def _check_port(host: str, port: int) -> None:
    """Refuse a port another program holds (or a host this machine is not) before saying
    the registry is up: uvicorn would print our banner and then its own error."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise CliError(f"无法识别主机地址 {host} / unknown host address {host}: "
                       f"{exc.strerror}") from None
    family, kind, proto, _name, address = infos[0]
    probe = socket.socket(family, kind, proto)
    try:
        if os.name == "posix":  # as uvicorn binds; on Windows the option would steal the port
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)
    except OSError as exc:
        import errno

        if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
            raise CliError(f"端口 {port} 已被其他程序占用,请换一个 (--port) / port {port} is in "
                           f"use by another program: choose another with --port") from None
        raise CliError(f"无法在 {host}:{port} 监听 / cannot listen on {host}:{port}: "
                       f"{exc.strerror or exc}") from None
    finally:
        probe.close()


def cmd_add_user(args: argparse.Namespace) -> int:
    from sync.server.admin import add_user

    token = _admin(add_user, database_url(args), args.name, args.role, args.scope)
    print(f"用户 {args.name} ({args.role}) 的一次性注册码 / one-time enrolment token "
          f"(valid 7 days):", file=sys.stderr)
    print(token)
    return 0


def cmd_list_users(args: argparse.Namespace) -> int:
    from sync.server.admin import list_users

    users = _admin(list_users, database_url(args))
    if args.json:
        print(json.dumps(users, ensure_ascii=False, indent=1))
        return 0
    for u in users:
        state = "revoked" if u["revoked"] else f"{u['devices']} device(s)"
        print(f"{u['name']:<16} {u['role']:<10} {','.join(u['scopes']):<30} {state}")
    return 0


def cmd_revoke_user(args: argparse.Namespace) -> int:
    from sync.server.admin import revoke_user

    n = _admin(revoke_user, database_url(args), args.name, args.devices_only)
    if args.devices_only:
        print(f"已停用 {args.name} 的 {n} 台设备 / revoked {n} device(s) of {args.name}")
    else:
        print(f"已停用 {args.name} 及其 {n} 台设备 / revoked {args.name} and {n} device(s)")
    return 0


def cmd_restore_user(args: argparse.Namespace) -> int:
    from sync.server.admin import restore_user

    token = _admin(restore_user, database_url(args), args.name)
    print(f"已恢复用户 {args.name},新的一次性注册码 / {args.name} restored; new one-time "
          f"enrolment token (valid 7 days):", file=sys.stderr)
    print(token)
    return 0


def cmd_load_areas(args: argparse.Namespace) -> int:
    from sync.server.admin import load_areas, read_areas_csv

    if args.file.lower().endswith((".geojson", ".json")):
        from sync.server.admin import load_grid_shapes, read_grid_shapes

        shapes = _admin(read_grid_shapes, args.file, args.coords)
        n = _admin(load_grid_shapes, database_url(args), shapes)
        converted = " (GCJ-02 → WGS-84)" if shapes.coord_system == "gcj02" else ""
        print(f"已导入 {n} 个网格边界 / loaded {n} grid outlines{converted} "
              f"({len(shapes.rings)} read)")
        return 0
    areas = _admin(read_areas_csv, args.file)
    n = _admin(load_areas, database_url(args), areas)
    print(f"已导入 {n} 个新增或变更的区域 / loaded {n} new or changed areas "
          f"({len(areas)} rows read)")
    return 0


def cmd_load_demo_areas(args: argparse.Namespace) -> int:
    from sync.server.admin import load_demo_areas

    n = _admin(load_demo_areas, database_url(args))
    print(f"已导入 {n} 个演示区域 / loaded {n} demo areas")
    return 0


def cmd_set_pilot(args: argparse.Namespace) -> int:
    from sync.server.admin import set_pilot

    n = _admin(set_pilot, database_url(args), args.codes, not args.off)
    what = ("取消试点", "unflagged") if args.off else ("标为试点", "flagged as pilot")
    print(f"已{what[0]} {n} 个区域 / {what[1]}: {n} area(s) changed; 下次同步时送达各电脑 / "
          f"laptops get it at their next sync")
    return 0


def cmd_set_target(args: argparse.Namespace) -> int:
    from sync.server.admin import set_target

    n = _admin(set_target, database_url(args), args.codes, args.target)
    print(f"已设置年度目标 {args.target if args.target is not None else '(清除)'}: {n} 个区域 / "
          f"annual target set on {n} area(s)")
    return 0


def cmd_gc_blobs(args: argparse.Namespace) -> int:
    from sync.server.admin import gc_blobs

    r = _admin(gc_blobs, database_url(args), args.older_than, args.dry_run, args.blob_store,
               args.blob_dir)
    mb = r.bytes / 1024 / 1024
    verb = ("将删除 / would delete" if r.dry_run else "已删除 / deleted")
    print(f"{verb} {r.blobs} 个文件 file(s), {mb:,.1f} MB; "
          f"{r.uploads} 个中断的上传 abandoned upload(s)")
    print(f"保留 / kept: {r.kept_referenced} 个仍被附件使用 in use, "
          f"{r.kept_young} 个未过宽限期 within the grace period")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from sync.server.admin import blob_store
    from sync.server.backup import BackupError, backup

    url = database_url(args)
    store = _admin(blob_store, url, args.blob_store, args.blob_dir)
    try:
        info = _admin(lambda: backup(url, Path(args.output), store=store, pg_bin=args.pg_bin))
    except BackupError as exc:
        raise CliError(str(exc)) from None
    print(f"已备份登记库 ({info.database}, {info.blobs} 个附件文件 files in the folder store, "
          f"{info.bytes / 1024 / 1024:,.1f} MB) / registry backed up: {info.path}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from sync.server.admin import blob_store
    from sync.server.backup import BackupError, read_manifest, restore

    url = database_url(args)
    try:
        manifest = read_manifest(Path(args.file))
    except BackupError as exc:
        raise CliError(str(exc)) from None
    if not args.yes:
        raise CliError(f"这会用 {manifest.get('created_at')} 的备份替换登记库的全部数据;先停止所有"
                       f"服务器进程,再加 --yes / this replaces the whole registry with the backup "
                       f"of {manifest.get('created_at')}: stop every registry host, then add --yes")
    store = _admin(blob_store, url, args.blob_store, args.blob_dir)
    try:
        done = _admin(lambda: restore(url, Path(args.file), store=store, pg_bin=args.pg_bin))
    except BackupError as exc:
        raise CliError(str(exc)) from None
    print(f"已恢复到 {done['created_at']} 的备份 / restored the backup of {done['created_at']}; "
          f"new generation {done['new_generation'][:8]}: laptops re-send what they pushed "
          f"since at their next sync")
    return 0


def _when(iso: str | None) -> str:
    from fieldapp import localtime

    return localtime.show(iso) if iso else "-"


def cmd_devices(args: argparse.Namespace) -> int:
    from fieldapp import localtime
    from sync.server.admin import devices

    rows = _admin(devices, database_url(args), args.user, args.stale)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    if not rows:
        print("没有符合条件的设备 / no devices match")
        return 0
    zone = localtime.zone_label()
    print(f"{'用户 user':<14} {'设备 device':<22} {'最近同步 last sync (' + zone + ')':<24} "
          f"{'版本 version':<12} {'待同步 queued':>13} {'被拒 parked':>11}")
    for r in rows:
        device = (r["device_name"] or r["device_id"])[:22]
        seen = _when(r["last_sync_at"]) if r["last_sync_at"] else "从未 never"
        state = "  已停用 revoked" if r["revoked_at"] else ""
        if r.get("revoked_reason") == "cloned":  # one credential seen on two devices
            state = "  已停用:被复制 revoked: copied to another device"
        print(f"{r['user']:<14} {device:<22} {seen:<24} {r['app_version'] or '-':<12} "
              f"{r['queued'] if r['queued'] is not None else '-':>13} "
              f"{r['parked'] if r['parked'] is not None else '-':>11}{state}")
    return 0


def cmd_activity(args: argparse.Namespace) -> int:
    from fieldapp import localtime
    from sync.server.admin import activity

    rows = _admin(activity, database_url(args), args.user, args.since)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    if not rows:
        print("这段时间没有活动 / no activity in that time")
        return 0
    words = {"enroll": "注册 enrolled", "push": "推送 pushed", "attachments": "附件 attachments"}
    print(f"时间 time ({localtime.zone_label()})")
    for r in rows:
        what = words.get(r["action"], r["action"])
        count = f" {r['count']}" if r["action"] != "enroll" else ""
        detail = f" ({r['detail']})" if r["detail"] else ""
        print(f"{_when(r['at'])}  {r['user']:<14} {r['device_id'][:20]:<20} {what}{count}"
              f"{detail}")
    return 0


def cmd_copy_blobs(args: argparse.Namespace) -> int:
    from sync.server.admin import blob_store
    from sync.server.blobstore import BlobStoreError, copy_into

    url = database_url(args)
    source = _admin(blob_store, url, args.source)
    target = _admin(blob_store, url, args.blob_store or "database", args.blob_dir)
    try:
        copied, size = copy_into(source, target)
    except BlobStoreError as exc:
        raise CliError(str(exc)) from None
    print(f"已复制 {copied} 个文件 ({size / 1024 / 1024:,.1f} MB) 到 {target.describe()} / copied "
          f"{copied} file(s) into {target.describe()}")
    return 0
