"""The dashboard server: ``create_app`` builds the FastAPI application over a store folder, ``serve``
runs it with uvicorn (``pmtwin serve``). Runs execute in worker processes (``manager.py``); the routes
are in ``api.py`` (``/api``) and ``pages.py`` (page, run files, comparisons, metrics)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from pmtwin.serve.api import Server, api_router
from pmtwin.serve.manager import RunManager
from pmtwin.serve.pages import pages_router
from pmtwin.serve.store import Store

DEFAULT_MAX_UPLOAD_BYTES = 64 * 2**20


def create_app(
    store: Path,
    *,
    traces_dir: Path | None = None,
    max_runs: int = 2,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
) -> FastAPI:
    """The dashboard over the store folder ``store`` (created if missing; runs left by an earlier server
    are listed, those it left unfinished marked failed). Built-in traces are the SWF and Parquet files
    directly in ``traces_dir``; at most ``max_runs`` runs execute at once; uploads are limited to
    ``max_upload_bytes``. Leaving the application (its lifespan) stops the running workers."""
    if max_upload_bytes < 1:
        raise ValueError(f"max_upload_bytes must be positive, got {max_upload_bytes}")
    files = Store(store, traces_dir)
    server = Server(files, RunManager(files, max_runs), max_upload_bytes)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            server.manager.shutdown()

    app = FastAPI(
        title="pmtwin dashboard",
        summary="Run Perlmutter simulations and trace replays, watch them live, compare their reports.",
        lifespan=lifespan,
    )
    app.include_router(api_router(server))
    app.include_router(pages_router(server))
    return app


def serve(
    host: str, port: int, store: Path, traces_dir: Path | None, max_runs: int, max_upload_bytes: int
) -> None:
    """Run the dashboard with uvicorn until interrupted, after printing its address."""
    import uvicorn

    app = create_app(store, traces_dir=traces_dir, max_runs=max_runs, max_upload_bytes=max_upload_bytes)
    shown = f"[{host}]" if ":" in host else host
    print(f"pmtwin dashboard at http://{shown}:{port}/ (store {store})", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="info")
