"""One form field built from its FieldSpec: label, the control its type calls for, and the
validation message under it.

Text, numbers, dates and phones get an Input; a choice (and the grid) a ChoiceField with a
filterable picker; a multi-choice (candidate functions) a SelectionList; yes/no a YesNo.
The control's value is the field's *raw* form value (text as typed, codes for choices), which
is what `fieldapp.domain.validation.check_record` and the autosaved draft take.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, SelectionList, Static, TextArea

from fieldapp.domain.records import BOOL, CHOICE, DATE, GRID, LONGTEXT, MULTI, REF, FieldSpec
from fieldapp.store.lookups import Grid
from fieldapp.ui.i18n import t
from fieldapp.ui.widgets.choice_field import ChoiceField
from fieldapp.ui.widgets.yes_no import YesNo

_HINTS = {DATE: "2024-03-05", "phone": "13800001234"}


class FieldInput(Vertical):
    """A labelled control for one field; posts `FieldInput.Changed` when the user edits it."""

    DEFAULT_CSS = """
    FieldInput { layout: grid; grid-size: 2; grid-columns: 26 1fr; grid-rows: auto;
                 height: auto; margin: 0 0 1 0; }
    FieldInput .field-label { width: 26; color: $text-muted; }
    FieldInput.-required .field-label { color: $text; }
    FieldInput > .error { column-span: 2; color: $error; height: auto; display: none;
                          margin: 0 0 0 26; }
    FieldInput.-invalid > .error { display: block; }
    FieldInput SelectionList { height: auto; max-height: 14; width: 1fr; }
    FieldInput .multi-box { height: auto; width: 1fr; }
    FieldInput TextArea { height: 4; width: 1fr; background: $boost; }
    FieldInput Input { width: 1fr; height: 1; background: $boost; }
    FieldInput Input:focus { background: $accent 30%; }
    """

    class Changed(Message):
        def __init__(self, field: FieldInput) -> None:
            super().__init__()
            self.field = field

    def __init__(self, spec: FieldSpec, lang: str, raw: Any = None, *,
                 grids: list[Grid] | None = None, readonly: bool = False,
                 ref_label: str = "", readonly_note: bool = True) -> None:
        super().__init__(id=f"field-{spec.name}")
        self.spec = spec
        self.lang = lang
        self.initial = raw
        self.grids = grids or []
        self.readonly = readonly
        # "(filled in for you)" after the label; a screen that says why itself turns it off.
        self.readonly_note = readonly_note
        self.ref_raw = raw  # a reference (the inspected record's id) is shown by its title
        self.ref_label = ref_label
        self._error = ""

    def compose(self) -> ComposeResult:
        spec, lang, raw = self.spec, self.lang, self.initial
        label = spec.label(lang) + (f" ({spec.unit})" if spec.unit else "")
        if spec.required:
            label += " *"
        if self.readonly and self.readonly_note:
            label += " " + t("readonly_field", lang)
        self.set_class(spec.required, "-required")
        yield Label(label, classes="field-label")
        yield self._control(spec, lang, raw)
        yield Static("", classes="error")

    def _control(self, spec: FieldSpec, lang: str, raw: Any):
        cid = f"input-{spec.name}"
        if spec.type == CHOICE and spec.choices:
            options = [(c.label(lang), c.code) for c in spec.choices]
            return ChoiceField(options, raw if raw in spec.choices else None,
                               prompt=t("choose", lang), title=spec.label(lang), id=cid,
                               disabled=self.readonly)
        if spec.type == GRID:
            options = [(f"{g.name}  {g.code}", g.code) for g in self.grids]
            if raw and raw not in {g.code for g in self.grids}:
                options.insert(0, (str(raw), raw))
            return ChoiceField(options, raw or None, prompt=t("choose", lang),
                               title=spec.label(lang), id=cid, disabled=self.readonly)
        if spec.type == MULTI and spec.choices:
            chosen = set(raw or [])
            # A line to type names as the plan writes them (宝宝屋, 养老托育): Enter ticks them.
            typer = Input(placeholder=t("type_choices", lang), classes="multi-typer",
                          id=f"type-{spec.name}", compact=True)
            return Vertical(SelectionList(*[(c.label(lang), c.code, c.code in chosen)
                                            for c in spec.choices], id=cid),
                            typer, classes="multi-box")
        if spec.type == BOOL:
            return YesNo(None if raw is None else bool(raw), lang, id=cid,
                         disabled=self.readonly)
        if spec.type == REF:
            return Static(self.ref_label or str(raw or ""), id=cid, classes="ref-value")
        if spec.type == LONGTEXT:
            return TextArea(str(raw or ""), id=cid, soft_wrap=True, compact=True)
        return Input(str(raw or ""), placeholder=_HINTS.get(spec.type, ""), id=cid,
                     disabled=self.readonly, compact=True)

    @property
    def control(self):
        return self.query_one(f"#input-{self.spec.name}")

    def raw_value(self) -> Any:
        control = self.control
        if self.spec.type == REF:
            return self.ref_raw
        if isinstance(control, (ChoiceField, YesNo)):
            return control.value
        if isinstance(control, SelectionList):
            return list(control.selected)
        if isinstance(control, TextArea):
            return control.text
        return control.value

    def set_value(self, raw: Any) -> None:
        control = self.control
        if self.spec.type == REF:
            self.ref_raw = raw
            control.update(str(raw or ""))
        elif isinstance(control, ChoiceField):
            control.value = raw
        elif isinstance(control, YesNo):
            control.value = None if raw is None else bool(raw)
        elif isinstance(control, SelectionList):
            control.deselect_all()
            for code in raw or []:
                control.select(code)
        elif isinstance(control, TextArea):
            control.text = str(raw or "")
        else:
            control.value = str(raw or "")

    def set_error(self, message: str | None) -> None:
        message = message or ""
        if message == self._error:
            return  # an update re-lays out the whole form; skip it when nothing changed
        self._error = message
        self.query_one(".error", Static).update(message)
        self.set_class(bool(message), "-invalid")

    @property
    def error(self) -> str:
        return self._error

    @on(Input.Submitted, ".multi-typer")
    def _tick_typed(self, event: Input.Submitted) -> None:
        """Tick what the words name and say which (养老托育 ticks two); leave the words nothing
        matched in the box, and say so."""
        event.stop()
        choices = self.query_one(SelectionList)
        codes, unknown = self.spec.choices.read_words(event.value)
        for code in codes:
            choices.select(code)
        event.input.value = " ".join(unknown)
        if codes:
            self.app.notify(t("ticked_choices", self.lang, words="、".join(
                self.spec.choices.label(c, self.lang) for c in codes)))
        if unknown:
            self.app.notify(t("unknown_choices", self.lang, words="、".join(unknown)),
                            severity="warning")

    @on(Input.Changed, ".multi-typer")
    def _typing(self, event: Input.Changed) -> None:
        event.stop()  # the words are not the field's value until Enter ticks them

    @on(Input.Changed)
    @on(ChoiceField.Changed)
    @on(YesNo.Changed)
    @on(SelectionList.SelectedChanged)
    @on(TextArea.Changed)
    def _edited(self, event: Message) -> None:
        event.stop()
        self.post_message(self.Changed(self))
