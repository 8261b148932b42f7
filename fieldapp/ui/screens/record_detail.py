"""One record in full: every field by section, the review comment, its inspections, its status
and change history, and its sync state. Any kind; read in a worker, shown when it arrives."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from fieldapp import localtime
from fieldapp.domain import joint_review
from fieldapp.domain.choices import RECORD_KIND
from fieldapp.domain.records import FIELD_INDEX, GRID, REF, SECTIONS, SPECS
from fieldapp.domain.revision import is_pending_revision, revised_fields
from fieldapp.store import lookups
from fieldapp.store.records import Record
from fieldapp.ui.format import (
    action_label,
    display,
    fit,
    joint_review_line,
    short_time,
    status_label,
)
from fieldapp.ui.i18n import t
from fieldapp.ui.screens.base import BaseScreen
from fieldapp.ui.widgets.status_bar import StatusBar

#: Field changes listed under one history entry; the rest are counted.
HISTORY_FIELDS = 6


@dataclass
class DetailLoaded(Message):
    record: Record | None
    history: list
    inspections: list[Record]
    outbox: list
    target: Record | None = None  # what an inspection inspected


class RecordDetailScreen(BaseScreen):
    CSS_PATH = Path(__file__).with_name("record_detail.tcss")  # its own rules, read on first open
    HINTS = [("e", "edit"), ("i", "record_inspection"), ("a", "attachments"), ("g", "map"),
             ("p", "report_ledger"), ("Esc", "back"), ("?", "help")]
    SITE_HINTS = [("e", "edit"), ("l", "jr_title"), ("i", "record_inspection"),
                  ("a", "attachments"), ("g", "map"), ("p", "report_ledger"), ("Esc", "back"),
                  ("?", "help")]
    BINDINGS = [
        Binding("e", "edit", show=False),
        Binding("l", "joint_review", show=False),  # 联审 (lián shěn); j is progress
        Binding("i", "inspect", show=False),
        Binding("o", "open_target", show=False),
        Binding("a", "attachments", show=False),
        Binding("g", "map", show=False),
        Binding("p", "print_ledger", show=False),
        Binding("escape", "back", show=False),
    ]

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id
        self.record: Record | None = None

    def key_hints(self) -> list[tuple[str, str]]:
        if self.record and self.record.kind == "inspection":
            return [("o", "open_target")] + [h for h in self.HINTS if h[0] != "i"]
        if self.record and self.record.kind == "site":
            return self.SITE_HINTS
        return self.HINTS

    def compose(self) -> ComposeResult:
        lang = self.lang
        yield Static(t("detail", lang), id="detail-title", classes="screen-title")
        with VerticalScroll(id="detail-body"):
            yield Static("", id="detail-comment")
            yield Static(t("loading", lang), id="detail-fields")
            yield Static(t("inspections", lang), id="detail-insp-title", classes="section-title")
            yield OptionList(id="detail-inspections")
            yield Static(t("history", lang), classes="section-title")
            yield Static("", id="detail-history")
            yield Static(t("sync_state", lang), classes="section-title")
            yield Static("", id="detail-sync")
        yield StatusBar()

    def reload(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="detail")
    def load(self) -> None:
        with self.app.reading() as store:
            record = store.get(self.record_id)
            history = store.history(self.record_id) if record else []
            inspections = (lookups.inspections_of(store.conn, self.record_id)
                           if record and record.kind != "inspection" else [])
            outbox = lookups.pending_of(store.conn, self.record_id) if record else []
            target = (store.get(str(record.data.get("target_id")))
                      if record and record.kind == "inspection" else None)
        self.post_message(DetailLoaded(record, history, inspections, outbox, target))

    @on(DetailLoaded)
    def show(self, message: DetailLoaded) -> None:
        lang = self.lang
        record = self.record = message.record
        if record is None:
            self.query_one("#detail-fields", Static).update(t("not_found", lang))
            return
        self.query_one("#detail-title", Static).update(
            f"{RECORD_KIND.label(record.kind, lang)} · {fit(record.title, 40)} · "
            f"{status_label(record.status, lang)}")
        self.target = message.target
        if message.target is not None:
            self.query_one("#detail-title", Static).update(
                f"{RECORD_KIND.label(record.kind, lang)} · {record.data.get('inspected_on', '')}"
                f" · {t('target', lang)}: {fit(message.target.title, 36)} · "
                f"{status_label(record.status, lang)}")
        comment = self.query_one("#detail-comment", Static)
        lines = [f"{t('review_comment', lang)}: {record.review_comment}"] \
            if record.review_comment else []
        lines += self._revision_lines(record)
        comment.update("\n".join(lines))
        comment.set_class(bool(lines), "-comment")
        self.query_one("#detail-fields", Static).update(self._fields_table(record))
        self._show_inspections(message.inspections, record.kind != "inspection")
        self.query_one("#detail-history", Static).update(self._history_text(message.history))
        self.query_one("#detail-sync", Static).update(self._sync_text(record, message.outbox))
        self.app.refresh_bindings()
        self.query_one(StatusBar).refresh()

    def _fields_table(self, record: Record) -> Table:
        lang = self.lang
        table = Table(box=None, show_header=False, pad_edge=False, expand=True)
        # As wide as the longest label, within reason; a longer one wraps, never cut.
        # A site that is no project has no project section to show.
        hidden = set() if record.data.get("project_stage") else {"project"}
        shown = [s for s in SPECS[record.kind] if s.section not in hidden]
        longest = max(cell_len(s.label(lang)) for s in shown)
        table.add_column(width=min(longest, 24), style="dim")
        table.add_column(ratio=1)
        for section, labels in SECTIONS.items():
            specs = [s for s in shown if s.section == section]
            if not specs:
                continue
            table.add_row(Text(labels(lang), style="bold"), "")
            if section == "joint_review" and record.kind == "site":
                self._joint_review_rows(table, record)
                continue
            for spec in specs:
                value = display(spec, record.data.get(spec.name), lang)
                if spec.type == GRID and value:
                    value = f"{value}  {self.app.grid_name(value)}"
                elif spec.type == REF and value:
                    target = getattr(self, "target", None)  # shown by its title: o opens it
                    # Another link (a facility's site, a site's facility): its short id,
                    # as lists show it.
                    value = target.title if target is not None and target.id == value \
                        else value[:8]
                table.add_row(spec.label(lang), value or "—")
        table.add_row(Text(t("author", lang), style="bold"), record.author or "")
        table.add_row(t("created", lang), localtime.show(record.created_at, zone=True))
        table.add_row(t("updated", lang), localtime.show(record.updated_at, zone=True))
        return table

    def _revision_lines(self, record: Record) -> list[str]:
        """A revision of an approved record: each field, approved value → value now."""
        if not is_pending_revision(record.status, record.approved):
            return []
        lang = self.lang
        specs = FIELD_INDEX[record.kind]
        lines = [t("revision_detail", lang)]
        for name in revised_fields(record.approved, record.data)[:HISTORY_FIELDS]:
            spec = specs.get(name)
            if spec is None:
                continue
            before = fit(display(spec, record.approved.get(name), lang) or "—", 24)
            after = fit(display(spec, record.data.get(name), lang) or "—", 30)
            lines.append(f"  {spec.label(lang)}: {before} → {after}")
        return lines

    def _joint_review_rows(self, table: Table, record: Record) -> None:
        """One row per department under its own name (never cut to a shared prefix), then
        the verdict and what still blocks conversion; `l` opens the checklist to fill in."""
        lang = self.lang
        for row in joint_review.checklist(record.data, lang):
            parts = [row["result_label"] or "—"]
            parts += [p for p in (row["date"], row["reviewer"]) if p]
            if row["conditions"]:
                parts.append(f"{t('jr_part_conditions', lang)}: {row['conditions']}")
            table.add_row(row["label"], " · ".join(parts))
        spec = FIELD_INDEX["site"]["conversion_ready"]
        table.add_row(spec.label(lang), display(spec, record.data.get(spec.name), lang) or "—")
        table.add_row(t("jr_title", lang), joint_review_line(record.data, lang))

    def _show_inspections(self, inspections: list[Record], applies: bool) -> None:
        lang = self.lang
        self.query_one("#detail-insp-title").display = applies
        options = self.query_one("#detail-inspections", OptionList)
        options.display = applies
        options.clear_options()
        for insp in inspections:
            issues = insp.data.get("open_issues") or ""
            options.add_option(Option(
                f"{insp.data.get('inspected_on', '')}  {insp.data.get('inspector', '')}  "
                f"{status_label(insp.status, lang)}  {fit(issues, 40)}", id=insp.id))
        if inspections:
            options.highlighted = 0
        else:
            options.add_option(Option(t("no_inspections", lang), disabled=True))

    def _history_text(self, history: list) -> Text:
        """Each entry: when, who, what they did, and each field from what to what."""
        lang = self.lang
        text = Text()
        fields = FIELD_INDEX[self.record.kind] if self.record else {}
        for row in history:
            changes = json.loads(row["changes"] or "{}")
            action = row["action"]
            text.append(f"{short_time(row['at'])}  {row['who'] or ''}  ", style="dim")
            text.append(action_label(action, lang), style="bold")
            if row["comment"]:
                text.append(f"  「{row['comment']}」", style="italic")
            text.append("\n")
            shown = [(k, v) for k, v in changes.items() if k in fields]
            if action in ("create", "insert") and len(shown) > 3:
                continue  # a new record's every field: the fields above already show them
            for name, change in shown[:HISTORY_FIELDS]:
                spec = fields[name]
                old, new = change if isinstance(change, list) and len(change) == 2 \
                    else (None, change)
                before = fit(display(spec, old, lang) or "—", 24)
                after = fit(display(spec, new, lang) or "—", 30)
                text.append(f"    {spec.label(lang)}: ", style="dim")
                text.append(f"{before} → {after}\n")
            if len(shown) > HISTORY_FIELDS:
                text.append("    " + t("more_changes", lang, n=len(shown) - HISTORY_FIELDS)
                            + "\n", style="dim")
        return text

    def _sync_text(self, record: Record, outbox: list) -> str:
        lang = self.lang
        version = (f"{t('server_version', lang)}: {record.server_version}"
                   if record.server_version else t("not_uploaded", lang))
        waiting = (t("pending_changes", lang, n=len(outbox)) if outbox
                   else t("all_synced", lang))
        errors = [row["last_error"] for row in outbox if row["last_error"]]
        return f"{version}  ·  {waiting}" + (f"\n{errors[-1]}" if errors else "")

    @on(OptionList.OptionSelected, "#detail-inspections")
    def _open_inspection(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.app.open_detail(event.option.id)

    def action_edit(self) -> None:
        if self.record:
            self.app.open_form(self.record.kind, self.record.id)

    def action_joint_review(self) -> None:
        if self.record and self.record.kind == "site":
            from fieldapp.ui.screens.joint_review import JointReviewScreen  # loaded on use

            self.app.push_screen(JointReviewScreen(self.record.id))

    def action_inspect(self) -> None:
        if self.record and self.record.kind != "inspection":
            self.app.open_inspection_form(self.record)

    def action_attachments(self) -> None:
        if self.record:
            from fieldapp.ui.screens.attachments import AttachmentsScreen  # loaded on first use

            self.app.push_screen(AttachmentsScreen(self.record.id, fit(self.record.title, 40)))

    def action_map(self) -> None:
        if self.record is None:
            return
        focus = self.record.id
        target = getattr(self, "target", None)
        if self.record.kind == "inspection" and target is not None:
            focus = target.id  # an inspection is drawn where what it inspected is
        self.app.open_map(None, focus)

    def action_print_ledger(self) -> None:
        if self.record is not None:
            self.app.open_report("ledger", record_ids=[self.record.id],
                                 name=fit(self.record.title, 30))

    def action_open_target(self) -> None:
        target = getattr(self, "target", None)
        if target is not None:
            self.app.open_detail(target.id)

    def action_back(self) -> None:
        self.dismiss()
