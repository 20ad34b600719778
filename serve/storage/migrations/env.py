"""Alembic's entry point (`command.upgrade` and `command.stamp` run this file).

counterscan runs Alembic only through `counterscan.serve.storage.migrate.migrate()`, which opens
the transaction, takes the lock and hands its connection over in `config.attributes`: no
alembic.ini, nothing read from the working directory.
"""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "counterscan migrations run through counterscan.serve.storage.migrate.migrate(), "
        "which passes its connection in config.attributes['connection']"
    )
context.configure(connection=connection)
with context.begin_transaction():  # no-op: migrate() already holds the transaction
    context.run_migrations()
