"""Moving photos and documents between a laptop and the registry (sync/PROTOCOL.md).

Upload is resumable by simply running again: for each attachment row in state `local`, ask
whether the registry has the content (HEAD), send it only if not (PUT, checked against its
SHA-256 by the server), then send the row (POST). The row is marked uploaded only after the
server's answer for it was committed locally, so a lost answer means the same row is sent
again, which the server answers "unchanged". Nothing is ever deleted locally on a refusal.

Download is on demand (`download`), or for every missing file after a pull when the setting
`attachments_auto_download` is "1": a laptop with little disk is not filled by default.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from fieldapp.store import attachments as store_att
from fieldapp.store.records import RecordStore
from sync.client import Refused, RegistryClient, SyncError

AUTO_DOWNLOAD = "attachments_auto_download"
BATCH = 100


@dataclass
class AttachmentReport:
    uploaded: int = 0  # rows the server now holds
    sent_bytes: int = 0
    skipped_blobs: int = 0  # content the server already had
    downloaded: int = 0
    refused: list[str] = field(default_factory=list)  # bilingual reasons, one per row
    waiting: int = 0  # rows the server could not take yet (record not pushed)


def _reason(exc: SyncError, code: str) -> dict:
    return {"code": code, "message": exc.en, "message_zh": exc.zh, "detail": exc.detail}


def _code(exc: Refused) -> str:
    for code in ("too_large", "unsupported_type", "hash_mismatch", "out_of_scope"):
        if code in exc.detail:
            return code
    return "refused"


def upload_pending(store: RecordStore, client: RegistryClient, data_dir: Path | None = None,
                   report: AttachmentReport | None = None) -> AttachmentReport:
    """Send every waiting attachment; raises Offline/ServerError to end the cycle early."""
    report = report or AttachmentReport()
    waiting = store_att.pending(store)
    if not waiting:
        return report
    data_dir = data_dir or store_att.data_dir_of(store)
    ready: dict[str, dict] = {}
    for att in waiting:
        if not att.deleted and not _send_blob(store, client, data_dir, att, report):
            continue
        ready[att.id] = att.wire()
    rows = list(ready.values())
    for start in range(0, len(rows), BATCH):
        batch = rows[start:start + BATCH]
        results = client.post_attachments(batch)
        done = {}
        for row, result in zip(batch, results, strict=True):
            if result.outcome in ("stored", "unchanged"):
                done[row["id"]] = row
                continue
            reason = result.reason.model_dump(exclude_unset=True) if result.reason else {}
            store_att.set_error(store, row["id"], reason)
            if reason.get("code") == "record_unknown":
                report.waiting += 1  # its record is parked or not pushed yet: try next cycle
            else:
                report.refused.append(f"{row['name']}: {reason.get('message_zh', '')} / "
                                      f"{reason.get('message', '')}")
        store_att.mark_uploaded(store, done)
        report.uploaded += len(done)
    return report


def _send_blob(store: RecordStore, client: RegistryClient, data_dir: Path,
               att: store_att.Attachment, report: AttachmentReport) -> bool:
    if client.blob_exists(att.sha256):
        report.skipped_blobs += 1
        return True
    path = store_att.blob_path(data_dir, att.sha256)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        store_att.set_error(store, att.id, {"code": "missing_locally",
                                            "message": "the file is missing from this laptop",
                                            "message_zh": "本机上找不到该文件"})
        report.refused.append(f"{att.name}: 本机上找不到该文件 / the file is missing")
        return False
    if hashlib.sha256(content).hexdigest() != att.sha256:
        # The copy on this disk is damaged: sending it would only be refused.
        store_att.set_error(store, att.id, {"code": "damaged_locally",
                                            "message": "the local copy is damaged",
                                            "message_zh": "本机保存的文件已损坏"})
        report.refused.append(f"{att.name}: 本机保存的文件已损坏 / the local copy is damaged")
        return False
    try:
        client.put_blob(att.sha256, content)
    except Refused as exc:
        code = _code(exc)
        store_att.set_error(store, att.id, _reason(exc, code))
        report.refused.append(f"{att.name}: {exc.message('zh')}")
        return False
    report.sent_bytes += len(content)
    return True


def download(store: RecordStore, client: RegistryClient, attachment_id: str,
             data_dir: Path | None = None) -> Path:
    """Fetch one attachment's content (if this laptop lacks it); returns the local path."""
    data_dir = data_dir or store_att.data_dir_of(store)
    att = store_att.require(store, attachment_id)
    path = store_att.blob_path(data_dir, att.sha256)
    if not path.exists():
        _fetch(client, data_dir, att.sha256)
    store_att.mark_fetched(store, att.sha256)
    return path


def _fetch(client: RegistryClient, data_dir: Path, sha256: str) -> None:
    import tempfile

    tmp_dir = Path(data_dir) / "attachments" / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=tmp_dir) as spool:
        client.get_blob(sha256, spool)
        spool.seek(0)
        # Checked against the hash before it takes its name: a cut download is never a file.
        store_att.store_stream(data_dir, spool, expect_sha=sha256)


def download_missing(store: RecordStore, client: RegistryClient, data_dir: Path | None = None,
                     report: AttachmentReport | None = None) -> AttachmentReport:
    report = report or AttachmentReport()
    seen: set[str] = set()
    for att in store_att.missing_content(store):
        data_dir = data_dir or store_att.data_dir_of(store)
        if att.sha256 in seen:
            continue
        seen.add(att.sha256)
        try:
            download(store, client, att.id, data_dir)
        except Refused as exc:
            report.refused.append(f"{att.name}: {exc.message('zh')}")
            continue
        except store_att.AttachmentError as exc:
            report.refused.append(f"{att.name}: {exc.message('zh')}")
            continue
        report.downloaded += 1
    return report


def after_pull(store: RecordStore, client: RegistryClient, report: AttachmentReport,
               errors: list[str]) -> None:
    """The sync cycle's last step: forget attachments of records that left this laptop's
    scope, fetch missing files if the user wants them all, and report refusals (each once: a
    refused row is not sent again until the user retries)."""
    store_att.forget_orphans(store)
    if store.setting(AUTO_DOWNLOAD, "0") == "1":
        download_missing(store, client, report=report)
    errors.extend(f"附件 / attachment {reason}" for reason in report.refused)
