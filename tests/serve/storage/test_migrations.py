"""Alembic migrations: the revisions build exactly schema.py, databases of the hand-written
migrator before Alembic are taken over, and a revision runs whole or not at all."""

from __future__ import annotations

import re
import shutil
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata, produce_migrations, render_python_code
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Engine, Integer, MetaData, event, inspect, select, text, update
from sqlalchemy.exc import IntegrityError

from counterscan.errors import CounterscanError
from counterscan.serve.storage import Store, migrate
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.db import make_engine
from counterscan.serve.storage.legacy import LAST_VERSION, create_legacy

HEAD = migrate.revision_id(s.SCHEMA_VERSION)
# The tables the hand-written migrator built (its last version, legacy.LAST_VERSION).


def schema_diff(engine: Engine, metadata: MetaData = s.metadata) -> tuple[list, str]:
    """Alembic's autogenerate comparison of the database with `metadata`, and the op.* code
    that would close the gap (what a missing revision should contain)."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        diff = compare_metadata(ctx, metadata)
        code = render_python_code(produce_migrations(ctx, metadata).upgrade_ops)
    return diff, code


def assert_matches_schema_py(engine: Engine) -> None:
    diff, code = schema_diff(engine)
    assert diff == [], f"the database differs from schema.py; a revision is missing:\n{code}"


def alembic_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def recorded_versions(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(s.schema_version.c.version)).scalars())


def test_revisions_are_the_schema_versions_in_one_line() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    revisions = list(reversed(list(script.walk_revisions())))
    ids = [r.revision for r in revisions]
    assert ids == [migrate.revision_id(n) for n in range(1, len(ids) + 1)]
    assert [r.down_revision for r in revisions] == [None, *ids[:-1]]
    assert all(Path(r.path).name.startswith(f"{r.revision}_") for r in revisions)
    assert migrate.head_version() == s.SCHEMA_VERSION


def test_new_database_matches_schema_py(db_url: str, data_dir: Path) -> None:
    with Store(db_url, data_dir) as store:
        assert_matches_schema_py(store.engine)
        assert alembic_revision(store.engine) == HEAD


def test_the_comparison_sees_a_difference(db_url: str, data_dir: Path) -> None:
    """Guards the test above: a column schema.py has and the database lacks is reported."""
    metadata = MetaData()
    for table in s.metadata.tables.values():
        table.to_metadata(metadata)
    metadata.tables["items"].append_column(Column("extra", Integer))
    with Store(db_url, data_dir) as store:
        diff, code = schema_diff(store.engine, metadata)
    assert [d[0] for d in diff] == ["add_column"]
    assert "op.add_column('items', sa.Column('extra'" in code


def test_migrations_ignore_the_working_directory(
    db_url: str, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No alembic.ini is read: a stray one where the server starts changes nothing."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "alembic.ini").write_text("[alembic]\nscript_location = nowhere\n")
    monkeypatch.chdir(elsewhere)
    with Store(db_url, data_dir) as store:
        assert alembic_revision(store.engine) == HEAD


@pytest.mark.parametrize("version", range(1, LAST_VERSION + 1))
def test_database_of_the_hand_written_migrator_is_taken_over(db_url: str, version: int) -> None:
    """Stamped at its version, upgraded from there; at the old migrator's last version no DDL
    runs at all besides Alembic's own version table."""
    engine = make_engine(db_url)
    create_legacy(engine, version)
    ddl: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _collect(_conn, _cursor, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith(("CREATE", "ALTER", "DROP")):
            ddl.append(" ".join(statement.split()))

    try:
        assert migrate.migrate(engine) == (version, s.SCHEMA_VERSION)
        assert alembic_revision(engine) == HEAD
        assert recorded_versions(engine) == list(range(1, s.SCHEMA_VERSION + 1))
        assert_matches_schema_py(engine)
        if version == LAST_VERSION:
            # Nothing the old migrator built is built again: Alembic's own table first, then
            # only what revisions after its last version add (new tables and their indexes).
            heads = [d.split("(")[0].strip() for d in ddl]
            assert heads[0] == "CREATE TABLE alembic_version"
            assert not [h for h in heads if h.startswith(("ALTER", "DROP"))], heads
            created = {h.split()[-1] for h in heads[1:] if h.startswith("CREATE TABLE")}
            assert not created & _legacy_tables(), heads
        assert migrate.migrate(engine) == (s.SCHEMA_VERSION, s.SCHEMA_VERSION)
    finally:
        engine.dispose()


def _ddl_table(statement: str) -> str:
    """The table a CREATE/ALTER/DROP statement works on."""
    found = re.match(
        r"(?:CREATE (?:UNIQUE )?INDEX \S+ ON|CREATE TABLE|ALTER TABLE|DROP \w+) (\S+)", statement
    )
    assert found, statement
    return found.group(1).strip('"')


def _legacy_tables() -> set[str]:
    engine = make_engine("sqlite://")
    try:
        create_legacy(engine, LAST_VERSION)
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_workers_starting_together_on_an_old_database_migrate_once(
    db_url: str, data_dir: Path, open_together
) -> None:
    engine = make_engine(db_url)
    create_legacy(engine, 1)
    stores = open_together(db_url, data_dir, 4)
    try:
        assert recorded_versions(engine) == list(range(1, s.SCHEMA_VERSION + 1))
        assert alembic_revision(engine) == HEAD
    finally:
        for store in stores:
            store.close()
        engine.dispose()


@pytest.mark.parametrize(
    ("revision", "message"),
    [("0099", "newer than this counterscan"), ("1a2b3c", "not one of counterscan's")],
)
def test_unknown_alembic_revision_is_refused(
    db_url: str, data_dir: Path, revision: str, message: str
) -> None:
    Store(db_url, data_dir).open().close()
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()
    with pytest.raises(CounterscanError, match=message):
        Store(db_url, data_dir).open()


@pytest.fixture
def add_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """add_revision(body) appends a revision (the next number, `upgrade()` from `body`) to a
    copy of the migrations that migrate() then uses."""
    folder = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS", folder)

    def add(body: str) -> None:
        number = migrate.head_version() + 1
        header = (
            "import sqlalchemy as sa\nfrom alembic import op\n\n"
            f"revision = {migrate.revision_id(number)!r}\n"
            f"down_revision = {migrate.revision_id(number - 1)!r}\n\n"
        )
        path = folder / "versions" / f"{migrate.revision_id(number)}_test.py"
        path.write_text(header + textwrap.dedent(body))

    return add


def test_a_failing_revision_changes_nothing(
    db_url: str, data_dir: Path, add_revision: Callable[[str], None]
) -> None:
    Store(db_url, data_dir).open().close()
    add_revision(
        """
        def upgrade():
            op.create_table("notes", sa.Column("id", sa.Integer(), primary_key=True))
            op.add_column("items", sa.Column("extra", sa.Integer()))
            raise RuntimeError("revision failed half-way")
        """
    )
    engine = make_engine(db_url)
    try:
        with pytest.raises(RuntimeError, match="half-way"):
            migrate.migrate(engine)
        with engine.connect() as conn:
            assert "notes" not in inspect(conn).get_table_names()
            assert "extra" not in {c["name"] for c in inspect(conn).get_columns("items")}
        assert alembic_revision(engine) == HEAD
        assert recorded_versions(engine) == [s.SCHEMA_VERSION]
    finally:
        engine.dispose()


def test_a_revision_may_recreate_a_referenced_table(
    db_url: str, data_dir: Path, add_revision: Callable[[str], None], save_item
) -> None:
    """SQLite cannot alter a column: batch mode copies `items` into a new table, which works
    with verdicts pointing at it, and the foreign keys hold afterwards."""
    item = save_item(1)
    with Store(db_url, data_dir) as store:
        store.add_verdict(item.id, "counterfeit", "ana")
    add_revision(
        """
        def upgrade():
            with op.batch_alter_table("items") as batch:
                batch.alter_column("priority_reason", type_=sa.String(600))
        """
    )
    with Store(db_url, data_dir) as store:
        again = store.get_item(item.id)
        assert again is not None and again.verdict is not None
        assert again.verdict.verdict == "counterfeit"
        with store.engine.connect() as conn:
            column = {c["name"]: c for c in inspect(conn).get_columns("items")}
            assert column["priority_reason"]["type"].length == 600
        assert recorded_versions(store.engine) == [s.SCHEMA_VERSION, s.SCHEMA_VERSION + 1]
        with pytest.raises(IntegrityError), store.engine.begin() as conn:
            conn.execute(
                s.verdicts.insert().values(
                    item_id="f" * 32,
                    verdict="genuine",
                    inspector="bo",
                    created_at=datetime.now(UTC),
                )
            )


def test_sqlite_refuses_a_revision_that_breaks_a_foreign_key(
    tmp_path: Path, add_revision: Callable[[str], None]
) -> None:
    """Foreign keys are off while SQLite migrates; they are checked before the commit."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with Store(url, tmp_path / "store") as store:
        with store.engine.begin() as conn:
            conn.execute(
                s.items.insert().values(
                    id="a" * 32, sha256="0" * 64, phash="0" * 16, score=0.5, priority="low",
                    model_version="m", width=1, height=1, created_at=datetime.now(UTC),
                )
            )  # fmt: skip
        store.add_verdict("a" * 32, "genuine", "ana")
    add_revision(
        """
        def upgrade():
            op.execute("DELETE FROM items")
        """
    )
    engine = make_engine(url)
    try:
        with pytest.raises(
            CounterscanError, match="row in verdicts that points at a missing items"
        ):
            migrate.migrate(engine)
        with engine.connect() as conn:
            assert conn.execute(select(s.items.c.id)).scalars().all() == ["a" * 32]
        assert alembic_revision(engine) == HEAD
        # The migration's connection went back to the pool with foreign keys on again.
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(update(s.verdicts).values(item_id="b" * 32))
    finally:
        engine.dispose()
