"""One Alembic revision per schema version, oldest first (see ../__init__.py)."""
