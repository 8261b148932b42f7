"""The form for any record kind (site, facility, inspection), built from `SPECS[kind]`.

Fields are grouped by section, validated inline as the user types (draft rules) and in full on
submit. What the user types is written to `form_draft` half a second after they stop, so a
killed app loses nothing; opening the form again offers it back. Before saving a site or
facility, records with the same normalised address or within 30 m are shown as possible
duplicates.

Every write (the kept draft, the save) goes through the app's writer: the screen keeps
answering keys while the database is busy, and the answer arrives as Saved / SaveFailed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.lazy import Lazy
from textual.timer import Timer
from textual.widgets import Input, Static

from fieldapp.domain.choices import RECORD_KIND
from fieldapp.domain.geo import normalise_coordinates, wgs84_to_gcj02
from fieldapp.domain.records import FIELD_INDEX, REF, SECTIONS, SPECS
from fieldapp.domain.validation import FieldError, check_record
from fieldapp.i18n import other_lang
from fieldapp.store import lookups
from fieldapp.store.records import Record, ValidationFailed
from fieldapp.ui.format import to_raw
from fieldapp.ui.i18n import t
from fieldapp.ui.messages import DuplicatesFound
from fieldapp.ui.screens.base import BaseScreen
from fieldapp.ui.screens.dialogs import DuplicateModal, RestoreDraftModal
from fieldapp.ui.widgets.field_input import FieldInput
from fieldapp.ui.widgets.status_bar import StatusBar
from fieldapp.ui.writer import Saved, SaveFailed

AUTOSAVE_S = 0.5
CHECK_S = 0.2
COORD_FIELDS = ("lat", "lng", "coord_system")
#: Fields an inspection takes from the record it inspects; the user does not type them.
INSPECTION_FIXED = ("target_kind", "target_id", "grid_code")


class RecordFormScreen(BaseScreen):
    CSS_PATH = Path(__file__).with_name("record_form.tcss")  # its own rules, read on first open
    HINTS = [("^s", "save_draft"), ("F9", "submit"), ("Tab", "help_move"), ("Esc", "back"),
             ("^p", "palette")]
    #: An approved record: either key saves a revision that goes back to the queue (revision.py),
    #: so "save draft" would mislead.
    REVISION_HINTS = [("^s", "save_revision"), ("Tab", "help_move"), ("Esc", "back"),
                      ("^p", "palette")]
    BINDINGS = [
        Binding("ctrl+s", "save('draft')", show=False, priority=True),
        Binding("f9,ctrl+enter", "save('submitted')", show=False, priority=True),
        Binding("escape", "close", show=False),
    ]
    #: Letter keys stay with the fields here; app-wide letter shortcuts are off.
    TYPING = True

    def __init__(self, kind: str, record_id: str | None = None,
                 preset: dict[str, Any] | None = None, context_title: str = "") -> None:
        super().__init__()
        self.kind = kind
        self.record_id = record_id
        self.preset = preset or {}
        self.context_title = context_title
        self.record: Record | None = None
        self.values: dict[str, Any] = {}
        self.baseline: dict[str, Any] = {}
        self.loaded = False
        self.duplicates_ok = False
        self._autosave: Timer | None = None
        self._check: Timer | None = None
        self.errors: dict[str, str] = {}
        #: After a refused submit, live checks keep the submit rules so the list of missing
        #: fields shrinks as the user fills them.
        self.check_status = "draft"
        self.done = False  # saved or closed: nothing left to keep
        self.saving = ""  # the status being saved while the writer works on it
        self._summary = ""

    # -- building ---------------------------------------------------------------------------
    def _load(self) -> None:
        store = self.app.store
        self.record = store.get(self.record_id) if self.record_id else None
        specs = SPECS[self.kind]
        data = self.record.data if self.record else {}
        self.values = {s.name: to_raw(s, data.get(s.name)) for s in specs}
        if data.get("coord_system") == "gcj02" and data.get("lat") is not None \
                and data.get("lng") is not None:
            # Stored in WGS-84; shown as the GCJ-02 point the user read off the map.
            lat, lng = wgs84_to_gcj02(data["lat"], data["lng"])
            self.values["lat"], self.values["lng"] = f"{lat:.6f}", f"{lng:.6f}"
        for name, value in self.preset.items():
            self.values[name] = value
        self.baseline = dict(self.values)
        self.grids = lookups.grids(store.conn)
        # References (what an inspection inspects) are shown by the record's title, not its id.
        self.ref_labels = lookups.titles(store.conn, [
            str(self.values[s.name]) for s in specs
            if s.type == REF and self.values.get(s.name)])
        self.loaded = True

    def key_hints(self) -> list[tuple[str, str]]:
        if self.record is not None and self.record.status == "approved":
            return self.REVISION_HINTS
        return self.HINTS

    def compose(self) -> ComposeResult:
        if not self.loaded:
            self._load()
        lang = self.lang
        kind_label = RECORD_KIND.label(self.kind, lang)
        title = t("form_edit" if self.record else "form_new", lang, kind=kind_label)
        if self.context_title:
            title += f" · {self.context_title}"
        yield Static(title, classes="screen-title")
        yield Static("", id="form-summary")
        with VerticalScroll(id="form-body"):
            for number, (section, labels) in enumerate(SECTIONS.items()):
                fields = [FieldInput(spec, lang, self.values.get(spec.name), grids=self.grids,
                                     readonly=self._locked(spec.name),
                                     ref_label=self.ref_labels.get(
                                         str(self.values.get(spec.name)), ""))
                          for spec in SPECS[self.kind]
                          if spec.section == section and self._shown(spec.name)]
                if not fields:
                    continue
                title = Static(labels(lang), classes="section-title")
                block = Vertical(title, *fields, classes="form-section")
                # The first section paints at once; the rest mount right after it.
                yield block if number == 0 else Lazy(block)
        yield StatusBar()

    def on_mount(self) -> None:
        self._show_errors(self.errors)
        for field in self.query(FieldInput):
            if not field.readonly:
                field.control.focus()
                break
        draft = lookups.load_form_draft(self.app.store.conn, self.kind, self.record_id)
        newer = draft is not None and (self.record is None
                                       or draft.saved_at > self.record.updated_at)
        if draft is not None and newer and self._differs(draft.data):
            self.app.push_screen(RestoreDraftModal(self.lang, draft.saved_at),
                                 lambda restore: self._restore(restore, draft.data))
        elif draft is not None:
            self._clear_draft()

    def _role_locked(self, name: str) -> bool:
        spec = FIELD_INDEX[self.kind][name]
        if spec.section == "project":
            return True  # moved by `fieldapp project advance`, which also opens the facility
        return bool(spec.roles) and self.app.store.role not in spec.roles

    def _locked(self, name: str) -> bool:
        fixed = INSPECTION_FIXED if self.kind == "inspection" else ()
        return name in fixed or self._role_locked(name)

    def _shown(self, name: str) -> bool:
        """A field this user may not change is shown only when it holds something."""
        return not self._role_locked(name) or _norm(self.values.get(name)) is not None

    def _differs(self, raw: dict) -> bool:
        return any(_norm(raw.get(k)) != _norm(v) for k, v in self.baseline.items() if k in raw)

    def dirty(self) -> bool:
        return self._differs(self.values)

    def _restore(self, restore: bool | None, data: dict) -> None:
        if not restore:
            self._clear_draft()
            return
        for field in self.query(FieldInput):
            if field.spec.name in data and field.spec.name not in self.preset:
                field.set_value(data[field.spec.name])
                self.values[field.spec.name] = data[field.spec.name]
        self._schedule_check()

    def before_relabel(self) -> None:
        self._collect()

    # -- editing ----------------------------------------------------------------------------
    def _collect(self) -> dict[str, Any]:
        for field in self.query(FieldInput):
            self.values[field.spec.name] = field.raw_value()
        return self.values

    @on(FieldInput.Changed)
    def _edited(self, event: FieldInput.Changed) -> None:
        self.values[event.field.spec.name] = event.field.raw_value()
        self.duplicates_ok = False
        if self._autosave:
            self._autosave.stop()
        self._autosave = self.set_timer(AUTOSAVE_S, self.autosave)
        self._schedule_check()

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def _schedule_check(self) -> None:
        if self._check:
            self._check.stop()
        self._check = self.set_timer(CHECK_S, self._check_now)

    def _check_now(self) -> None:
        _, errors = check_record(self.kind, self.payload(), self.check_status,
                                 self.app.store.grid_exists)
        self._show_errors(self._by_field(errors))

    def autosave(self) -> None:
        """Keep the unsaved input; drop the kept copy when it equals what is saved."""
        self._collect()
        if self.dirty():
            self._keep_draft()
        else:
            self._clear_draft()

    def _keep_draft(self) -> None:
        kind, record_id, values = self.kind, self.record_id, dict(self.values)
        self.app.write(lambda store: lookups.save_form_draft(store.conn, kind, record_id, values),
                       what="form_draft")

    def _clear_draft(self) -> None:
        kind, record_id = self.kind, self.record_id
        self.app.write(lambda store: lookups.clear_form_draft(store.conn, kind, record_id),
                       what="form_draft")

    def payload(self) -> dict[str, Any]:
        """Raw values as the store takes them: every field, empty ones as None to clear."""
        out = {}
        for name, value in self.values.items():
            if not self._role_locked(name):
                out[name] = _norm(value)
        return out

    def store_payload(self) -> dict[str, Any]:
        """The payload with coordinates in WGS-84, as records store them.

        Untouched coordinates are left out, so the stored point is kept exactly rather than
        converted there and back (which would shift it by a rounding error and count as an
        edit).
        """
        out = self.payload()
        if "lat" not in out:
            return out
        if all(_norm(self.values.get(k)) == _norm(self.baseline.get(k))
               for k in COORD_FIELDS) and self.record is not None:
            for name in COORD_FIELDS:
                out.pop(name, None)
            return out
        return normalise_coordinates(out)

    def _by_field(self, errors: list[FieldError]) -> dict[str, str]:
        # Both languages: the one on screen first, the other after it for whoever helps.
        other = other_lang(self.lang)
        found: dict[str, str] = {}
        for error in errors:
            found.setdefault(error.field, f"{error.message(self.lang)}  ·  "
                                          f"{error.message(other)}")
        return found

    def _show_errors(self, errors: dict[str, str]) -> None:
        self.errors = errors
        for field in self.query(FieldInput):
            field.set_error(errors.get(field.spec.name))
        self._show_summary(t("fix_errors", self.lang, n=len(errors)) if errors else "",
                           error=bool(errors))

    def _show_summary(self, text: str, error: bool = False) -> None:
        if text == self._summary:
            return  # an update re-lays out the form; skip it when nothing changed
        self._summary = text
        summary = self.query_one("#form-summary", Static)
        summary.update(text)
        summary.set_class(bool(text), "-shown")
        summary.set_class(error, "-error")

    # -- saving -----------------------------------------------------------------------------
    def action_save(self, status: str) -> None:
        if self.saving:
            return  # one save at a time; the first one's answer is on its way
        self._collect()
        for timer in (self._autosave, self._check):
            if timer:
                timer.stop()
        self.autosave()
        if status == "submitted":
            self.check_status = status
        _, errors = check_record(self.kind, self.payload(), status, self.app.store.grid_exists)
        if errors:
            self._show_errors(self._by_field(errors))
            key = "not_complete" if status == "submitted" else "not_saved_fix"
            self.notify(t(key, self.lang, n=len(self.errors)), severity="error")
            self._focus_first_error()
            return
        self._show_errors({})
        if self.kind in ("site", "facility") and not self.duplicates_ok:
            self.find_duplicates(self.store_payload(), status)
        else:
            self._store(status)

    def _focus_first_error(self) -> None:
        for field in self.query(FieldInput):
            if field.spec.name in self.errors:
                field.control.focus()
                field.scroll_visible()
                return

    @work(thread=True, exclusive=True, group="duplicates")
    def find_duplicates(self, raw: dict[str, Any], status: str) -> None:
        matches: list[tuple[Record, float | None]] = []
        with self.app.reading() as store:
            if raw.get("address"):
                matches += [(r, None) for r in store.find_by_address(
                    self.kind, str(raw["address"]), exclude_id=self.record_id)]
            try:
                lat, lng = float(raw["lat"]), float(raw["lng"])
            except (KeyError, TypeError, ValueError):
                lat = lng = None
            if lat is not None and lng is not None:
                seen = {r.id for r, _ in matches}
                matches += [(r, d) for r, d in lookups.nearby(
                    store.conn, self.kind, lat, lng, exclude_id=self.record_id)
                    if r.id not in seen]
            dismissed = lookups.not_duplicates(store.conn, self.record_id)
        matches = [(r, d) for r, d in matches if r.id not in dismissed]
        self.post_message(DuplicatesFound(status, matches[:20]))

    @on(DuplicatesFound)
    def _duplicates(self, message: DuplicatesFound) -> None:
        if not message.matches:
            self._store(message.status)
            return

        def answer(choice: tuple[str, str | None] | None) -> None:
            what, other = choice or ("cancel", None)
            if what == "save":
                self.duplicates_ok = True
                self._store(message.status, not_duplicates=[r.id for r, _ in message.matches])
            elif what == "open" and other:
                self.app.open_detail(other)

        self.app.push_screen(DuplicateModal(self.lang, message.matches), answer)

    def _save_status(self, status: str) -> str:
        current = self.record.status if self.record else "draft"
        if current == "approved":
            # Either key: a change of content is a revision back to the queue, the joint
            # review alone stays approved (the store decides: fieldapp/domain/revision.py).
            return current
        if status == "submitted":
            return status
        # A returned record stays returned while being fixed; a submitted one is withdrawn.
        return current if current in ("draft", "returned") else "draft"

    def _store(self, status: str, not_duplicates: list[str] | None = None) -> None:
        """Queue the save: the record, the end of its kept draft, and the user's "not a
        duplicate" answer (so the same pair is not asked about again)."""
        if self.saving:
            return
        kind, record_id = self.kind, self.record_id
        payload, save_status = self.store_payload(), self._save_status(status)

        def save(store):  # noqa: ANN001 - runs on the writer thread
            record = store.save(kind, payload, record_id=record_id, status=save_status)
            lookups.clear_form_draft(store.conn, kind, record_id)
            if not_duplicates:
                lookups.mark_not_duplicates(store.conn, record.id, not_duplicates)
            return record

        self.saving = status
        self._show_summary(t("saving", self.lang))
        self.app.write(save, what="record", reply_to=self)

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        if message.what != "record" or not self.saving:
            return
        status, self.saving = self.saving, ""
        self.done = True
        was = self.record.status if self.record else "draft"
        now = message.result.status
        key = ("revision_submitted" if was == "approved" and now == "submitted" else
               "saved" if now == was == "approved" else
               "submitted" if status == "submitted" else "saved_draft")
        self.notify(t(key, self.lang))
        self.dismiss(message.result.id)

    @on(SaveFailed)
    def _save_failed(self, message: SaveFailed) -> None:
        if message.what != "record":
            return
        message.stop()  # shown here, with the fields it concerns
        self.saving = ""
        error = message.error
        if isinstance(error, ValidationFailed):
            self._show_errors(self._by_field(error.errors))
            self._focus_first_error()
        else:
            self._show_summary("")
        self.notify(message.reason(self.lang), title=t("cannot_save", self.lang),
                    severity="error", timeout=10)

    def action_close(self) -> None:
        self._collect()
        if self._autosave:
            self._autosave.stop()
        if self.dirty():
            self.autosave()
            self.notify(t("kept_unsaved", self.lang))
        self.done = True
        self.dismiss(None)

    def on_unmount(self) -> None:
        """The app is closing (Ctrl+Q) inside the autosave pause: keep the last keystrokes."""
        if self.loaded and not self.done:
            try:
                self._collect()
            except Exception:  # noqa: BLE001 - widgets may already be gone; values are kept
                pass
            if self.dirty():
                self._keep_draft()  # the app drains its writer before it exits


def _norm(value: Any) -> Any:
    """Empty text, no choice and an empty list all mean "not filled in"."""
    if isinstance(value, str):
        value = value.strip()
    return None if value in ("", [], None) else value


def inspection_preset(target: Record, inspector: str) -> dict[str, Any]:
    return {"target_kind": target.kind, "target_id": target.id,
            "grid_code": target.grid_code, "inspected_on": date.today().isoformat(),
            "inspector": inspector}
