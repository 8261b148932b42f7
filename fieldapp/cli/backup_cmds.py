"""`fieldapp backup` and `fieldapp restore`: a laptop's database and attachments in one file."""

from __future__ import annotations

import argparse

from fieldapp.cli import CliError
from fieldapp.cli.lang import tr


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backup", help=tr("把本机的记录和附件备份到一个文件(不含登记凭据)",
                                         "back up this laptop's records and attachments to one "
                                         "file (never the credential)"))
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="the backup file to write, e.g. D:\\备份\\fieldapp-2026-03-01.zip")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help=tr("从备份恢复出新的数据文件夹(之后重新登记并同步)",
                                          "make a new data folder from a backup (then enroll "
                                          "again and sync)"))
    p.add_argument("file", help="a file made by fieldapp backup")
    p.set_defaults(func=cmd_restore)


def cmd_backup(args: argparse.Namespace) -> int:
    from fieldapp import paths
    from fieldapp.store.backup import LaptopBackupError, backup

    try:
        made = backup(paths.data_dir(args.data_dir), args.output)
    except (LaptopBackupError, OSError) as exc:
        raise CliError(str(exc)) from None
    print(f"已备份 {made.records} 条记录、{made.files} 个附件文件、{made.outbox} 条待同步 "
          f"({made.bytes / 1024 / 1024:,.1f} MB) / backed up {made.records} records, "
          f"{made.files} attachment files, {made.outbox} waiting to sync: {made.path}")
    print("登录凭证未包含在内,恢复后需重新注册 / the credential is not included: enroll "
          "again after a restore")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from fieldapp.store.backup import LaptopBackupError, restore

    if not args.data_dir:
        raise CliError("请用 --data-dir 指定一个新的文件夹 / give a new folder with --data-dir "
                       "(an existing database is never overwritten)")
    try:
        manifest = restore(args.file, args.data_dir)
    except LaptopBackupError as exc:
        raise CliError(str(exc)) from None
    print(f"已恢复 {manifest.get('records', 0)} 条记录、{manifest.get('files', 0)} 个附件文件"
          f"(备份于 {manifest.get('created_at', '?')})/ restored "
          f"{manifest.get('records', 0)} records and {manifest.get('files', 0)} attachment "
          f"files backed up at {manifest.get('created_at', '?')} into {args.data_dir}")
    print(f"下一步 / next: fieldapp --data-dir {args.data_dir} enroll --server URL --token "
          f"TOKEN && fieldapp --data-dir {args.data_dir} sync")
    return 0
