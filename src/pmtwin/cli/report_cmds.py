"""The ``report``, ``export-metrics`` and ``serve`` commands: looking at runs (docs/reports.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pmtwin.cli._guard import guard as _guard

DEFAULT_STEP_S = 60.0


def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (simulate, replay).")],
    compare: Annotated[
        list[Path] | None,
        typer.Option(help="Compare with this run directory (repeat for several); RUN_DIR is the baseline."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Comparison page to write (default: RUN_DIR/compare.html)."),
    ] = None,
    no_png: Annotated[bool, typer.Option("--no-png", help="Write report.html only, no PNGs.")] = False,
) -> None:
    """Render a run's report.html and PNG charts, or a side-by-side comparison of runs (deltas coloured)."""
    import time

    from pmtwin.report import write_comparison, write_report

    began = time.perf_counter()
    if compare:
        if no_png:
            _guard(lambda: _refuse("--no-png applies to a single run's report; a comparison has no PNGs"))
        target = out if out is not None else run_dir / "compare.html"
        path = _guard(lambda: write_comparison([run_dir, *compare], target))
    else:
        if out is not None:
            _guard(lambda: _refuse("--out names a comparison page; a run's report is RUN_DIR/report.html"))
        path = _guard(lambda: write_report(run_dir, pngs=not no_png))
    size_mb = path.stat().st_size / 2**20
    typer.echo(f"wrote {path} ({size_mb:.1f} MB) in {time.perf_counter() - began:.2f} s")


def export_metrics(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (simulate, replay).")],
    out: Annotated[
        Path | None, typer.Option(help="OpenMetrics file to write (default: RUN_DIR/metrics.om).")
    ] = None,
    step: Annotated[
        float, typer.Option(help="Seconds between samples: each is the mean level over its step.")
    ] = DEFAULT_STEP_S,
    origin: Annotated[
        str,
        typer.Option(
            help="Wall-clock time of simulated second 0: Unix seconds or an ISO 8601 date/time (UTC if no "
            "zone given)."
        ),
    ] = "0",
) -> None:
    """Write the run's level series (utilization, queue, running jobs, power, energy) as timestamped
    OpenMetrics text, loadable with `promtool tsdb create-blocks-from openmetrics`."""
    from pmtwin.results.openmetrics import write_run_metrics

    origin_s = _guard(lambda: parse_origin(origin))
    target = out if out is not None else run_dir / "metrics.om"
    samples = _guard(lambda: write_run_metrics(run_dir, target, step_s=step, origin_unix_s=origin_s))
    typer.echo(f"wrote {samples:,} samples to {target}")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (default: this machine only).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8080,
    store: Annotated[Path, typer.Option(help="Folder of the server's runs and uploads.")] = Path(
        "runs/serve"
    ),
    traces: Annotated[
        Path | None,
        typer.Option(help="Folder of built-in traces offered in the page (*.swf[.gz], *.parquet)."),
    ] = None,
    max_runs: Annotated[int, typer.Option(help="Runs executing at once; the rest wait.", min=1)] = 2,
    max_upload_mb: Annotated[float, typer.Option(help="Largest trace upload (MiB).")] = 64.0,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            help="Another host name requests may use to reach the server (repeat; with --host 0.0.0.0, "
            "the names or addresses other machines use). Requests naming any other host are refused."
        ),
    ] = None,
) -> None:
    """Start the web dashboard: pick a machine, workload, policy and what-if knobs, start runs, watch them
    live, browse and compare reports (REST API at /docs, metrics at /metrics)."""
    upload_bytes = int(max_upload_mb * 2**20) if max_upload_mb > 0 else 0
    if upload_bytes < 1:
        _guard(lambda: _refuse(f"--max-upload-mb must be positive, got {max_upload_mb:g}"))
    from pmtwin.serve.app import serve as run_server

    _guard(lambda: run_server(host, port, store, traces, max_runs, upload_bytes, allowed_host or ()))


def parse_origin(text: str) -> float:
    """Unix seconds from a number or an ISO 8601 date/time (naive times are UTC)."""
    from datetime import UTC, datetime

    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--origin {text!r}: give Unix seconds or an ISO 8601 time such as 2024-01-01T00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _refuse(message: str) -> None:
    raise ValueError(message)
