"""The TUI's screens: home, record lists, forms, details, dialogs and help."""
