"""The local SQLite store: the laptop's source of truth for the UI and the sync engine."""
