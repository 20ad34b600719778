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

from counterscan.serve.api.schemas.items import (
    Priority,
    ErrorBody,
    ScoreResult,
    BatchError,
    BatchItemOk,
    BatchItemFailed,
    BatchResult,
    Verdict,
    Sighting,
    Item,
    ItemDetail,
    QueuePage,
    SimilarMatch,
    SimilarCases,
    Thresholds,
    ModelInfo,
    Health,
    Ready,
    NotReady,
    VerdictIn,
    ReloadRequest,
    TEXT_FIELDS,
    NUMBER_FIELDS,
    BATCH_REQUEST,
    IMAGE_TYPES,
    binary,
)
from counterscan.serve.api.schemas.sellers import (
    ListingReason,
    SellerLink,
    Seller,
    SellerPage,
    Listing,
    SellerDetail,
    TrendDay,
    Trends,
    Alert,
    AlertPage,
)
from counterscan.serve.api.schemas.cases import (
    CaseStatus,
    ViolationKind,
    CaseEvent,
    Case,
    CaseSeller,
    CaseDetail,
    CasePage,
    ReportRow,
    ReportSummary,
)

__all__ = [
    "Priority",
    "ErrorBody",
    "ScoreResult",
    "BatchError",
    "BatchItemOk",
    "BatchItemFailed",
    "BatchResult",
    "Verdict",
    "Sighting",
    "Item",
    "ItemDetail",
    "QueuePage",
    "SimilarMatch",
    "SimilarCases",
    "Thresholds",
    "ModelInfo",
    "Health",
    "Ready",
    "NotReady",
    "VerdictIn",
    "ReloadRequest",
    "TEXT_FIELDS",
    "NUMBER_FIELDS",
    "BATCH_REQUEST",
    "IMAGE_TYPES",
    "binary",
    "ListingReason",
    "SellerLink",
    "Seller",
    "SellerPage",
    "Listing",
    "SellerDetail",
    "TrendDay",
    "Trends",
    "Alert",
    "AlertPage",
    "CaseStatus",
    "ViolationKind",
    "CaseEvent",
    "Case",
    "CaseSeller",
    "CaseDetail",
    "CasePage",
    "ReportRow",
    "ReportSummary",
]
