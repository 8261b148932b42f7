"""`fieldapp serve` and `fieldapp admin …`: run the registry and manage its users and areas."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from fieldapp.cli import CliError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the central registry server (HTTP API)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--database-url", metavar="URL",
                   help="sqlite:///FILE or postgresql+psycopg://USER@HOST/DB "
                        "(default: registry.sqlite3 in the data dir; also FIELDAPP_DATABASE_URL)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="uvicorn worker processes (use PostgreSQL for more than one)")
    p.add_argument("--forwarded-allow-ips", metavar="IPS", default=None,
                   help="load balancer addresses whose X-Forwarded-For is trusted (the client "
                        "address limits failed enrolments); default 127.0.0.1")
    p.add_argument("--blob-dir", metavar="DIR",
                   help="where photos and documents are kept (default: blobs/ beside a SQLite "
                        "file; also FIELDAPP_BLOB_DIR)")
    p.set_defaults(func=cmd_serve)

    admin = sub.add_parser("admin", help="manage the registry: users, tokens, areas")
    admin.add_argument("--database-url", metavar="URL", help="as for serve")
    asub = admin.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    p = asub.add_parser("add-user", help="add a user (or renew one) and print a one-time "
                                         "enrolment token")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=["worker", "supervisor", "admin"])
    p.add_argument("--scope", required=True, metavar="CODE[,CODE…]",
                   help="district, street or grid codes; * for the whole city")
    p.set_defaults(func=cmd_add_user)
    p = asub.add_parser("list-users", help="list users, roles, scopes and devices")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list_users)
    p = asub.add_parser("revoke-user", help="revoke a user and every device they enrolled")
    p.add_argument("name")
    p.add_argument("--devices-only", action="store_true",
                   help="cut off the user's devices (a lost laptop) but keep the user")
    p.set_defaults(func=cmd_revoke_user)
    p = asub.add_parser("load-areas", help="load areas from CSV "
                                           "(code,name,level,parent_code[,lat,lng,households])")
    p.add_argument("file")
    p.set_defaults(func=cmd_load_areas)
    p = asub.add_parser("load-demo-areas", help="load the demo districts, streets and grids")
    p.set_defaults(func=cmd_load_demo_areas)
    for action in asub.choices.values():
        action.add_argument("--database-url", metavar="URL", default=argparse.SUPPRESS,
                            help="as for serve")


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
    except (AdminError, SchemaTooNew, ValueError) as exc:
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
    # Workers are separate processes: they read these (sync/server/settings.py).
    os.environ["FIELDAPP_DATABASE_URL"] = url
    if args.blob_dir:
        os.environ["FIELDAPP_BLOB_DIR"] = str(Path(args.blob_dir).expanduser().resolve())
    # Migrate once here so workers start on a ready schema and errors reach the user plainly.
    from sync.server.admin import engine_for

    _admin(engine_for, url)
    print(f"fieldapp registry on http://{args.host}:{args.port} ({url.split('://')[0]}); "
          f"API docs at /docs", file=sys.stderr)
    uvicorn.run("sync.server.asgi:app", host=args.host, port=args.port, workers=args.workers,
                access_log=False, log_level="warning", proxy_headers=True,
                forwarded_allow_ips=args.forwarded_allow_ips)
    return 0


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


def cmd_load_areas(args: argparse.Namespace) -> int:
    from sync.server.admin import load_areas, read_areas_csv

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
