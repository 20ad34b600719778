"""Every shape of the HTTP API, in one package: the request bodies, and the answers that routes
declare as `response_model=` (FastAPI builds the OpenAPI document from these).

FastAPI checks each JSON answer against its model and sends the fields listed here, so a new
field in an answer is added here first or it never leaves the server. Field order is the order
the answers have always had; a model's docstring is its description in the document. Every
error is `ErrorBody`; the statuses a route documents are on its decorator (`api.errors`).

items.py    scoring, items, similar cases, the model, operations; request bodies; binary answers
sellers.py  listings, sellers, trends and alerts
cases.py    the case register and the office's report
"""

from counterscan.serve.api.schemas.cases import (
    Case,
    CaseDetail,
    CaseEvent,
    CasePage,
    CaseSeller,
    CaseStatus,
    ReportRow,
    ReportSummary,
    ViolationKind,
)
from counterscan.serve.api.schemas.items import (
    BATCH_REQUEST,
    IMAGE_TYPES,
    NUMBER_FIELDS,
    TEXT_FIELDS,
    BatchError,
    BatchItemFailed,
    BatchItemOk,
    BatchResult,
    ErrorBody,
    Health,
    Item,
    ItemDetail,
    ModelInfo,
    NotReady,
    Priority,
    QueuePage,
    Ready,
    ReloadRequest,
    ScoreResult,
    Sighting,
    SimilarCases,
    SimilarMatch,
    Thresholds,
    Verdict,
    VerdictIn,
    binary,
)
from counterscan.serve.api.schemas.sellers import (
    Alert,
    AlertPage,
    Listing,
    ListingPhoto,
    ListingReason,
    Seller,
    SellerDetail,
    SellerLink,
    SellerPage,
    TrendDay,
    Trends,
)

__all__ = [
    "BATCH_REQUEST",
    "IMAGE_TYPES",
    "NUMBER_FIELDS",
    "TEXT_FIELDS",
    "Alert",
    "AlertPage",
    "BatchError",
    "BatchItemFailed",
    "BatchItemOk",
    "BatchResult",
    "Case",
    "CaseDetail",
    "CaseEvent",
    "CasePage",
    "CaseSeller",
    "CaseStatus",
    "ErrorBody",
    "Health",
    "Item",
    "ItemDetail",
    "Listing",
    "ListingPhoto",
    "ListingReason",
    "ModelInfo",
    "NotReady",
    "Priority",
    "QueuePage",
    "Ready",
    "ReloadRequest",
    "ReportRow",
    "ReportSummary",
    "ScoreResult",
    "Seller",
    "SellerDetail",
    "SellerLink",
    "SellerPage",
    "Sighting",
    "SimilarCases",
    "SimilarMatch",
    "Thresholds",
    "TrendDay",
    "Trends",
    "Verdict",
    "VerdictIn",
    "ViolationKind",
    "binary",
]
