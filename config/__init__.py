"""Configuration: settings and the school policy."""
