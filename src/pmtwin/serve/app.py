"""The dashboard server: ``create_app`` builds the FastAPI application over a store folder, ``serve``
runs it with uvicorn (``pmtwin serve``). Runs execute in worker processes (``manager.py``); the routes
are in ``api.py`` (``/api``) and ``pages.py`` (page, run files, comparisons, metrics)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from starlette.middleware.trustedhost import TrustedHostMiddleware

from pmtwin.serve.api import Server, api_router
from pmtwin.serve.apidocs import api_docs_html
from pmtwin.serve.guard import SameOriginMiddleware, trusted_hosts
from pmtwin.serve.manager import RunManager
from pmtwin.serve.pages import pages_router
from pmtwin.serve.store import Store

DEFAULT_MAX_UPLOAD_BYTES = 64 * 2**20
GRACEFUL_SHUTDOWN_S = 3
"""On Ctrl-C, uvicorn waits this long for open requests (a page's event stream never ends by itself)."""


def create_app(
    store: Path,
    *,
    traces_dir: Path | None = None,
    max_runs: int = 2,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    allowed_hosts: Sequence[str] = (),
) -> FastAPI:
    """The dashboard over the store folder ``store`` (created if missing; runs left by an earlier server
    are listed, those it left unfinished marked failed). Built-in traces are the SWF and Parquet files
    directly in ``traces_dir``; at most ``max_runs`` runs execute at once; uploads are limited to
    ``max_upload_bytes``. Requests must address the server as a local host name or one of
    ``allowed_hosts`` (``guard.py``). Leaving the application (its lifespan) stops the running workers.
    Bad arguments are a ``ValueError``."""
    check_arguments(store, traces_dir, max_runs, max_upload_bytes)
    try:
        files = Store(store, traces_dir)
    except OSError as exc:
        raise ValueError(f"{store}: cannot open the store ({exc.strerror or exc})") from None
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
        docs_url=None,  # Swagger UI and ReDoc load their scripts from a CDN: /docs is drawn here instead
        redoc_url=None,
    )
    app.include_router(api_router(server))
    app.include_router(pages_router(server))

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs() -> HTMLResponse:
        """The REST API's reference page, drawn from the OpenAPI schema (works offline)."""
        return HTMLResponse(api_docs_html(app.openapi()))

    app.add_middleware(SameOriginMiddleware)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=trusted_hosts(allowed_hosts))
    return app


def check_arguments(store: Path, traces_dir: Path | None, max_runs: int, max_upload_bytes: int) -> None:
    """``ValueError`` for arguments ``create_app`` cannot work with."""
    if max_upload_bytes < 1:
        raise ValueError(f"max_upload_bytes must be positive, got {max_upload_bytes}")
    if max_runs < 1:
        raise ValueError(f"max_runs must be at least 1, got {max_runs}")
    if store.exists() and not store.is_dir():
        raise ValueError(f"{store}: the store must be a folder, and this is not one")
    if traces_dir is not None and not traces_dir.is_dir():
        raise ValueError(f"{traces_dir}: the traces folder is missing or not a folder")


def serve(
    host: str,
    port: int,
    store: Path,
    traces_dir: Path | None,
    max_runs: int,
    max_upload_bytes: int,
    allowed_hosts: Sequence[str] = (),
) -> None:
    """Run the dashboard with uvicorn until interrupted, after printing its address. Requests must name
    this machine (localhost), ``host`` or one of ``allowed_hosts`` in their Host header."""
    import uvicorn

    app = create_app(
        store, traces_dir=traces_dir, max_runs=max_runs, max_upload_bytes=max_upload_bytes,
        allowed_hosts=[host, *allowed_hosts],
    )  # fmt: skip
    shown = f"[{host}]" if ":" in host else host
    print(f"pmtwin dashboard at http://{shown}:{port}/ (store {store})", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
