"""The JSON API under ``/api``: options, traces and uploads, runs (submit, list, cancel) and their live
progress (server-sent events, or the points so far)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse

from pmtwin.runs import MAX_DAYS
from pmtwin.serve.manager import RunFinishedError, RunManager
from pmtwin.serve.requests import MODELS, POLICIES, PRIORITIES, RunInfo, RunRequest, TraceInfo
from pmtwin.serve.sse import run_events
from pmtwin.serve.store import RUN_ID, Store
from pmtwin.serve.uploads import UploadTooLarge, parse_upload, receive, upload_name


@dataclass(frozen=True)
class Server:
    """What the routes share: the store, the run manager and the limits."""

    store: Store
    manager: RunManager
    max_upload_bytes: int


def known_run(server: Server, run_id: str) -> RunInfo:
    """The run of an id from a URL; 404 for anything that is not a run of this server."""
    if not RUN_ID.match(run_id):
        raise HTTPException(404, f"no run {run_id!r}")
    try:
        return server.manager.get(run_id)
    except KeyError:
        raise HTTPException(404, f"no run {run_id!r}") from None


def api_router(server: Server) -> APIRouter:
    """The ``/api`` routes over ``server``."""
    router = APIRouter(prefix="/api")

    @router.get("/options")
    def options() -> dict[str, Any]:
        """What a run request may choose, and the server's limits."""
        from pmtwin.machine import list_systems

        limits = {
            "max_upload_bytes": server.max_upload_bytes,
            "max_runs": server.manager.max_runs,
            "max_days": MAX_DAYS,
        }
        return {
            "machines": list_systems(), "models": list(MODELS), "policies": list(POLICIES),
            "priorities": list(PRIORITIES), "limits": limits,
        }  # fmt: skip

    @router.get("/traces")
    def traces() -> list[dict[str, Any]]:
        """Built-in traces (the traces folder) and uploaded ones."""
        return [info.listed() for info in server.store.traces()]

    @router.post("/uploads", status_code=201)
    async def upload(request: Request, name: str = Query(max_length=1000)) -> TraceInfo:
        """A trace file as the raw request body: stored if it parses (400 with the parser's message if
        not, 413 past the size limit)."""
        try:
            shown, suffix = upload_name(name)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > server.max_upload_bytes:
            raise HTTPException(413, f"upload larger than the limit of {server.max_upload_bytes} bytes")
        incoming = server.store.incoming_path(suffix)
        try:
            await receive(request.stream(), incoming, server.max_upload_bytes)
        except UploadTooLarge as exc:
            raise HTTPException(413, str(exc)) from None
        try:
            return await run_in_threadpool(
                parse_upload, server.store, incoming, shown, suffix, server.max_upload_bytes
            )
        except UploadTooLarge as exc:
            raise HTTPException(413, str(exc)) from None
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None

    @router.post("/runs", status_code=202)
    def submit(run: RunRequest) -> RunInfo:
        """Queue a run; it starts when a slot is free."""
        trace = None
        if run.workload.kind == "trace":
            trace = server.store.trace_file(run.workload.trace_id)
            if trace is None:
                where = ("body", "workload", "trace_id")
                message = f"unknown trace {run.workload.trace_id!r} (see GET /api/traces)"
                raise RequestValidationError([{"loc": where, "msg": message, "type": "value_error"}])
        return server.manager.submit(run, trace)

    @router.get("/runs")
    def runs() -> list[RunInfo]:
        """Every run, newest first."""
        return server.manager.runs()

    @router.get("/runs/{run_id}")
    def run(run_id: str) -> RunInfo:
        """One run's state."""
        return known_run(server, run_id)

    @router.post("/runs/{run_id}/cancel")
    def cancel(run_id: str) -> RunInfo:
        """Drop a queued run or kill a running one (409 for a finished run)."""
        known_run(server, run_id)
        try:
            return server.manager.cancel(run_id)
        except RunFinishedError as exc:
            raise HTTPException(409, str(exc)) from None

    @router.get("/runs/{run_id}/events", response_class=StreamingResponse)
    def events(run_id: str) -> StreamingResponse:
        """Server-sent events: on connect the ``progress`` points so far, then the ``state``; then new
        points and each change of state; the stream ends after a terminal state."""
        known_run(server, run_id)
        return StreamingResponse(
            run_events(server.manager, run_id),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @router.get("/runs/{run_id}/live")
    def live(run_id: str) -> JSONResponse:
        """The progress points so far."""
        known_run(server, run_id)
        _, points = server.manager.watch(run_id, 0)
        return JSONResponse({"points": points})

    return router
