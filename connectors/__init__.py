"""Connectors: one per platform, plus the platform sandbox."""
