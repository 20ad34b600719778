"""`Store`: every scored image, every verdict, and the evidence files behind them.

    store = Store("sqlite:///var/counterscan.db", Path("var/store")).open()
    item = store.find_scored(sha, model_version) or store.save_scored(image_bytes=..., ...)
    store.add_verdict(item.id, "counterfeit", "ana", "logo misprinted")

Rules kept here: one item per (image bytes, model version), so re-submitting reuses the result;
verdicts are appended, never changed (the latest by id is the current one); any verdict,
`unsure` included, moves an item out of the unreviewed queue (the inspector has looked at it;
`unsure` items stay findable under status=reviewed and are left out of training exports).
All SQL is SQLAlchemy Core, parameterised. The store is thread-safe (the engine pools
connections), and several processes may share one database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Connection, Engine, insert, select, text, update
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from counterscan.contract import HIGH
from counterscan.errors import CounterscanError
from counterscan.serve.storage import counting
from counterscan.serve.storage import queue as q
from counterscan.serve.storage import schema as s
from counterscan.serve.storage.cases import CaseRegister
from counterscan.serve.storage.db import (
    WRITE,
    make_engine,
    normalise_url,
    safe_url,
    unavailable_on_db_errors,
    verdicts_in_commit_order,
)
from counterscan.serve.storage.evidence import EvidenceFiles
from counterscan.serve.storage.fields import check_text, is_item_id
from counterscan.serve.storage.migrate import migrate
from counterscan.serve.storage.queue_reads import QueueReads
from counterscan.serve.storage.records import ItemRecord, NewImage
from counterscan.serve.storage.rows import item_from_row, load_item, new_item_row

if TYPE_CHECKING:
    from counterscan.serve.settings import Settings


class ItemNotFound(CounterscanError):
    """No item has this id (or the id is malformed): the HTTP layer answers 404."""


class Store(QueueReads):
    def __init__(
        self,
        db_url: str,
        data_dir: Path,
        *,
        eager_thumbnails: bool = False,  # the service's default: settings.py says why
        exact_count_up_to: int = counting.EXACT_UP_TO,
    ) -> None:
        self.url = normalise_url(db_url)  # fails early, with a one-line message, on a bad URL
        self.db_url = db_url
        self.files = EvidenceFiles(Path(data_dir))
        self.eager_thumbnails = eager_thumbnails  # False: made on first view instead
        self.exact_count_up_to = exact_count_up_to  # list totals beyond it are estimated
        self._engine: Engine | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        return cls(settings.db_url, settings.data_dir, eager_thumbnails=settings.eager_thumbnails)

    # --- life cycle ---

    def open(self) -> Store:
        """Connect, then create or migrate the schema. Returns self."""
        try:
            self.files.create_dirs()
        except OSError as e:
            raise CounterscanError(
                f"cannot use data folder {self.files.data_dir}: {e.strerror or e}"
            ) from None
        engine = make_engine(self.db_url)
        try:
            migrate(engine)
        except (OperationalError, InterfaceError) as e:
            engine.dispose()
            reason = str(e.orig).strip().splitlines()[0] if e.orig else str(e)
            raise CounterscanError(f"cannot open database {safe_url(self.url)}: {reason}") from None
        except BaseException:
            engine.dispose()
            raise
        self._engine = engine
        return self

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> Store:
        return self.open() if self._engine is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("Store is not open; call .open() first")
        return self._engine

    @property
    def cases(self) -> CaseRegister:
        """The case register (storage/cases.py), on this store's database."""
        return CaseRegister(self)

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()  # "sqlite" | "postgresql"

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    # --- scored images ---

    def find_scored(self, sha256: str, model_version: str) -> ItemRecord | None:
        """The stored result for these bytes and this model, if any."""
        query = q.item_query().where(
            s.items.c.sha256 == sha256, s.items.c.model_version == model_version
        )
        with self._read() as conn:
            row = conn.execute(query).mappings().first()
        return item_from_row(row) if row else None

    def find_scored_many(self, sha256s: list[str], model_version: str) -> dict[str, ItemRecord]:
        """find_scored for several images in one query: sha256 -> stored result, for those
        that have one (one round trip per request instead of one per image)."""
        wanted = sorted(set(sha256s))
        found: dict[str, ItemRecord] = {}
        with self._read() as conn:
            for start in range(0, len(wanted), 500):  # bound the query's parameters
                query = q.item_query().where(
                    s.items.c.sha256.in_(wanted[start : start + 500]),
                    s.items.c.model_version == model_version,
                )
                for row in conn.execute(query).mappings():
                    found[row["sha256"]] = item_from_row(row)
        return found

    def save_scored(
        self, *, image_bytes: bytes, photo: np.ndarray | None = None, **fields: Any
    ) -> ItemRecord:
        """Keep the evidence, then the row (`fields`: those of rows.new_item_row). Returns the
        existing row if these bytes were already saved for this model (also when another
        request saved them a moment ago).

        `photo`: the image already decoded, (H, W, 3) uint8, any size; the thumbnail is made
        from it instead of decoding the bytes again (saves ~35 ms on a 12 MP JPEG)."""
        (saved,) = self.save_scored_many([NewImage(image_bytes, fields, photo)])
        if isinstance(saved, CounterscanError):
            raise saved
        return saved

    def save_scored_many(self, images: list[NewImage]) -> list[ItemRecord | CounterscanError]:
        """save_scored for several images in one transaction: one commit (one fsync of the
        database log) instead of one per image, which the batch endpoint pays per image
        otherwise. An image whose text fields the store cannot keep gets its CounterscanError
        in its place; the others are saved."""
        out: list[ItemRecord | CounterscanError | None] = [None] * len(images)
        rows: list[tuple[int, dict[str, Any]]] = []
        for i, image in enumerate(images):
            try:
                row = new_item_row(**image.fields)
            except CounterscanError as e:
                out[i] = e
                continue
            # Evidence first: a row must never point at a file that is not there. A file
            # without a row (crash in between) is harmless and reused by the next save.
            if not image.stored:
                self.keep_evidence(image.data, row["sha256"], image.photo)
            rows.append((i, row))
        if rows:
            try:
                with self._write() as conn:
                    conn.execute(insert(s.items), [row for _, row in rows])
                for i, row in rows:
                    out[i] = item_from_row(row | {"v_verdict": None})
            except IntegrityError:  # bytes saved concurrently for this model: one at a time
                for i, row in rows:
                    out[i] = self._insert_or_existing(row)
        return [o for o in out if o is not None]

    def keep_evidence(self, data: bytes, sha256: str, photo: np.ndarray | None = None) -> None:
        """The image file and, with eager thumbnails, its thumbnail (made from `photo` when
        given): written once, fsynced, kept under the image's SHA-256."""
        self.files.put(data, sha256)
        if self.eager_thumbnails and not self.files.thumbnail_path(sha256).is_file():
            self.files.make_thumbnail(sha256, data, photo=photo)

    def keep_evidence_many(self, images: list[tuple[bytes, str, bytes | None]]) -> None:
        """(bytes, sha256, thumbnail JPEG or None) of several images: the originals written
        and fsynced together (one pass per request), then, with eager thumbnails, the
        thumbnails the caller made while decoding (rebuildable: not fsynced)."""
        self.files.put_many([(data, sha256) for data, sha256, _ in images])
        if self.eager_thumbnails:
            for _, sha256, jpeg in images:
                if jpeg is not None and not self.files.thumbnail_path(sha256).is_file():
                    self.files.put_thumbnail(sha256, jpeg)

    def _insert_or_existing(self, row: dict[str, Any]) -> ItemRecord:
        try:
            with self._write() as conn:
                conn.execute(insert(s.items).values(**row))
        except IntegrityError:  # the same bytes and model, saved concurrently: reuse that one
            existing = self.find_scored(row["sha256"], row["model_version"])
            if existing is None:
                raise
            return existing
        return item_from_row(row | {"v_verdict": None})

    # --- items, queue, verdicts ---

    def record_sighting(
        self,
        item: ItemRecord,
        *,
        listing_id: str | None = None,
        source: str | None = None,
        url: str | None = None,
    ) -> bool:
        """Note that the item's image was submitted again (and answered from the store) with
        this listing/source/url. Nothing is written when they equal the item's own or an
        earlier sighting's. Returns whether a row was added."""
        where = (
            check_text("listing_id", listing_id),
            check_text("source", source),
            check_text("url", url),
        )
        if where == (None, None, None) or where == (item.listing_id, item.source, item.url):
            return False
        t = s.sightings.c
        same = select(t.id).where(
            t.item_id == item.id,
            *(
                col.is_(None) if v is None else col == v
                for col, v in zip((t.listing_id, t.source, t.url), where, strict=True)
            ),
        )
        with self._write() as conn:
            if conn.execute(same.limit(1)).first() is not None:
                return False
            conn.execute(
                insert(s.sightings).values(
                    item_id=item.id,
                    listing_id=where[0],
                    source=where[1],
                    url=where[2],
                    created_at=datetime.now(UTC),
                )
            )
        return True

    def get_item(self, item_id: str) -> ItemRecord | None:
        """The item with its verdict history and sightings; None for unknown or malformed ids."""
        if not is_item_id(item_id):
            return None
        with self._read() as conn:
            return load_item(conn, item_id)

    def add_verdict(
        self,
        item_id: str,
        verdict: str,
        inspector: str,
        note: str = "",
        *,
        recorded_by: str | None = None,
        at: datetime | None = None,
        then: Callable[[Connection, str], None] | None = None,
    ) -> ItemRecord:
        """Append a verdict; it becomes the current one. Returns the item with its history.
        `recorded_by`: who sent it (the API key's name), kept for audit next to `inspector`.
        `at`: now, unless a script replays history. `then(conn, item_id)`: what else must change
        with it, in the same transaction (the stored risk of its sellers: sellers/stored.py)."""
        if verdict not in s.VERDICTS:
            raise CounterscanError(f"unknown verdict {verdict!r} (use {', '.join(s.VERDICTS)})")
        inspector = check_text("inspector", (inspector or "").strip(), required=True) or ""
        note = check_text("note", note or "") or ""
        recorded_by = check_text("recorded_by", recorded_by)
        if not is_item_id(item_id):
            raise ItemNotFound(f"no item with id {item_id!r}")
        with self._write() as conn:
            # Lock the item row (PostgreSQL) so concurrent verdicts are applied in id order.
            lock = select(s.items.c.id).where(s.items.c.id == item_id).with_for_update()
            if conn.execute(lock).first() is None:
                raise ItemNotFound(f"no item with id {item_id!r}")
            verdicts_in_commit_order(conn)
            verdict_id = conn.execute(
                insert(s.verdicts).values(
                    item_id=item_id,
                    verdict=verdict,
                    inspector=inspector,
                    note=note,
                    created_at=at or datetime.now(UTC),
                    recorded_by=recorded_by,
                )
            ).inserted_primary_key[0]
            conn.execute(
                update(s.items)
                .where(s.items.c.id == item_id)
                .values(status="reviewed", verdict_id=verdict_id)
            )
            if then is not None:
                then(conn, item_id)
            item = load_item(conn, item_id)
        assert item is not None
        return item

    def raise_priority(self, item_id: str, reason: str) -> bool:
        """Move an unreviewed item to the top priority, saying why (a match with a confirmed
        counterfeit). Reviewed items and items already raised are left alone. Returns whether
        the item changed."""
        reason = reason[: s.items.c.priority_reason.type.length or 512]
        t = s.items.c
        with self._write() as conn:
            changed = conn.execute(
                update(s.items)
                .where(t.id == item_id, t.status == "unreviewed", t.priority_reason.is_(None))
                .values(priority=HIGH, priority_rank=s.PRIORITY_RANK[HIGH], priority_reason=reason)
            ).rowcount
        return bool(changed)

    def set_fingerprint(self, item_id: str, fingerprint: bytes) -> None:
        """Keep a fingerprint made later (for items scored before fingerprints were kept)."""
        with self._write() as conn:
            conn.execute(
                update(s.items).where(s.items.c.id == item_id).values(fingerprint=fingerprint)
            )

    def reviewed_items(
        self, verdicts: Iterable[str] = ("counterfeit", "genuine")
    ) -> list[ItemRecord]:
        """Reviewed items whose current verdict is one of `verdicts`, oldest verdict first."""
        wanted = list(verdicts)
        query = (
            q.item_query()
            .where(s.items.c.status == "reviewed", s.verdicts.c.verdict.in_(wanted))
            .order_by(s.verdicts.c.id)
        )
        with self._read() as conn:
            return [item_from_row(r) for r in conn.execute(query).mappings()]

    # --- evidence files ---

    def image_path(self, record: ItemRecord) -> Path:
        """The stored original (derived from the record's sha256 only, never from its id)."""
        return self.files.image_path(record.sha256)

    def thumbnail_path(self, record: ItemRecord) -> Path | None:
        """The JPEG thumbnail, made now if it is missing; None if the evidence is gone."""
        return self.files.ensure_thumbnail(record.sha256)

    def display_path(self, record: ItemRecord) -> Path | None:
        """The original if browsers show its format, else a JPEG copy made now (HEIC, TIFF)."""
        return self.files.ensure_display(record.sha256)

    # --- transactions ---

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with unavailable_on_db_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    def read(self) -> Any:
        """A read transaction (other storage modules: listings.py, sellers' queries)."""
        return self._read()

    def write(self) -> Any:
        """A write transaction, committed on leaving (other storage modules: listings.py)."""
        return self._write()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with (
            unavailable_on_db_errors(),
            self.engine.connect().execution_options(**WRITE) as conn,
            conn.begin(),
        ):
            yield conn
