"""Prometheus metrics at `/metrics` (kept off the public proxy: deploy/nginx.conf denies it).

Served directly the API protects them itself: with REKAM_METRICS_TOKEN set, a scrape must send
`Authorization: Bearer <token>`; without it, only the loopback address is answered. Anyone else
gets 404, as if there were nothing there.

With several worker processes, set PROMETHEUS_MULTIPROC_DIR to an empty directory shared by the
workers and each scrape adds up every process's figures.
"""

import hmac
import ipaddress
import os

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

from api.config import get_settings
from api.errors import NotFound

REQUESTS = Counter("rekam_http_requests_total", "HTTP requests answered.", ["method", "route", "status"])
LATENCY = Histogram(
    "rekam_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# Requests waiting for their turn (api/admission.py): long waits say the process has more than its
# cores can do (add workers or machines), not that something is slow.
ADMISSION_WAIT = Histogram(
    "rekam_admission_wait_seconds",
    "Time a request waited for its turn before the API began on it.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
IMPORT_ROWS = Counter("rekam_tally_import_rows_total", "Tally rows received in imports, by outcome.", ["outcome"])
TICKETS = Counter("rekam_queue_tickets_total", "Queue ticket events, by kind.", ["event"])

router = APIRouter(include_in_schema=False)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def _allowed(request: Request) -> bool:
    token = get_settings().metrics_token
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.get_secret_value().encode())
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus text exposition, for the loopback address or the holder of REKAM_METRICS_TOKEN."""
    if not _allowed(request):
        raise NotFound(code="nothing_here")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest()
    return Response(body, media_type=CONTENT_TYPE_LATEST)
