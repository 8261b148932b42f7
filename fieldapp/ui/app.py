"""The Textual application: wires screens together and nothing else."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

from fieldapp.context import AppContext


class FieldApp(App):
    TITLE = "fieldapp 社区嵌入式服务设施"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx

    def compose(self) -> ComposeResult:
        store = self.ctx.open_store()
        counts = store.counts_by_kind()
        yield Header()
        yield Static("\n".join(f"{k}: {sum(v.values())}" for k, v in counts.items()) or "空")
        yield Footer()


if __name__ == "__main__":
    FieldApp(AppContext.create()).run()
