"""A PostgreSQL schema of a test's own on the shared server (COUNTERSCAN_TEST_PG_URL), so runs
never see each other's rows even when they share one database; dropped afterwards."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

import pytest

PG_ENV = "COUNTERSCAN_TEST_PG_URL"


@contextlib.contextmanager
def fresh_schema(prefix: str = "test") -> Iterator[str]:
    """Yield a database URL whose search_path is a new, empty schema; skip without a server."""
    from sqlalchemy import create_engine
    from sqlalchemy.schema import CreateSchema, DropSchema

    from counterscan.serve.storage.db import normalise_url

    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set (run `export {PG_ENV}=$(.ci/postgres.sh)`)")
    schema = f"{prefix}_{secrets.token_hex(6)}"
    admin = create_engine(normalise_url(base))
    try:
        with admin.begin() as conn:
            conn.execute(CreateSchema(schema))
        url = normalise_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(DropSchema(schema, cascade=True, if_exists=True))
        admin.dispose()
