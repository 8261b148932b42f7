"""`fieldapp doctor`: check a laptop and its link to the registry, and say what to do.

Each check gives a Finding: ok, warn or fail, what was found, and what to do about it in
Chinese and English. The checks a support call goes through, in order: the database file, the
outbox (refused or stuck entries), free disk, enrolment, the registry's reachability, the
credential, and the laptop's clock against the registry's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fieldapp import localtime
from fieldapp.store.checkup import local_state
from fieldapp.store.records import RecordStore
from sync import credentials
from sync.client import Offline, RegistryClient, SyncError, Unauthorized

MIN_FREE = 500 * 1024 * 1024
MAX_SKEW = 300  # seconds


@dataclass
class Finding:
    check: str
    level: str  # ok | warn | fail
    found_zh: str
    found_en: str
    todo_zh: str = ""
    todo_en: str = ""

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def examine(store: RecordStore, data_dir: Path, config_dir: Path, *,
            timeout: float = 10.0) -> list[Finding]:
    out: list[Finding] = []
    state = local_state(store, data_dir)
    if state.integrity == "ok":
        out.append(Finding("database", "ok", "数据库完好", "the database is intact"))
    else:
        out.append(Finding(
            "database", "fail", f"数据库损坏: {state.integrity}",
            f"the database is damaged: {state.integrity}",
            "立即用 fieldapp backup 备份,再联系技术支持;不要删除数据文件夹",
            "back up now with fieldapp backup and call support; do not delete the data folder"))
    if state.parked:
        out.append(Finding(
            "outbox", "warn", f"{state.parked} 条修改被服务器拒绝,等待处理",
            f"{state.parked} change(s) refused by the registry wait for you",
            "运行 fieldapp outbox 查看原因;改正记录后会自动重发,或 --retry/--discard",
            "run fieldapp outbox to see why; fixing the record sends it again, or use "
            "--retry / --discard"))
    if state.stuck:
        out.append(Finding(
            "outbox", "warn", f"{state.stuck} 条修改已多次发送仍未完成",
            f"{state.stuck} change(s) were sent many times without getting through",
            "检查网络后运行 fieldapp sync;若仍不行,把 fieldapp sync 的输出发给技术支持",
            "check the network and run fieldapp sync; if it persists, send its output "
            "to support"))
    if not state.parked and not state.stuck:
        waiting = (f",{state.pending} 条等待同步(最早 {localtime.show(state.oldest_pending)})"
                   if state.pending else "")
        out.append(Finding("outbox", "ok", "待同步队列正常" + waiting,
                           "the outbox is healthy" + (f", {state.pending} waiting" if
                                                       state.pending else "")))
    free_mb = state.free_bytes // (1024 * 1024)
    if state.free_bytes < MIN_FREE:
        out.append(Finding("disk", "fail" if state.free_bytes < MIN_FREE // 5 else "warn",
                           f"磁盘剩余 {free_mb} MB", f"{free_mb} MB free on the disk",
                           "删除不需要的文件,或用 fieldapp attachments --drop-originals "
                           "释放照片原图", "free some space (e.g. drop photo originals "
                           "you no longer need)"))
    else:
        out.append(Finding("disk", "ok", f"磁盘剩余 {free_mb:,} MB", f"{free_mb:,} MB free"))
    out += _registry_checks(store, config_dir, timeout)
    return out


def _registry_checks(store: RecordStore, config_dir: Path, timeout: float) -> list[Finding]:
    try:
        entry = credentials.current(config_dir)
    except credentials.Locked as exc:
        return [Finding("enrolment", "ok", f"已登记: {exc.detail}(PIN 未输入,未检查凭据)",
                        f"enrolled: {exc.detail} (PIN not entered: credential not checked)")]
    except SyncError:
        return [Finding("enrolment", "warn", "本机尚未登记到同步服务器",
                        "this laptop is not enrolled with a registry",
                        "向管理员要注册码,运行 fieldapp enroll --server 地址 --token 注册码",
                        "ask your admin for a token and run fieldapp enroll --server URL "
                        "--token TOKEN")]
    out = [Finding("enrolment", "ok", f"已登记: {entry['user']} @ {entry['server']}",
                   f"enrolled: {entry['user']} at {entry['server']}")]
    with RegistryClient(entry["server"], entry["credential"], timeout=timeout,
                        connect_timeout=min(timeout, 5.0)) as client:
        try:
            client.health()
        except (Offline, SyncError) as exc:
            out.append(Finding("registry", "fail", f"连不上服务器: {exc.zh}",
                               f"cannot reach the registry: {exc.en}",
                               "检查网络或 VPN;离线时照常工作,数据保存在本机,联网后自动同步",
                               "check the network or VPN; keep working offline, everything "
                               "is kept here and syncs when the network is back"))
            return out
        out.append(Finding("registry", "ok", "服务器可以连通", "the registry answers"))
        try:
            sent = datetime.now(UTC)
            answer = client.status({"client_time": sent.isoformat(timespec="seconds")})
            received = datetime.now(UTC)
        except Unauthorized:
            out.append(Finding("credential", "fail", "登录凭证无效或已被停用",
                               "the credential is unknown or revoked",
                               "向管理员要新的注册码,重新运行 fieldapp enroll;待同步的修改会保留",
                               "ask your admin for a new token and run fieldapp enroll "
                               "again; waiting changes are kept"))
            return out
        except SyncError as exc:
            out.append(Finding("credential", "warn", f"无法确认凭证: {exc.zh}",
                               f"could not check the credential: {exc.en}",
                               "稍后再运行 fieldapp doctor", "run fieldapp doctor again later"))
            return out
        out.append(Finding("credential", "ok", "登录凭证有效", "the credential is valid"))
        if answer is not None:
            out.append(_clock(answer.server_time, sent, received))
    return out


def _clock(server_time: str, sent: datetime, received: datetime) -> Finding:
    server = localtime.parse(server_time)
    midpoint = sent + (received - sent) / 2
    skew = (midpoint - server).total_seconds() if server else 0.0
    if abs(skew) <= MAX_SKEW:
        return Finding("clock", "ok", f"本机时钟与服务器相差 {abs(skew):.0f} 秒",
                       f"the clock is {abs(skew):.0f} s from the registry's")
    ahead_zh, ahead_en = ("快", "ahead") if skew > 0 else ("慢", "behind")
    minutes = abs(skew) / 60
    return Finding("clock", "warn",
                   f"本机时钟比服务器{ahead_zh} {minutes:.0f} 分钟(服务器时间 "
                   f"{localtime.show(server_time, zone=True)})",
                   f"the laptop's clock is {minutes:.0f} min {ahead_en} of the registry's "
                   f"({localtime.show(server_time, zone=True)} there)",
                   "在系统设置中校准时间(开启自动同步时间);同步不依赖时钟,但记录和照片的时间会不准",
                   "set the system clock (turn on automatic time); sync does not depend on "
                   "it, but the times on records and photos will be wrong")
