"""Making a PDF from the app: the ledger of a record (`p` on its detail screen) or the area
report (command palette). The file name can be changed; the report is written in a worker
thread with its own database connection, a progress bar follows it, and when it is done the
file can be opened in the system's PDF viewer (the Open button, focused when done)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, ProgressBar, Static

from fieldapp.ui.i18n import t


def default_path(folder: Path, stem: str) -> Path:
    safe = re.sub(r'[\\/:*?"<>|\s]+', "_", stem).strip("._")[:60] or "report"
    return folder / "reports" / f"{safe}_{date.today():%Y%m%d}.pdf"


class ReportModal(ModalScreen[None]):
    """`kind` "ledger" with `record_ids`, or "area" with `area` (a street/district code)."""

    DEFAULT_CSS = """
    ReportModal .dialog { width: 76; }
    ReportModal Input { margin: 0 0 1 0; }
    ReportModal #report-status { height: auto; margin: 1 0 0 0; }
    ReportModal #report-status.-error { color: $error; }
    ReportModal ProgressBar { margin: 1 0 0 0; }
    ReportModal .dialog-keys { color: $text-muted; margin: 1 0 0 0; }
    """
    BINDINGS = [Binding("escape", "close", show=False)]

    def __init__(self, lang: str, kind: str, *, record_ids: list[str] | None = None,
                 area: str | None = None, name: str = "", output: Path | None = None) -> None:
        super().__init__()
        self.lang = lang
        self.kind = kind
        self.record_ids = record_ids or []
        self.area = area
        self.subject = name
        self.output = output
        self.written: Path | None = None
        self.running = False

    def compose(self) -> ComposeResult:
        lang = self.lang
        title = t("report_ledger" if self.kind == "ledger" else "report_area", lang)
        with Vertical(classes="dialog"):
            yield Static(f"{title} {self.subject}".strip(), classes="dialog-title")
            if self.kind == "area":
                yield Static(t("report_area_code", lang))
                yield Input(self.area or "", id="report-area", compact=True)
            yield Static(t("report_file", lang))
            yield Input(str(self.output or ""), id="report-path", compact=True)
            yield ProgressBar(total=100, show_eta=False, id="report-progress")
            yield Static("", id="report-status")
            with Horizontal(classes="buttons"):
                yield Button(t("report_make", lang), variant="primary", id="report-make")
                yield Button(t("report_open", lang), id="report-open", disabled=True)
                yield Button(t("back", lang), id="report-close")
            yield Static(t("report_keys", lang), classes="dialog-keys")

    def on_mount(self) -> None:
        self.query_one("#report-make", Button).focus()

    # -- the work --------------------------------------------------------------------------
    @on(Button.Pressed, "#report-make")
    @on(Input.Submitted)
    def make(self) -> None:
        if self.running:
            return
        path = Path(self.query_one("#report-path", Input).value.strip()).expanduser()
        if not path.name:
            self.say(t("report_no_file", self.lang), error=True)
            return
        if path.suffix.lower() != ".pdf":
            path = path.with_name(path.name + ".pdf")
        area = self.query_one("#report-area", Input).value.strip() if self.kind == "area" \
            else None
        self.running = True
        self.query_one("#report-make", Button).disabled = True
        self.say(t("report_working", self.lang))
        self.write(path, area)

    @work(thread=True, exclusive=True, group="report")
    def write(self, path: Path, area: str | None) -> None:
        from fieldapp.reports.area import AreaReportError, write_area_report
        from fieldapp.reports.ledger import LedgerError, write_ledger
        from fieldapp.store.scope import ScopeError

        def progress(fraction: float, what: str) -> None:
            self.app.call_from_thread(self.step, fraction, what)

        store = self.app.ctx.open_store()
        try:
            if self.kind == "ledger":
                report = write_ledger(store, self.record_ids, path, lang=self.lang,
                                      data_dir=self.app.ctx.data_dir, progress=progress)
            else:
                report = write_area_report(store, area or None, path, lang=self.lang,
                                           progress=progress)
        except (LedgerError, AreaReportError, ScopeError, OSError) as exc:
            self.app.call_from_thread(self.failed, str(exc))
            return
        finally:
            store.conn.close()
        self.app.call_from_thread(self.done, path, report.summary(self.lang))

    def step(self, fraction: float, what: str) -> None:
        self.query_one(ProgressBar).update(progress=round(fraction * 100))

    def done(self, path: Path, summary: str) -> None:
        self.running = False
        self.written = path
        self.query_one(ProgressBar).update(progress=100)
        self.say(f"{t('report_done', self.lang)}\n{summary}")
        self.query_one("#report-open", Button).disabled = False
        self.query_one("#report-make", Button).disabled = False
        self.query_one("#report-open", Button).focus()

    def failed(self, reason: str) -> None:
        self.running = False
        self.query_one("#report-make", Button).disabled = False
        self.say(reason, error=True)

    def say(self, text: str, error: bool = False) -> None:
        status = self.query_one("#report-status", Static)
        status.update(text)
        status.set_class(error, "-error")

    # -- after -----------------------------------------------------------------------------
    @on(Button.Pressed, "#report-open")
    def action_open_file(self) -> None:
        if self.written is None:
            return
        from fieldapp.compat.files import open_with_desktop

        if not open_with_desktop(self.written):  # no desktop here: the path is what helps
            self.say(t("report_no_viewer", self.lang, path=self.written))

    @on(Button.Pressed, "#report-close")
    def action_close(self) -> None:
        if not self.running:
            self.dismiss(None)
