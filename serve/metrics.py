"""Prometheus metrics, one registry per app (tests build many apps in one process).

Requests are labelled by the route's path template (`/v1/items/{item_id}`), never the raw path,
so ids and scanners probing random URLs cannot blow up the number of series.
"""

from __future__ import annotations

import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from counterscan.contract import ModelContract

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "counterscan_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "counterscan_http_request_duration_seconds",
            "HTTP request latency by route and status",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "counterscan_inference_batch_size",
            "Images per ONNX Runtime call",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.inference_seconds = Histogram(
            "counterscan_inference_duration_seconds",
            "Duration of one ONNX Runtime call",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.queue_depth = Gauge(
            "counterscan_batch_queue_depth",
            "Images waiting for the micro-batcher",
            registry=r,
        )
        self.review_queue = Gauge(
            "counterscan_review_queue_items",
            "Unreviewed items waiting for an inspector, by priority (read when scraped)",
            ["priority"],
            registry=r,
        )
        self.images = Counter(
            "counterscan_images_scored",
            "Images by outcome: scored, cached (same image and model seen before), error",
            ["outcome"],
            registry=r,
        )
        self.model_info = Gauge(
            "counterscan_model_info",
            "The model being served (value 1; the labels carry the facts)",
            ["model_version", "backbone", "input_size", "contract_version"],
            registry=r,
        )
        self.model_loaded = Gauge(
            "counterscan_model_loaded_timestamp_seconds",
            "When the model being served was loaded",
            registry=r,
        )
        self.reloads = Counter(
            "counterscan_model_reloads", "Model reloads by outcome", ["outcome"], registry=r
        )
        self.similar_verdict = Gauge(
            "counterscan_similar_verdict_applied",
            "Newest verdict id whose effect on similar cases this process (pid) has applied",
            ["pid"],
            registry=r,
        )

    def set_model(self, contract: ModelContract) -> None:
        self.model_info.clear()
        self.model_info.labels(
            contract.model_version,
            contract.backbone,
            str(contract.input_size),
            contract.contract_version,
        ).set(1)
        self.model_loaded.set(time.time())

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Counts every HTTP request and times it, labelled by route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # if the app dies before answering

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = _route_template(scope)
            labels = (scope["method"], route, str(status))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.latency.labels(*labels).observe(time.perf_counter() - start)


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    if scope["path"].startswith("/static/"):
        return "/static"
    return "unmatched"
