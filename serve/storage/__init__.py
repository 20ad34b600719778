"""Storage of scored images, verdicts and evidence files (SQLite or PostgreSQL + a folder).

from counterscan.serve.storage import Store, ItemRecord
"""

from counterscan.serve.storage.db import StorageUnavailable
from counterscan.serve.storage.evidence import EvidenceUnwritable
from counterscan.serve.storage.fields import is_item_id, new_item_id
from counterscan.serve.storage.records import ItemRecord, NewImage, SightingRecord, VerdictRecord
from counterscan.serve.storage.store import ItemNotFound, Store

__all__ = [
    "EvidenceUnwritable",
    "ItemNotFound",
    "ItemRecord",
    "NewImage",
    "SightingRecord",
    "StorageUnavailable",
    "Store",
    "VerdictRecord",
    "is_item_id",
    "new_item_id",
]
