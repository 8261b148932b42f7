"""The Textual TUI: screens, widgets and styles. Thin: domain and store do the work."""
