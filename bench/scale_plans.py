"""EXPLAIN (ANALYZE, BUFFERS) of the queue page and of a verdict's statements, run on the
benchmark database: the key lines that show which index each one uses (bench_scale.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, insert, select, text, update

KEY_WORDS = ("Index", "Scan", "Limit", "Sort", "Append", "Join", "Nested", "Execution", "Anti")


def explain(conn: Any, statement: Any) -> list[str]:
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    rows = conn.exec_driver_sql(
        f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {compiled}", compiled.params
    ).scalars()
    return [line.rstrip() for line in rows if any(w in line for w in KEY_WORDS)]


def plans(engine: Engine) -> dict[str, list[str]]:
    """Plans of the first queue page, a keyset page, and the verdict path (rolled back)."""
    from datetime import UTC, datetime

    from counterscan.serve.storage import queue as q
    from counterscan.serve.storage import schema as s
    from counterscan.serve.storage.rows import load_item

    out: dict[str, list[str]] = {}
    f = q.QueueFilter()
    with engine.connect() as conn:
        out["queue first page"] = explain(conn, q.page_query(f, 51))
        last = conn.execute(q.page_query(f, 1000)).mappings().all()[-1]
        out["queue keyset page (after row 1,000)"] = explain(
            conn, q.page_query(f, 51, 0, q.Position.of(last))
        )
        item_id = conn.execute(
            text(
                "SELECT id FROM items WHERE status = 'unreviewed' AND fingerprint IS NOT NULL LIMIT 1"
            )
        ).scalar_one()
        try:  # in the connection's open transaction, rolled back below
            lock = select(s.items.c.id).where(s.items.c.id == item_id).with_for_update()
            out["verdict: lock the item"] = explain(conn, lock)
            new = insert(s.verdicts).values(
                item_id=item_id, verdict="genuine", inspector="plan", note="",
                created_at=datetime.now(UTC),
            )  # fmt: skip
            out["verdict: insert"] = explain(conn, new)
            vid = conn.execute(text("SELECT max(id) FROM verdicts")).scalar_one()
            change = (
                update(s.items)
                .where(s.items.c.id == item_id)
                .values(status="reviewed", verdict_id=vid)
            )
            out["verdict: update the item"] = explain(conn, change)
            out["verdict: read the item back (item row)"] = explain(
                conn, q.item_query().where(s.items.c.id == item_id)
            )
            out["verdict: its history"] = explain(
                conn, select(s.verdicts).where(s.verdicts.c.item_id == item_id)
            )
            load_item(conn, item_id)
        finally:
            conn.rollback()
    return out
