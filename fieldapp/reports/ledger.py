"""The ledger (台账): one record per page (or more) for filing — every field by section, the
joint review, inspections, the history summary and the photos.

Photos are put on the page as smaller JPEGs (long edge 1,200 px) so that a ledger of a
street's sites stays a file one can e-mail. Records are read through the user's scope: a
record outside it is refused by id, as the CLI refuses it everywhere else.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fieldapp.domain import joint_review
from fieldapp.domain.choices import RECORD_KIND, STATUS
from fieldapp.domain.records import BOOL, CHOICE, FIELD_INDEX, FLOAT, INT, MULTI, SECTIONS, SPECS
from fieldapp.reports.document import Progress, ReportPDF, local_time, save_pdf
from fieldapp.store import attachments as att
from fieldapp.store import lookups
from fieldapp.store.records import Record, RecordStore

PHOTO_EDGE = 1200
HISTORY_SHOWN = 30
ACTIONS = {"create": ("创建", "created"), "edit": ("修改", "edited"),
           "delete": ("删除", "deleted")}

WORDS = {
    "title": ("台账", "Ledger"),
    "record_id": ("记录ID", "Record id"),
    "status": ("状态", "Status"),
    "author": ("录入人", "Recorded by"),
    "created": ("创建", "Created"),
    "updated": ("更新", "Updated"),
    "comment": ("审核意见", "Review comment"),
    "joint": ("联审", "Joint review"),
    "dept": ("部门", "Department"), "result": ("意见", "Result"),
    "conditions": ("条件", "Conditions"), "date": ("日期", "Date"),
    "reviewer": ("审核人", "Reviewer"), "verdict": ("联审结论", "Verdict"),
    "ready": ("可实施改造", "Ready for conversion"),
    "inspections": ("巡查记录", "Inspections"),
    "inspector": ("检查人", "Inspector"), "issues": ("存在问题", "Open issues"),
    "history": ("变更记录", "History"),
    "when": ("时间", "When"), "who": ("操作人", "Who"), "what": ("操作", "Action"),
    "fields": ("修改内容", "Fields changed"),
    "earlier": ("另有 {n} 条更早的记录未列出", "{n} earlier entries not shown"),
    "photos": ("照片", "Photos"),
    "documents": ("附件文档", "Documents"),
    "not_fetched": ("{n} 个附件未下载到本机,未印出", "{n} attachments not on this laptop, "
                    "not printed"),
    "no_history": ("无", "none"),
    "target": ("检查对象", "Inspected"),
}


class LedgerError(ValueError):
    pass


@dataclass
class LedgerReport:
    path: str
    records: int = 0
    pages: int = 0
    photos: int = 0
    missing_photos: int = 0
    ids: list[str] = field(default_factory=list)

    def summary(self, lang: str = "zh") -> str:
        if lang == "zh":
            return (f"台账 {self.records} 条记录,{self.pages} 页,照片 {self.photos} 张 → "
                    f"{self.path}")
        return (f"ledger of {self.records} records, {self.pages} pages, {self.photos} photos → "
                f"{self.path}")


def w(key: str, lang: str, **kw: Any) -> str:
    zh, en = WORDS[key]
    return (zh if lang == "zh" else en).format(**kw)


def show(spec, value: Any, lang: str = "zh") -> str:
    """A stored value as printed: labels for codes, 是/否, numbers with their unit."""
    if value is None or value == "" or value == []:
        return ""
    if spec.type == CHOICE and spec.choices:
        return spec.choices.label(value, lang)
    if spec.type == MULTI and spec.choices:
        return ("、" if lang == "zh" else ", ").join(spec.choices.label(v, lang) for v in value)
    if spec.type == BOOL:
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if spec.type in (INT, FLOAT):
        number = float(value)
        text = str(int(number)) if number.is_integer() else f"{number:g}"
        return text + (spec.unit or "")
    return str(value)


def resolve_ids(store: RecordStore, given: Sequence[str], allowed: set[str] | None
                ) -> list[Record]:
    """Records by id or unique prefix (≥ 6 characters), each in the user's scope."""
    found: list[Record] = []
    for text in given:
        rows = store.conn.execute(
            "SELECT id FROM record WHERE deleted = 0 AND (id = ? OR id LIKE ?) LIMIT 2",
            (text, text + "%" if len(text) >= 6 else text)).fetchall()
        if len(rows) != 1:
            raise LedgerError(f"没有这条记录(或编号不唯一)/ no such record (or the id is "
                              f"ambiguous): {text}")
        record = store.get(rows[0][0])
        if record is None or (allowed is not None and record.grid_code not in allowed):
            raise LedgerError(f"记录不在你的范围内 / the record is outside your areas: {text}")
        found.append(record)
    return found


