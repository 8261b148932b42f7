"""The joint review (联审) of one site: the supervisor's own step, on a submitted or an
approved site alike. Four departments (发改, 规划资源, 住建, 消防), each with its result,
conditions, date and reviewer, and 可实施改造 at the end; the overall verdict and what still
blocks conversion are shown above and follow what is typed.

Saving goes through the writer as `fieldapp.store.review.save_joint_review`: the site keeps
its status and its place in the review queue (it is not re-submitted). A grid worker sees the
checklist read-only; the store and the registry refuse the fields to anyone but a supervisor.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from fieldapp.domain import joint_review as jr
from fieldapp.domain.records import FIELD_INDEX
from fieldapp.domain.validation import coerce_record
from fieldapp.i18n import other_lang
from fieldapp.store.records import Record, ValidationFailed
from fieldapp.ui.format import fit, joint_review_line, status_label
from fieldapp.ui.i18n import W, t
from fieldapp.ui.screens.base import BaseScreen
from fieldapp.ui.widgets.field_input import FieldInput
from fieldapp.ui.widgets.status_bar import StatusBar
from fieldapp.ui.writer import Saved, SaveFailed

#: The fields shown, per department, then 可实施改造.
FIELDS = [*(jr.field_name(code, part) for code, _, _ in jr.DEPARTMENTS
            for part in jr.REVIEW_FIELDS), "conversion_ready"]


@dataclass
class ReviewLoaded(Message):
    record: Record | None


class JointReviewScreen(BaseScreen):
    DEFAULT_CSS = """
    JointReviewScreen #jr-summary { padding: 0 1; height: auto; }
    JointReviewScreen #jr-body { height: 1fr; padding: 0 1; }
    JointReviewScreen .jr-dept { margin: 1 0 0 0; }
    """
    BINDINGS = [
        Binding("ctrl+s,f2", "save", show=False, priority=True),
        Binding("escape", "close", show=False),
    ]
    HINTS = [("^s", "jr_save"), ("Tab", "help_move"), ("Esc", "back")]
    #: Letter keys stay with the fields here; app-wide letter shortcuts are off.
    TYPING = True

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id
        self.record: Record | None = None
        self.values: dict[str, Any] = {}  # what is typed, kept across a language switch
        self.saving = False

    def compose(self) -> ComposeResult:
        yield Static(W["jr_title"](self.lang), id="jr-title", classes="screen-title")
        yield Static("", id="jr-summary")
        yield VerticalScroll(id="jr-body")
        yield StatusBar()

    def reload(self) -> None:
        if self.record is None:
            self.load()
        elif not self.query(FieldInput):
            # Only after a language switch (recompose emptied the body). Coming back from a
            # choice picker must keep the fields as they are: rebuilding them there lost the
            # focus and mounted the new ones beside the old (DuplicateIds).
            self.call_after_refresh(self._fill)

    @work(thread=True, exclusive=True, group="joint-review")
    def load(self) -> None:
        with self.app.reading() as store:
            record = store.get(self.record_id)
        self.post_message(ReviewLoaded(record))

    @on(ReviewLoaded)
    async def _loaded(self, message: ReviewLoaded) -> None:
        self.record = message.record
        if message.record is not None:
            self.values = {name: message.record.data.get(name) for name in FIELDS}
        await self._fill()

    @property
    def may_write(self) -> bool:
        return self.app.store.role in FIELD_INDEX["site"]["conversion_ready"].roles

    async def _fill(self) -> None:
        lang = self.lang
        record = self.record
        body = self.query_one("#jr-body", VerticalScroll)
        await body.remove_children()  # the old fields gone before the new ones (same ids)
        if record is None or record.kind != "site":
            self.query_one("#jr-summary", Static).update(
                t("not_found", lang) if record is None else W["jr_sites_only"](lang))
            return
        self.query_one("#jr-title", Static).update(
            f"{W['jr_title'](lang)} · {fit(record.title, 40)} · "
            f"{status_label(record.status, lang)}")
        readonly = not self.may_write
        specs = FIELD_INDEX["site"]
        widgets = []
        for code, _, _ in jr.DEPARTMENTS:
            widgets.append(Static(f"[b]{jr.department_label(code, lang)}[/b]",
                                  classes="section-title jr-dept"))
            for part in jr.REVIEW_FIELDS:
                name = jr.field_name(code, part)
                # Under its department's heading a field needs only its part's name: the
                # department's full name never has to fit beside it.
                label = W[f"jr_part_{part}"]
                spec = replace(specs[name], zh=label("zh"), en=label("en"))
                widgets.append(FieldInput(spec, lang, self.values.get(name), readonly=readonly,
                                          readonly_note=False))
        widgets.append(Static("", classes="jr-dept"))
        widgets.append(FieldInput(specs["conversion_ready"], lang,
                                  self.values.get("conversion_ready"), readonly=readonly,
                                  readonly_note=False))
        body.mount_all(widgets)
        self._summarise()

    def _collect(self) -> None:
        for field in self.query(FieldInput):
            self.values[field.spec.name] = field.raw_value()

    def before_relabel(self) -> None:
        self._collect()

    def payload(self) -> dict[str, Any]:
        return {k: (None if v in ("", []) else v) for k, v in self.values.items()}

    def _summarise(self) -> None:
        if self.record is None:
            return
        typed, _ = coerce_record("site", {k: v for k, v in self.payload().items()
                                          if v is not None})
        data = {**{k: v for k, v in self.record.data.items() if k not in FIELDS}, **typed}
        lines = [joint_review_line(data, self.lang)]
        if not self.may_write:
            lines.append(f"[dim]{W['jr_readonly'](self.lang)}[/dim]")
        self.query_one("#jr-summary", Static).update("\n".join(lines))

    @on(FieldInput.Changed)
    def _changed(self, event: FieldInput.Changed) -> None:
        self.values[event.field.spec.name] = event.field.raw_value()
        self._summarise()

    def action_save(self) -> None:
        if self.record is None or self.record.kind != "site" or self.saving:
            return
        if not self.may_write:
            self.notify(W["jr_readonly"](self.lang), severity="warning")
            return
        self._collect()
        record_id, payload = self.record_id, self.payload()

        def save(store):  # noqa: ANN001 - runs on the writer thread
            from fieldapp.store.review import save_joint_review

            return save_joint_review(store, record_id, payload)

        def go() -> None:
            self.saving = True
            self.app.write(save, what="joint_review", reply_to=self)

        # A supervisor's decision: their PIN when idle 15 minutes, as in the review queue.
        self.app.with_pin(self.app.store.user, go)

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        if message.what != "joint_review":
            return
        self.saving = False
        self.notify(W["jr_saved"](self.lang))
        self.dismiss(message.result.id)

    @on(SaveFailed)
    def _failed(self, message: SaveFailed) -> None:
        if message.what != "joint_review":
            return
        message.stop()
        self.saving = False
        error = message.error
        if isinstance(error, ValidationFailed):
            other = other_lang(self.lang)
            found: dict[str, str] = {}
            for e in error.errors:
                found.setdefault(e.field, f"{e.message(self.lang)}  ·  {e.message(other)}")
            for field in self.query(FieldInput):
                field.set_error(found.get(field.spec.name))
        self.notify(message.reason(self.lang), title=t("cannot_save", self.lang),
                    severity="error", timeout=10)

    def unsaved(self) -> bool:
        """Whether what is on the checklist differs from the site's saved review."""
        if self.record is None or not self.may_write:
            return False
        self._collect()
        typed, _ = coerce_record("site", {k: v for k, v in self.payload().items()
                                          if v is not None})
        # A value that does not read (a bad date) is missing from `typed`: it counts too.
        return any(_norm(typed.get(k)) != _norm(self.record.data.get(k)) for k in FIELDS)

    def action_close(self) -> None:
        # Esc by habit after filling four departments lost them all without a word.
        if self.saving or not self.unsaved():
            self.dismiss(None)
            return
        from fieldapp.ui.screens.dialogs import ConfirmModal

        self.app.push_screen(ConfirmModal(self.lang, W["jr_discard"](self.lang)),
                             lambda discard: self.dismiss(None) if discard else None)


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
    return None if value in ("", [], None) else value
