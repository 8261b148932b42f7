"""fieldapp: offline-first field tool for Shanghai's community embedded service facilities."""

__version__ = "0.1.0"
