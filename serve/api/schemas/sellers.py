"""The shapes of listings, sellers, trends and alerts (api/routes/sellers.py, trends.py,
alerts.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from counterscan.serve.api.schemas.items import Priority


class ListingReason(BaseModel):
    signal: Literal["known_counterfeit", "low_price", "contact_details", "disguised_brand"]
    detail: str


class SellerLink(BaseModel):
    source: str
    seller_id: str
    risk: float = Field(ge=0.0, le=1.0, description="the linked seller's risk without links")
    why: list[str] = Field(description='e.g. "same phone 0912345678", "same photo <sha256>"')


class Seller(BaseModel):
    """A seller (source, seller_id) with its risk (sellers/risk.py) and the reasons for it."""

    source: str = Field(description='the platform; "" when the crawler sent none')
    seller_id: str
    name: str | None
    risk: float = Field(ge=0.0, le=1.0)
    reasons: list[str] = Field(description="the evidence behind the risk, strongest first")
    listings: int = Field(ge=0)
    high_listings: int = Field(ge=0, description="listings with a photo at priority high")
    confirmed_counterfeit: int = Field(ge=0, description="photos confirmed counterfeit")
    linked: list[SellerLink]
    first_seen: str
    last_seen: str


class SellerPage(BaseModel):
    sellers: list[Seller]
    total: int = Field(ge=0)
    limit: int
    offset: int


class ListingPhoto(BaseModel):
    """One photo of a listing, enough for the console to show it without a call per photo."""

    id: str = Field(description="the item (GET /v1/items/{id}, its thumbnail)")
    priority: Priority
    verdict: Literal["counterfeit", "genuine", "unsure"] | None = Field(
        description="its current verdict; null when not reviewed"
    )


class Listing(BaseModel):
    source: str
    listing_id: str
    url: str | None
    title: str | None
    price: float | None = Field(description="VND")
    category: str | None
    score: float = Field(ge=0.0, le=1.0, description="the highest score of its photos")
    reasons: list[ListingReason]
    item_ids: list[str] = Field(description="its photos (GET /v1/items/{id})")
    photos: list[ListingPhoto] = Field(description="the same photos, with priority and verdict")
    last_seen: str


class SellerDetail(Seller):
    listing_details: list[Listing] = Field(description="its listings, newest first")


class TrendDay(BaseModel):
    day: str = Field(description="YYYY-MM-DD, UTC")
    scored: int = Field(ge=0, description="items scored that day")
    high: int = Field(ge=0, description="of those, at priority high now")
    counterfeit: int = Field(ge=0, description="verdicts counterfeit given that day")


class Trends(BaseModel):
    """Per day, oldest first, every day of the window (zeros included)."""

    days: int
    overall: list[TrendDay]
    by_source: dict[str, list[TrendDay]] = Field(description='"" for items without a source')
    by_category: dict[str, list[TrendDay]] = Field(
        description="by the category of the listing the photo belongs to"
    )


class Alert(BaseModel):
    """An early warning (sellers/alerts.py documents each rule), raised once."""

    id: str = Field(description="32 lowercase hex digits; receivers dedupe by it")
    kind: Literal["known_counterfeit", "seller_repeat", "linked_seller", "surge"]
    created_at: str
    source: str | None
    seller_id: str | None
    item_ids: list[str]
    detail: dict[str, Any] = Field(description="the rule and its numbers")
    acknowledged: bool
    acknowledged_by: str | None


class AlertPage(BaseModel):
    alerts: list[Alert] = Field(description="newest first")
    total: int = Field(ge=0)
    limit: int
    offset: int
