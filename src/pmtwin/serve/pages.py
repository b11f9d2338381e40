"""What the dashboard serves besides its JSON API: the page and its static files, the files of finished
runs, comparisons of runs and the OpenMetrics scrape."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, Response

from pmtwin.serve.api import Server, known_run
from pmtwin.serve.requests import RunInfo

if TYPE_CHECKING:
    from pmtwin.results.openmetrics import Family

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$")
PLOTLY_JS = "plotly.min.js"
OPENMETRICS_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
MAX_COMPARED = 20


def static_file(name: str) -> Path | None:
    """A file of the static folder by its plain name (no folders), or None; plotly.js comes from the
    installed ``plotly`` package (the page works offline)."""
    if name == PLOTLY_JS:
        from pmtwin.report.html import plotly_js_path

        try:
            return plotly_js_path()
        except ValueError:
            return None
    if not STATIC_NAME.match(name):
        return None
    path = (STATIC_DIR / name).resolve()
    return path if path.parent == STATIC_DIR and path.is_file() else None


def pages_router(server: Server) -> APIRouter:
    """The routes outside ``/api`` over ``server``."""
    router = APIRouter()
    rendering = threading.Semaphore(1)  # one comparison at a time: each loads every run it compares

    @router.get("/", response_class=FileResponse)
    def index() -> FileResponse:
        """The dashboard page."""
        page = static_file("index.html")
        if page is None:
            raise HTTPException(404, "the dashboard page is not installed")
        return FileResponse(page)

    @router.get("/static/{name}", response_class=FileResponse)
    def static(name: str) -> FileResponse:
        """The page's scripts and styles, and plotly.js."""
        path = static_file(name)
        if path is None:
            raise HTTPException(404, f"no static file {name!r}")
        return FileResponse(path)

    @router.get("/runs/{run_id}/{name}", response_class=FileResponse)
    def run_file(run_id: str, name: str) -> FileResponse:
        """A finished run's ``report.html``, ``summary.json`` or ``<chart>.png`` (no other names)."""
        known_run(server, run_id)
        path = server.store.run_file(run_id, name)
        if path is None:
            raise HTTPException(404, f"{run_id} has no file {name!r}")
        return FileResponse(path)

    @router.get("/compare", response_class=HTMLResponse)
    async def compare(ids: str = Query(max_length=2000)) -> HTMLResponse:
        """A comparison report of finished runs (``ids`` comma-separated, the first is the baseline)."""
        run_ids = [part.strip() for part in ids.split(",") if part.strip()]
        if not 2 <= len(run_ids) <= MAX_COMPARED:
            raise HTTPException(400, f"give 2 to {MAX_COMPARED} run ids, comma-separated")
        infos = [known_run(server, run_id) for run_id in run_ids]
        for info in infos:
            if info.state != "done":
                raise HTTPException(409, f"{info.id} is {info.state}: only finished runs can be compared")
        try:
            page = await run_in_threadpool(render_comparison, server, infos, rendering)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        return HTMLResponse(page)

    @router.get("/metrics", response_class=Response)
    def metrics() -> Response:
        """OpenMetrics text: runs by state, and each running run's progress and latest pool levels."""
        from pmtwin.results.openmetrics import render

        return Response("".join(render(live_metrics(server))), media_type=OPENMETRICS_TYPE)

    return router


def render_comparison(server: Server, infos: list[RunInfo], rendering: threading.Semaphore) -> str:
    """The comparison page of finished runs (the first is the baseline), each named by its id and label.
    Rendered under ``rendering`` into a file of its own, read back and deleted: nothing is cached, since
    a run id may come to name another run when the store is cleared."""
    from pmtwin.report import write_comparison

    dirs = [server.store.run_dir(info.id) for info in infos]
    names = [f"{info.id} ({info.label})" if info.label else info.id for info in infos]
    out = server.store.compare_dir / f"compare-{os.urandom(8).hex()}.html"
    with rendering:
        try:
            write_comparison(dirs, out, names=names)
            return out.read_text(encoding="utf-8")
        finally:
            out.unlink(missing_ok=True)


def live_metrics(server: Server) -> list[Family]:
    """The families of a scrape: run counts over every run, the rest over running runs only."""
    from pmtwin.results.openmetrics import LiveRun, live_families

    runs: list[LiveRun] = []
    running: list[LiveRun] = []
    for info, point in server.manager.live():
        pools: dict[str, tuple[float, int, int]] = {}
        if point is not None and info.state == "running":
            pools = {
                pool: (float(level["utilization"]), int(level["queued_jobs"]), int(level["running_jobs"]))
                for pool, level in point["levels"].items()
            }
        time_s = float(point["time_s"]) if point is not None else None
        live = LiveRun(info.id, info.state, info.progress, time_s, pools)
        runs.append(live)
        if info.state == "running":
            running.append(live)
    counts = [family for family in live_families(runs) if family.name == "pmtwin_runs"]
    return counts + [family for family in live_families(running) if family.name != "pmtwin_runs"]
