"""Persistence: SQLAlchemy tables, engine set-up, migrations and repository functions."""
