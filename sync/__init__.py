"""Sync: the engine that moves records between a laptop and the registry, and the registry."""
