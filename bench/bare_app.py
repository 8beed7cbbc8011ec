"""The yardstick of bench/bench_http.py: a bare FastAPI app with one async route returning the same
JSON as Rekam's GET /api/v1/health (no middleware, no database). Run by uvicorn[standard] with one
worker, as Rekam is: `uvicorn bare_app:app --app-dir bench`."""

import os

from fastapi import FastAPI

app = FastAPI()
HEALTH = {"status": "ok", "database": "sqlite", "revision": os.environ.get("BARE_REVISION", "head"), "version": os.environ.get("BARE_VERSION", "0")}


@app.get("/api/v1/health")
async def health() -> dict[str, str | None]:
    return HEALTH