def write_ledger(store: RecordStore, ids: Sequence[str], path: str | os.PathLike, *,
                 lang: str = "zh", data_dir: Path | None = None,
                 progress: Progress | None = None) -> LedgerReport:
    """Write the ledger of the records `ids` (ids or unique prefixes) to `path`."""
    from fieldapp.store.scope import scope_grids

    if not ids:
        raise LedgerError("请给出至少一个记录编号 / give at least one record id")
    records = resolve_ids(store, ids, scope_grids(store))
    try:
        data_dir = data_dir or att.data_dir_of(store)
    except att.AttachmentError:
        data_dir = None
    names = {r[0]: r[1] for r in store.conn.execute("SELECT code, name FROM area")}
    kinds = {r.kind for r in records}
    title = (RECORD_KIND.label(next(iter(kinds)), lang) if len(kinds) == 1 else "") + \
        w("title", lang)
    pdf = ReportPDF(title, lang, subtitle=_where(records, names))
    report = LedgerReport(str(path), ids=[r.id for r in records])
    for index, record in enumerate(records):
        if progress:
            progress(index / len(records), record.title)
        _record_pages(pdf, store, record, names, lang, data_dir, report)
        report.records += 1
    if progress:
        progress(0.99, "PDF")
    save_pdf(pdf, path)
    report.pages = pdf.pages_count
    if progress:
        progress(1.0, "")
    return report


def _where(records: list[Record], names: dict[str, str]) -> str:
    grids = {r.grid_code for r in records if r.grid_code}
    if len(grids) == 1:
        code = next(iter(grids))
        return f"{names.get(code, code)} {code}"
    return ""


def _record_pages(pdf: ReportPDF, store: RecordStore, record: Record, names: dict[str, str],
                  lang: str, data_dir: Path | None, report: LedgerReport) -> None:
    pdf.add_page()
    data = record.data
    heading = f"{RECORD_KIND.label(record.kind, lang)} · {record.title or record.id[:8]}"
    sub = (f"{w('record_id', lang)} {record.id} · {w('status', lang)} "
           f"{STATUS.label(record.status, lang)} · {w('author', lang)} {record.author or ''} · "
           f"{w('created', lang)} {local_time(record.created_at)} · {w('updated', lang)} "
           f"{local_time(record.updated_at, with_zone=True)}")
    pdf.h1(heading, sub)
    if record.review_comment:
        pdf.fields([(w("comment", lang), record.review_comment)], columns=1)
    target = None
    if record.kind == "inspection" and data.get("target_id"):
        target = store.get(str(data["target_id"]), include_deleted=True)
    for section, labels in SECTIONS.items():
        specs = [s for s in SPECS[record.kind] if s.section == section]
        if not specs:
            continue
        if section == "joint_review":
            _joint_review(pdf, data, lang)
            continue
        pdf.h2(labels[0] if lang == "zh" else labels[1])
        rows = []
        for spec in specs:
            value = show(spec, data.get(spec.name), lang)
            if spec.name == "grid_code" and value:
                value = f"{value} {names.get(value, '')}".strip()
            if spec.name == "target_id" and target is not None:
                value = f"{target.title} ({value[:8]})"
            rows.append((spec.label(lang), value))
        pdf.fields(rows)
    if record.kind != "inspection":
        _inspections(pdf, store, record, lang)
    _history(pdf, store, record, lang)
    if data_dir is not None:
        _attachments(pdf, store, record, lang, data_dir, report)


def _joint_review(pdf: ReportPDF, data: dict, lang: str) -> None:
    pdf.h2(w("joint", lang))
    spec = FIELD_INDEX["site"]
    rows = []
    for code, zh, en in joint_review.DEPARTMENTS:
        rows.append([zh if lang == "zh" else en,
                     show(spec[f"jr_{code}_result"], data.get(f"jr_{code}_result"), lang) or "—",
                     data.get(f"jr_{code}_conditions") or "",
                     data.get(f"jr_{code}_date") or "",
                     data.get(f"jr_{code}_reviewer") or ""])
    pdf.grid_table([w(k, lang) for k in ("dept", "result", "conditions", "date", "reviewer")],
                   rows, [36, 26, 64, 24, 32])
    verdict = joint_review.VERDICT_LABELS[joint_review.overall_verdict(data)]
    ready = show(spec["conversion_ready"], data.get("conversion_ready"), lang) or "—"
    pdf.fields([(w("verdict", lang), verdict[0] if lang == "zh" else verdict[1]),
                (w("ready", lang), ready)])


