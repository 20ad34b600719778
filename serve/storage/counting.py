"""Counts for list pages that never scan a big table: exact up to a cap, estimated beyond it.

Counting every matching row costs as much as reading them (PostgreSQL has no stored row count):
at 10 million queued items a plain COUNT takes seconds, on every page. So a page counts at most
EXACT_UP_TO + 1 rows (a few milliseconds through the index); if there are more, it says how many
it estimates and labels the number as an estimate (`total_is_estimate` in the API):

- PostgreSQL: the planner's row estimate for the same filtered query (EXPLAIN; table statistics
  that autovacuum's ANALYZE keeps current), never below the exact lower bound.
- SQLite has no row estimates: the share of matching rows among the ESTIMATE_SAMPLE newest rows,
  times the number of rows in the table (the largest rowid: items are never deleted).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, Select, func, literal_column, select

EXACT_UP_TO = 1_000  # 5 ms at 10 million items; 10,000 cost 19 ms (bench/README.md)
ESTIMATE_SAMPLE = 10_000


@dataclass(frozen=True)
class Count:
    n: int
    is_estimate: bool


def count(
    conn: Connection,
    rows: Select,
    *,
    exact_up_to: int = EXACT_UP_TO,
    estimate_rows: Select | None = None,
) -> Count:
    """How many rows `rows` (a filtered SELECT, any columns, no ORDER/LIMIT) returns.
    `estimate_rows`: a simpler query to estimate instead (e.g. without an anti-join whose
    selectivity the planner cannot know), never below the exact lower bound."""
    capped = select(func.count()).select_from(rows.limit(exact_up_to + 1).subquery())
    n = int(conn.execute(capped).scalar_one())
    if n <= exact_up_to:
        return Count(n, False)
    estimated = rows if estimate_rows is None else estimate_rows
    if conn.dialect.name == "postgresql":
        guess = _planner_rows(conn, estimated)
    else:
        guess = _sampled_rows(conn, estimated)
    return Count(max(n, guess), True)


def _planner_rows(conn: Connection, rows: Select) -> int:
    compiled = rows.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params).scalar_one()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _sampled_rows(conn: Connection, rows: Select) -> int:
    table = rows.get_final_froms()[0]
    rowid = literal_column(f"{table.name}.rowid")
    in_table = int(conn.execute(select(func.max(rowid)).select_from(table)).scalar_one() or 0)
    sample = rows.where(rowid > in_table - ESTIMATE_SAMPLE)
    matching = int(conn.execute(select(func.count()).select_from(sample.subquery())).scalar_one())
    seen = min(ESTIMATE_SAMPLE, in_table)
    return round(in_table * matching / seen) if seen else 0
