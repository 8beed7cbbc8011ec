"""create_app(): routers, middleware, error handlers and the frontend's files."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy import text

import api
from api import flows
from api.admission import Admission
from api.areas.router import router as areas_router
from api.audit.router import router as audit_router
from api.auth.dependencies import get_principal
from api.auth.router import router as auth_router
from api.bodylimit import BodySizeLimitMiddleware
from api.caching import BodyCache
from api.campaigns.router import router as campaigns_router
from api.complaints.router import router as complaints_router
from api.compression import Compression
from api.config import API_PREFIX, Settings, get_settings
from api.contract import install_contract, operation_id, reject_unknown_query
from api.db import SessionDep, get_sessionmaker
from api.deprecation import DOCS_LINK
from api.devices.router import router as devices_router
from api.errors import NotFound, ServiceUnavailable, document_problems, install_error_handlers, problem_responses
from api.fastpath import PublicReadCache
from api.idempotency import CreatingRoute
from api.logging import configure_logging
from api.metrics import router as metrics_router
from api.middleware import RequestContextMiddleware
from api.notifications import worker as notifications_worker
from api.notifications.router import push_router as notifications_router
from api.notifications.router import router as webhooks_router
from api.queues import live
from api.queues import service as queues_service
from api.queues.router import router as queues_router
from api.services.router import router as services_router
from api.static import FrontendFiles, FrontendFirst
from api.tallies.router import router as tallies_router
from api.visits.router import router as visits_router

# The API's contract as written (docs/api.md), shipped with the code (the image copies the tree).
CONTRACT_DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "api.md"


class Health(BaseModel):
    status: str
    database: str
    revision: str | None
    version: str


health_router = APIRouter(tags=["health"], route_class=CreatingRoute)


@health_router.get("/health", response_model=Health, responses=problem_responses(503))
async def health(session: SessionDep) -> Health:
    """Whether the database answers, its schema revision, and the version of Rekam."""
    try:
        revision = await session.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception:
        raise ServiceUnavailable(code="database.unready") from None
    return Health(status="ok", database=session.get_bind().dialect.name, revision=revision, version=api.__version__)


# Busiest first: FastAPI tries a request's path against each route in turn (about 10 µs each,
# 120 routes), and a counter's moves, boards, progress and posted tallies are most of the
# traffic. No path of one router is another's (tests/test_main.py), so the order is free.
ROUTERS = (
    queues_router,
    campaigns_router,
    tallies_router,
    services_router,
    health_router,
    areas_router,
    auth_router,
    audit_router,
    visits_router,
    devices_router,
    complaints_router,
    webhooks_router,
    notifications_router,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Several API processes on PostgreSQL: each listens for the others' queue changes.
        listener = live.start_listener(settings.database_url, queues_service.messages_from_notice)
        # The notifications worker runs in every API process unless REKAM_NOTIFICATIONS_WORKER=false
        # (then `rekam worker` runs apart); several processes share the outbox without double sends.
        # It also runs the periodic jobs (appointment reminders): no cron is needed.
        worker = notifications_worker.start_in_process(get_sessionmaker(), settings, jobs=flows.worker_jobs(settings))
        # What start-up built (modules, routes, table metadata: most of the process's objects)
        # lives as long as the process: frozen, full garbage collections no longer walk it. With
        # 5,000 board streams open, a full collection over everything stalled every stream for
        # seconds (issue #22: SSE p99 3-4 s with the collector on, 0.5 s with it off).
        gc.freeze()
        # A full collection at most every 100 collections of the middle generation (10 by default):
        # the streams' own objects are long-lived too.
        gc.set_threshold(700, 100, 100)
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            if listener is not None:
                await listener.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="Rekam",
        version=api.__version__,
        summary="Runs a city's e-KTP recording campaign.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    # Serialized public answers per data version (api/caching.py): one cache per process.
    app.state.read_cache = BodyCache()
    install_error_handlers(app)
    document_problems(app)
    install_contract(app)
    # Every API route: credentials that are sent are checked (401 when invalid, public endpoints
    # included) and a query parameter the route does not declare is a 422.
    contract = [Depends(reject_unknown_query), Depends(get_principal)]
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX, dependencies=contract)
    app.include_router(metrics_router)

    @app.get(DOCS_LINK.split("#")[0], include_in_schema=False)
    async def contract_document() -> FileResponse:
        # The `Link` of a `Deprecation` header points here: the API's contract as written.
        if not CONTRACT_DOCUMENT.is_file():
            raise NotFound(code="not_found")
        return FileResponse(CONTRACT_DOCUMENT, media_type="text/markdown; charset=utf-8")

    # Innermost: what reaches the routes waits its turn (api/admission.py); the frontend's files
    # and the kept public answers (outside it) never wait.
    app.add_middleware(Admission, limit=settings.requests_at_once)
    frontend = Path(settings.frontend_dir)
    if settings.serve_frontend and frontend.is_dir():
        files = FrontendFiles(frontend)
        app.mount("/", files, name="frontend")
        # The frontend's paths skip the API's routes (and the read cache) altogether.
        others = ("/metrics", app.docs_url or "", (app.docs_url or "") + "/oauth2-redirect", app.redoc_url or "")
        app.add_middleware(FrontendFirst, files=files, api_prefix=API_PREFIX, others=others)
    # Public answers kept for a moment per process (api/fastpath.py), inside CORS and the request context.
    app.add_middleware(PublicReadCache, seconds=settings.public_read_cache_seconds)
    app.add_middleware(Compression)  # answers of 1 KB or more gzipped (api/compression.py)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "Idempotency-Key", "X-Request-ID", "If-None-Match"],
            expose_headers=[
                "X-Request-ID",
                "Retry-After",
                "ETag",
                "Location",
                "Idempotent-Replayed",
                "RateLimit",
                "RateLimit-Policy",
                "Deprecation",
                "Sunset",
                "Link",
            ],
        )
    app.add_middleware(BodySizeLimitMiddleware)  # inside RequestContextMiddleware: a 413 gets its headers
    app.add_middleware(RequestContextMiddleware)
    return app
