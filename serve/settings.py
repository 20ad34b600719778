"""Service settings: defaults here, overridden by `COUNTERSCAN_*` environment variables and by
`counterscan serve` options.

Bad values fail at start-up with a message naming the setting, never at the first request.
API keys are parsed here (`key:role:name,...`) and their secret part never appears in a repr.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from counterscan.errors import CounterscanError
from counterscan.images import DEFAULT_MAX_PIXELS

ROLES = ("crawler", "inspector", "admin")
MB = 1024 * 1024
DEFAULT_MAX_IMAGE_BYTES = 20 * MB
DEFAULT_MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS  # above any phone camera, far below a bomb


@dataclass(frozen=True)
class ApiKey:
    """One configured key. `secret` is excluded from repr so it never reaches a log line."""

    secret: str = field(repr=False)
    role: str
    name: str


def parse_api_keys(raw: str) -> list[ApiKey]:
    """'key:role:name,key2:role2:name2' -> [ApiKey, ...]; raises ValueError naming the entry
    by position (never by its secret)."""
    keys: list[ApiKey] = []
    for position, entry in enumerate((e.strip() for e in raw.split(",")), start=1):
        if not entry:
            continue
        parts = entry.split(":")
        if len(parts) != 3 or not all(p.strip() for p in parts):
            raise ValueError(f"API key #{position} must look like key:role:name")
        secret, role, name = (p.strip() for p in parts)
        if role not in ROLES:
            raise ValueError(f"API key #{position} has role {role!r}; roles: {', '.join(ROLES)}")
        if len(secret) < 16:
            raise ValueError(f"API key #{position} is shorter than 16 characters")
        keys.append(ApiKey(secret=secret, role=role, name=name))
    secrets = [k.secret for k in keys]
    if len(set(secrets)) != len(secrets):
        raise ValueError("two API keys have the same secret")
    return keys


def default_threads() -> int:
    """ONNX Runtime intra-op threads when not set: the cores this process may use, at most 8
    (beyond that a small CNN gains little and starves the decoding threads)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COUNTERSCAN_", extra="ignore", validate_default=True, frozen=True
    )

    # --- what to serve, where to keep it
    model: Path | None = None  # the ONNX file; None only for tests that build the app by hand
    data_dir: Path = Path("var/store")  # evidence images, thumbnails
    # Thumbnails made when scoring (True) or on first view (False): crawlers store thousands of
    # photos nobody opens, and making one costs ~0.5 ms of CPU per image (bench/README.md)
    eager_thumbnails: bool = False
    db: str = ""  # SQLAlchemy URL; empty = SQLite file inside data_dir

    # --- network
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)
    api_keys: Annotated[list[ApiKey], NoDecode] = Field(default_factory=list, repr=False)

    # --- ONNX Runtime (threads and processes on 2 cores, as measured: bench/README.md, issue 17)
    intra_op_threads: int = Field(default_factory=default_threads, ge=1, le=256)
    inter_op_threads: int = Field(1, ge=1, le=64)
    ort_spinning: bool = False  # let idle ORT threads spin (only on cores of their own)
    # ORT calls at once, the intra-op threads shared out among them. 2 on 2 cores: batch
    # endpoint +7% images/s, single images' p99 +20-30 ms (bench/README.md): so 1
    model_calls: int = Field(1, ge=1, le=64)

    # --- micro-batching: concurrent requests share one ONNX Runtime call
    batching: bool = True
    # Small batches: on 2 cores a larger batch costs more per image, not less, and ONNX Runtime
    # keeps memory for the largest batch it has run (bench/README.md). Measure again on bigger
    # machines: `bench/bench_service.py --set batch_max_size=N`.
    batch_max_size: int = Field(2, ge=1, le=1024)
    batch_max_wait_ms: float = Field(4.0, ge=0.0, le=1000.0)
    decode_threads: int = Field(default_factory=default_threads, ge=1, le=64)
    # Images decoded or being scored at once, all requests together (serve/pipeline/admission.py);
    # more wait before decoding. Three batch requests of 32: one decoding, one in the model,
    # one being stored.
    max_inflight_images: int = Field(96, ge=1, le=100_000)

    # --- limits (413 above them); all enforced before an image is decoded
    max_image_bytes: int = Field(DEFAULT_MAX_IMAGE_BYTES, ge=1024)
    max_image_pixels: int = Field(DEFAULT_MAX_IMAGE_PIXELS, ge=1)
    # 422 below it: a thumbnail-sized picture (icons, tracking pixels, broken crawls) holds no
    # evidence, and upscaled to the model's input its score would only be noise
    min_image_side: int = Field(32, ge=1, le=4096)
    max_batch_images: int = Field(64, ge=1, le=10_000)
    max_body_bytes: int = Field(100 * MB, ge=1024)

    # --- similar cases (counterscan.serve.similar): embedding cosine of a "similar" match
    # (depends on the model: measure with bench/bench_similar.py), and the number of
    # references past which embedding search is approximate (faiss IVF, similar/index.py)
    similar_threshold: float = Field(0.92, gt=0.0, le=1.0)
    similar_ann_from: int = Field(20_000, ge=1)
    # Bound on how stale a process's similar cases may be: every worker and every server on
    # the database applies the verdicts given elsewhere within this many seconds (similar/sync.py)
    similar_sync_seconds: float = Field(1.0, ge=0.05, le=60.0)

    # --- evidence packages (serve/cases/evidence.py): the office's Ed25519 signing key,
    # made by `counterscan evidence keygen PREFIX` (PREFIX.key); without it GET
    # /v1/cases/{id}/evidence answers 503 naming this setting
    evidence_key: Path | None = None
    # --- listings and sellers (counterscan.serve.sellers): a listing's price is a `low_price`
    # signal below this share of the median price of its category's listings confirmed genuine
    # (0.5: half the usual price; real discounts rarely go below it, fakes often do), once the
    # category has at least `low_price_min_samples` such listings (fewer: no typical price)
    low_price_ratio: float = Field(0.5, gt=0.0, le=1.0)
    low_price_min_samples: int = Field(3, ge=1)
    # --- early warnings (sellers/alerts.py documents each rule)
    alert_repeat_count: int = Field(5, ge=1)  # seller_repeat: listings at priority high ...
    alert_repeat_days: int = Field(7, ge=1)  # ... first seen within these days
    alert_new_seller_days: int = Field(7, ge=1)  # linked_seller: a seller this new
    alert_surge_days: int = Field(7, ge=1)  # surge: the baseline's days before today
    alert_surge_sigmas: float = Field(3.0, ge=0.0)  # today > mean + sigmas x sd of them
    alert_surge_min: int = Field(5, ge=1)  # and at least this many high items today
    # where alerts are POSTed (sellers/webhook.py); none: they wait in the outbox
    alert_webhook_url: str | None = None
    alert_webhook_secret: str = Field("", repr=False)  # HMAC-SHA256 key of the signature

    # --- behaviour
    reload_on_sighup: bool = False  # set by `counterscan serve`; tests build apps without it
    log_level: str = "info"

    @field_validator("api_keys", mode="before")
    @classmethod
    def _parse_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_api_keys(value)
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        value = value.lower()
        if value not in ("critical", "error", "warning", "info", "debug"):
            raise ValueError("must be one of critical, error, warning, info, debug")
        return value

    @field_validator("evidence_key")
    @classmethod
    def _check_evidence_key(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{value} is not a file (make one with `counterscan evidence keygen`)")
        return value

    @field_validator("db")
    @classmethod
    def _check_db(cls, value: str) -> str:
        if value and "://" not in value:
            raise ValueError("must be an SQLAlchemy URL such as sqlite:///path.db")
        return value

    @model_validator(mode="after")
    def _check_body_covers_image(self) -> Settings:
        if self.max_body_bytes < self.max_image_bytes:
            raise ValueError("max_body_bytes must be at least max_image_bytes")
        return self

    @property
    def db_url(self) -> str:
        return self.db or f"sqlite:///{self.data_dir / 'counterscan.db'}"

    @property
    def auth_enabled(self) -> bool:
        return bool(self.api_keys)

    @property
    def single_body_bytes(self) -> int:
        """Body limit of POST /v1/score: one image plus room for the form fields."""
        return self.max_image_bytes + 64 * 1024


def load_settings(**overrides: object) -> Settings:
    """Environment + explicit overrides (None values are left to the environment/defaults).

    Raises CounterscanError with one line per bad setting, named as its environment variable.
    """
    values = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**values)
    except ValidationError as e:
        raise CounterscanError(describe_settings_error(e)) from None


def describe_settings_error(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        loc = "_".join(str(p) for p in item["loc"])
        name = f"COUNTERSCAN_{loc.upper()}" if loc else "settings"
        parts.append(f"{name}: {item['msg'].removeprefix('Value error, ')}")
    return "invalid settings: " + "; ".join(parts)
