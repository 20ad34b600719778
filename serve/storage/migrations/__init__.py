"""Alembic migrations of the storage schema: `versions/NNNN_*.py`, run by `storage.migrate`.

Revision N is schema version N (ids "0001", "0002", ...; the history is one straight line).
Revisions are frozen once released: they spell out their DDL instead of importing schema.py,
which describes only the newest version. Forward only, as before Alembic: to go back, restore
a backup.
"""