def _inspections(pdf: ReportPDF, store: RecordStore, record: Record, lang: str) -> None:
    found = lookups.inspections_of(store.conn, record.id)
    if not found:
        return
    pdf.h2(w("inspections", lang))
    rows = [[i.data.get("inspected_on") or "", i.data.get("inspector") or "",
             STATUS.label(i.status, lang), i.data.get("open_issues") or ""] for i in found]
    pdf.grid_table([w(k, lang) for k in ("date", "inspector", "status", "issues")], rows,
                   [26, 30, 24, 102])


def _history(pdf: ReportPDF, store: RecordStore, record: Record, lang: str) -> None:
    pdf.h2(w("history", lang))
    entries = store.history(record.id)
    if not entries:
        pdf.note(w("no_history", lang))
        return
    fields = FIELD_INDEX[record.kind]
    shown = entries[-HISTORY_SHOWN:]
    rows = []
    for entry in shown:
        action = entry["action"]
        if action in STATUS.codes():
            label = STATUS.label(action, lang)
        else:
            pair = ACTIONS.get(action, (action, action))
            label = pair[0] if lang == "zh" else pair[1]
        changes = json.loads(entry["changes"] or "{}")
        changed = ("、" if lang == "zh" else ", ").join(
            fields[k].label(lang) for k in changes if k in fields)
        if entry["comment"]:
            changed = f"{changed} 「{entry['comment']}」".strip()
        rows.append([local_time(entry["at"]), entry["who"] or "", label, changed])
    pdf.grid_table([w(k, lang) for k in ("when", "who", "what", "fields")], rows,
                   [30, 26, 20, 106])
    if len(entries) > len(shown):
        pdf.note(w("earlier", lang, n=len(entries) - len(shown)))


def _attachments(pdf: ReportPDF, store: RecordStore, record: Record, lang: str,
                 data_dir: Path, report: LedgerReport) -> None:
    items = att.list_for(store, record.id)
    photos = [a for a in items if a.kind == "photo"]
    documents = [a for a in items if a.kind == "document"]
    missing = 0
    if photos:
        pdf.h2(w("photos", lang))
        column_width = (pdf.content_width - 6) / 2
        column = 0
        row_top = pdf.get_y()
        row_height = 0.0
        for item in photos:
            small = _small_photo(att.blob_path(data_dir, item.sha256))
            if small is None:
                missing += 1
                continue
            image, (width, height) = small
            shown_w = column_width
            shown_h = min(shown_w * height / width, 95.0)
            shown_w = shown_h * width / height
            if column == 0:
                if row_top + shown_h + 8 > pdf.h - pdf.b_margin:
                    pdf.add_page()
                row_top, row_height = pdf.get_y(), 0.0
            x = pdf.l_margin + column * (column_width + 6)
            pdf.image(image, x=x, y=row_top, w=shown_w, h=shown_h)
            pdf.set_xy(x, row_top + shown_h + 0.5)
            with pdf.local_context(font_size_pt=8):
                pdf.cell(column_width, 4.5, item.caption or item.name)
            row_height = max(row_height, shown_h + 6)
            report.photos += 1
            column = 1 - column
            if column == 0:
                pdf.set_xy(pdf.l_margin, row_top + row_height)
        if column == 1:
            pdf.set_xy(pdf.l_margin, row_top + row_height)
    if documents:
        pdf.h2(w("documents", lang))
        pdf.fields([(a.caption or a.kind, a.name) for a in documents], columns=1)
    for item in documents:
        if not att.blob_path(data_dir, item.sha256).exists():
            missing += 1
    if missing:
        report.missing_photos += missing
        pdf.note(w("not_fetched", lang, n=missing))


def _small_photo(path: Path) -> tuple[io.BytesIO, tuple[int, int]] | None:
    """The photo as JPEG bytes at most PHOTO_EDGE on its long edge (upright) and its size,
    or None when this laptop has no readable file."""
    if not path.exists():
        return None
    try:
        from PIL import Image, ImageOps

        from fieldapp.store.photos import heic_supported

        if heic_supported():
            import pi_heif

            pi_heif.register_heif_opener()
        with Image.open(path) as image:
            upright = ImageOps.exif_transpose(image) or image
            upright.thumbnail((PHOTO_EDGE, PHOTO_EDGE))
            picture = upright.convert("RGB")
        # Handed over as JPEG bytes, which the PDF embeds as they are (pixels would be stored
        # losslessly, ten times larger).
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=78)
        buffer.seek(0)
        return buffer, picture.size
    except (OSError, ValueError, SyntaxError):
        return None
