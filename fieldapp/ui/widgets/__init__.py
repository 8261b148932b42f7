"""Reusable widgets of the TUI, each driven by the record definitions in fieldapp.domain."""
