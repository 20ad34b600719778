"""The tables, as of the newest schema version (migrations/ brings older databases here).

items     one row per scored image and model version (same bytes + same model = same row).
verdicts  every verdict ever given, oldest first by id; never updated or deleted.
sightings  later submissions of an item's image from other listings (first one: on the item).
cases, case_items, case_events  the case register (storage/cases.py): an inspection, the items
          it covers, and its history (every status change, note, item change, evidence download).
sellers   one row per (source, seller_id) seen in a scoring request (schema version 6).
listings  one row per (source, listing_id): its text, price, category, combined score and the
          signals (`reasons`, JSON) found when it was last seen; `listing_items` are its photos.
alerts    early warnings, each raised once (`dedupe_key`: the rule and what it is about);
          `alert_outbox` holds each one's webhook delivery (written with it).
seller_contacts  phone numbers and Zalo ids found in a seller's listings (they link sellers).
schema_version  one row per schema version reached (the highest is the current one); Alembic's
                own `alembic_version` is kept beside it, see migrate.py.

`items.status` and `items.verdict_id` (the latest verdict) are kept in step with `verdicts` by
`Store.add_verdict` in the same transaction, so the queue is a single indexed query.
`verdict_id` has no foreign key on purpose: items and verdicts would point at each other, which
SQLite cannot add to an existing table; `verdicts.item_id` carries the real link.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from counterscan.contract import BANDS

SCHEMA_VERSION = 7  # the newest revision in migrations/versions/ (a test keeps them equal)

PRIORITIES = BANDS  # queue order
PRIORITY_RANK = {p: i for i, p in enumerate(PRIORITIES)}
VERDICTS = ("counterfeit", "genuine", "unsure")
STATUSES = ("unreviewed", "reviewed")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend.

    PostgreSQL stores `timestamptz`; SQLite has no time zones, so it gets naive UTC text, which
    sorts correctly because SQLAlchemy writes it fixed-width.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", UTCDateTime, nullable=False),
)

items = Table(
    "items",
    metadata,
    Column("id", String(32), primary_key=True),  # time-sortable hex, see store.new_item_id
    Column("sha256", String(64), nullable=False),
    Column("phash", String(16), nullable=False),
    Column("score", Float, nullable=False),
    Column("priority", String(8), nullable=False),
    Column("model_version", String(128), nullable=False),
    Column("listing_id", String(256)),
    Column("source", String(128)),
    Column("url", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("embedding", LargeBinary),  # float32 little-endian, L2-normalised, for similar cases
    # Added in schema version 2: the queue's sort key and review state.
    Column("priority_rank", SmallInteger, nullable=False, server_default=text("2")),
    Column("status", String(16), nullable=False, server_default=text("'unreviewed'")),
    Column("verdict_id", Integer),
    # Added in schema version 4 (similar cases, counterscan.serve.similar): the photo's
    # fingerprint for near-duplicate matching, and why the priority was raised above the
    # model's (e.g. "matches confirmed counterfeit <id> (near_duplicate)"); NULL: not raised.
    Column("fingerprint", LargeBinary),
    Column("priority_reason", String(512)),
    UniqueConstraint("sha256", "model_version", name="uq_items_sha256_model"),
    Index("ix_items_listing_id", "listing_id"),
    Index("ix_items_source", "source"),
    Index("ix_items_created_at", "created_at"),
    # Added in schema version 7: trends per day and source, surge alerts per source.
    Index("ix_items_day_source_priority", "created_at", "source", "priority"),
    Index("ix_items_source_priority_day", "source", "priority", "created_at"),
)

# The inspection queue: status filter, then its exact sort order.
QUEUE_INDEX = Index(
    "ix_items_queue",
    items.c.status,
    items.c.priority_rank,
    items.c.score.desc(),
    items.c.created_at,
    items.c.id,
)

verdicts = Table(
    "verdicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(32), ForeignKey("items.id"), nullable=False, index=True),
    Column("verdict", String(16), nullable=False),
    Column("inspector", String(128), nullable=False),
    Column("note", Text, nullable=False, server_default=text("''")),
    Column("created_at", UTCDateTime, nullable=False),
    # Added in schema version 3: the API key's name that sent the verdict, when `inspector`
    # names someone else (a shared team key, an inspector typing a colleague's name).
    Column("recorded_by", String(128)),
    Index("ix_verdicts_created_at", "created_at"),  # schema version 7: trends
)

# Added in schema version 3: the same image submitted again (answered from the stored result)
# from another listing, source or url. Without this, a photo reused by a second listing would
# leave no trace of that listing.
sightings = Table(
    "sightings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(32), ForeignKey("items.id"), nullable=False, index=True),
    Column("listing_id", String(256), index=True),
    Column("source", String(128)),
    Column("url", Text),
    Column("created_at", UTCDateTime, nullable=False),
)

# Added in schema version 5: the case register (storage/cases.py). A case is an inspection
# from opening to outcome; `outcome` is "violation" or "no_violation" once decided (kept when the
# case is closed, so reports and training read it from one column).
CASE_STATUSES = ("open", "inspecting", "violation", "no_violation", "closed")
VIOLATION_KINDS = (
    "counterfeit_goods", "smuggled_goods", "ip_infringement", "unknown_origin", "other",
)  # fmt: skip

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(256), nullable=False),
    Column("inspector", String(128)),  # assigned inspector
    Column("status", String(16), nullable=False),
    Column("outcome", String(16)),  # violation | no_violation
    Column("violation_kind", String(32)),
    Column("fine_vnd", BigInteger),
    Column("goods_value_vnd", BigInteger),
    Column("quantity_seized", Integer),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Index("ix_cases_status", "status"),
    Index("ix_cases_inspector", "inspector"),
    Index("ix_cases_created_at", "created_at"),
)

case_items = Table(
    "case_items",
    metadata,
    Column("case_id", Integer, ForeignKey("cases.id"), primary_key=True),
    Column("item_id", String(32), ForeignKey("items.id"), primary_key=True),
    Column("added_by", String(128), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
    Index("ix_case_items_item_id", "item_id"),
)

# Appended, never updated: kind is created | status | note | assigned | item_added |
# item_removed | closed | evidence_download.
case_events = Table(
    "case_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("from_status", String(16)),
    Column("to_status", String(16)),
    Column("item_id", String(32)),
    Column("actor", String(128), nullable=False),
    Column("note", Text, nullable=False, server_default=text("''")),
    Column("created_at", UTCDateTime, nullable=False),
)

# Added in schema version 6 (listings and sellers, counterscan.serve.sellers). A listing or
# seller without a source is kept under source "" (the key columns are NOT NULL so that the
# unique constraints hold on every backend).
sellers = Table(
    "sellers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(128), nullable=False),
    Column("seller_id", String(256), nullable=False),
    Column("name", String(256)),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    UniqueConstraint("source", "seller_id", name="uq_sellers_source_seller_id"),
)
# Added in schema version 7: each seller's risk and what it is made of, kept current as its
# listings, verdicts and links change (sellers/stored.py); no row: not computed yet. Source and
# seller_id are copied from `sellers` (they never change) so one index gives the ranking.
seller_risk = Table(
    "seller_risk",
    metadata,
    Column("seller_ref", Integer, ForeignKey("sellers.id"), primary_key=True),
    Column("source", String(128), nullable=False),
    Column("seller_id", String(256), nullable=False),
    Column("risk", Float, nullable=False),
    Column("base_risk", Float, nullable=False),  # without links: what linked sellers see
    Column("listing_count", Integer, nullable=False),
    Column("high_listings", Integer, nullable=False),
    Column("confirmed_counterfeit", Integer, nullable=False),
    Column("evidence", Text, nullable=False),  # JSON: own evidence [[weight, why]], only_genuine
    Column("reasons", Text, nullable=False),  # JSON list of words, strongest first
    Column("linked", Text, nullable=False),  # JSON list of {"source", "seller_id", "risk", "why"}
)
# Added in schema version 7: the per-day counts of GET /v1/trends for days before today (UTC),
# filled on first read and dropped for a day when a write changes it (storage/trends.py); a day
# is rolled up when its ("overall", "") row exists. Today is always counted from the rows.
trend_days = Table(
    "trend_days",
    metadata,
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD, UTC
    Column("grp", String(8), primary_key=True),  # overall | source | category
    Column("key", String(256), primary_key=True),  # the source or category; "" for overall
    Column("scored", Integer, nullable=False),
    Column("high", Integer, nullable=False),
    Column("counterfeit", Integer, nullable=False),
)

# Sellers riskiest first, with and without a source filter (GET /v1/sellers).
SELLERS_BY_RISK = Index(
    "ix_seller_risk_rank",
    seller_risk.c.risk.desc(),
    seller_risk.c.source,
    seller_risk.c.seller_id,
    seller_risk.c.seller_ref,  # a page far down is found in the index alone
)
SELLERS_BY_SOURCE_RISK = Index(
    "ix_seller_risk_source_rank",
    seller_risk.c.source,
    seller_risk.c.risk.desc(),
    seller_risk.c.seller_id,
    seller_risk.c.seller_ref,
)

listings = Table(
    "listings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(128), nullable=False),
    Column("listing_id", String(256), nullable=False),
    Column("seller_ref", Integer, ForeignKey("sellers.id")),
    Column("url", Text),
    Column("title", String(1000)),
    Column("text", Text),
    Column("price", Float),
    Column("category", String(256)),
    Column("score", Float, nullable=False),  # the highest score of its photos (sellers/)
    Column("reasons", Text, nullable=False),  # JSON list of {"signal", "detail"}
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    UniqueConstraint("source", "listing_id", name="uq_listings_source_listing_id"),
    Index("ix_listings_seller_ref", "seller_ref"),
    Index("ix_listings_category", "category"),
    Index("ix_listings_category_last_seen", "category", "last_seen"),  # version 7: surges
)

listing_items = Table(
    "listing_items",
    metadata,
    Column("listing_ref", Integer, ForeignKey("listings.id"), primary_key=True),
    Column("item_id", String(32), ForeignKey("items.id"), primary_key=True),
    Index("ix_listing_items_item_id", "item_id"),
)

seller_contacts = Table(
    "seller_contacts",
    metadata,
    Column("seller_ref", Integer, ForeignKey("sellers.id"), primary_key=True),
    Column("kind", String(16), primary_key=True),  # "phone" | "zalo"
    Column("value", String(64), primary_key=True),  # normalised: 0912345678, zalo id lowercase
    Index("ix_seller_contacts_value", "kind", "value"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", String(32), primary_key=True),  # time-sortable hex, like items
    Column("kind", String(32), nullable=False),  # known_counterfeit | seller_repeat | ...
    Column("dedupe_key", String(800), nullable=False),  # a rule raises each key once
    Column("created_at", UTCDateTime, nullable=False),
    Column("source", String(128)),
    Column("seller_id", String(256)),
    Column("item_ids", Text, nullable=False),  # JSON list
    Column("detail", Text, nullable=False),  # JSON object: the rule and its numbers
    Column("acknowledged_at", UTCDateTime),
    Column("acknowledged_by", String(128)),
    UniqueConstraint("dedupe_key", name="uq_alerts_dedupe_key"),
    Index("ix_alerts_created_at", "created_at"),
    Index("ix_alerts_newest", "created_at", "id"),  # schema version 7: newest first
)

# Webhook delivery (sellers/webhook.py): one row per alert, written with it, so none is lost.
alert_outbox = Table(
    "alert_outbox",
    metadata,
    Column("alert_id", String(32), ForeignKey("alerts.id"), primary_key=True),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),  # NULL: not delivered yet
    Column("last_error", String(512)),
    Index("ix_alert_outbox_due", "delivered_at", "next_attempt_at"),
)
