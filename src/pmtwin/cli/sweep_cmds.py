"""The ``sweep`` command: many scenarios at once, on local processes or Dask (docs/sweeps.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pmtwin.cli._guard import guard as _guard

if TYPE_CHECKING:
    from pmtwin.sweep.executors import ExecutorSpec
    from pmtwin.sweep.runner import SweepOutcome

INTERRUPTED_EXIT = 130


def sweep(
    sweep_file: Annotated[
        Path, typer.Argument(help="A sweep file: base scenario, axes, seeds (docs/sweeps.md).")
    ],
    out: Annotated[
        Path | None, typer.Option(help="Sweep folder (default runs/sweep-NAME); rerun to resume.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Local worker processes (default: one per core).", min=1)
    ] = None,
    serial: Annotated[
        bool, typer.Option("--serial", help="Run the points one by one in this process.")
    ] = False,
    dask_local: Annotated[
        int | None, typer.Option("--dask-local", help="A Dask LocalCluster of N worker processes.", min=1)
    ] = None,
    dask: Annotated[
        str | None, typer.Option("--dask", help="An existing Dask scheduler (tcp://host:8786).")
    ] = None,
    slurm: Annotated[
        bool, typer.Option("--slurm", help="Dask workers in Slurm jobs (dask-jobqueue), as on Perlmutter.")
    ] = False,
    slurm_jobs: Annotated[int, typer.Option(help="--slurm: jobs to start.", min=1)] = 1,
    slurm_account: Annotated[str | None, typer.Option(help="--slurm: account (-A).")] = None,
    slurm_qos: Annotated[str, typer.Option(help="--slurm: QOS (-q).")] = "regular",
    slurm_constraint: Annotated[str, typer.Option(help="--slurm: constraint (-C): cpu or gpu.")] = "cpu",
    slurm_walltime: Annotated[str, typer.Option(help="--slurm: time limit per job, HH:MM:SS.")] = "01:00:00",
    slurm_cores: Annotated[
        int, typer.Option(help="--slurm: cores per job (Perlmutter CPU node: 128).", min=1)
    ] = 128,
    slurm_memory: Annotated[
        str, typer.Option(help="--slurm: memory per job (CPU node: 480GB; GPU node: 230GB).")
    ] = "480GB",
    slurm_processes: Annotated[
        int, typer.Option(help="--slurm: Dask worker processes per job (one point each).", min=1)
    ] = 128,
    slurm_interface: Annotated[
        str | None, typer.Option(help="--slurm: the workers' network interface (Perlmutter: hsn0).")
    ] = None,
    max_retries: Annotated[
        int, typer.Option(help="Times a point is submitted again after its worker was lost.", min=0)
    ] = 3,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip the sweep report.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the points and stop.")] = False,
) -> None:
    """Run a sweep: every point (scenario x seed) once, on local processes by default or on Dask; rows
    go to OUT/results.parquet, runs to OUT/points/, plots to OUT/report/. Rerunning skips finished points;
    Ctrl-C leaves a consistent table."""
    from pmtwin.sweep.plan import expand, load_sweep

    spec = _guard(lambda: load_sweep(sweep_file))
    points = _guard(lambda: expand(spec, str(sweep_file)))
    folder = out if out is not None else Path("runs") / f"sweep-{spec.name}"
    if dry_run:
        for point in points:
            shown = ", ".join(f"{k}={v}" for k, v in point.values.items())
            typer.echo(f"{point.index:5d} {point.point_id} seed={point.seed} {shown}")
        typer.echo(f"{len(points):,} points")
        return
    slurm_options = {
        "jobs": slurm_jobs, "account": slurm_account, "qos": slurm_qos, "constraint": slurm_constraint,
        "walltime": slurm_walltime, "cores": slurm_cores, "memory": slurm_memory,
        "processes": slurm_processes, "interface": slurm_interface,
    }  # fmt: skip
    _guard(lambda: _check_choices(serial, workers, dask_local, dask, slurm, slurm_options))
    _guard(lambda: _prepare(folder))
    executor_spec = _guard(lambda: _executor_spec(workers, dask_local, dask, slurm, slurm_options))
    outcome = _guard(lambda: _run(points, folder, None if serial else executor_spec, max_retries))
    _summary(outcome, folder)
    results = outcome.table
    if not no_report and not outcome.interrupted and results is not None:
        from pmtwin.sweep.report import write_sweep_report
        from pmtwin.sweep.table import read_results

        table = _guard(lambda: read_results(results))
        facts = (("sweep", str(sweep_file)), ("points", f"{len(points):,}"))
        page = _guard(
            lambda: write_sweep_report(
                table, spec.axis_fields(), spec.report_metrics, folder / "report",
                title=f"pmtwin sweep {spec.name}", facts=facts,
            )
        )  # fmt: skip
        typer.echo(f"report: {page}")
    if outcome.interrupted:
        raise typer.Exit(INTERRUPTED_EXIT)
    if outcome.failed:
        raise typer.Exit(1)


def _check_choices(
    serial: bool,
    workers: int | None,
    dask_local: int | None,
    address: str | None,
    slurm: bool,
    slurm_options: dict[str, Any],
) -> None:
    """One executor at most, and no option that the chosen one would ignore."""
    if sum([serial, dask_local is not None, address is not None, slurm]) > 1:
        raise ValueError("choose one of --serial, --dask-local, --dask, --slurm")
    if workers is not None and (serial or dask_local is not None or address is not None or slurm):
        raise ValueError("--workers sets the local processes; with Dask or --serial it does not apply")
    from pmtwin.sweep.executors import SlurmOptions

    defaults = SlurmOptions()
    changed = [name for name, value in slurm_options.items() if value != getattr(defaults, name)]
    if changed and not slurm:
        raise ValueError(f"--slurm-{changed[0].replace('_', '-')} applies with --slurm")


def _prepare(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--out {folder}: exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)


def _run(points: list[Any], folder: Path, spec: ExecutorSpec | None, max_retries: int) -> SweepOutcome:
    """Run on ``spec``'s executor, or in this process when it is None (--serial)."""
    from pmtwin.sweep.runner import InlineExecutor, run_sweep

    with _Progress() as progress:
        if spec is None:
            return run_sweep(
                points, folder, InlineExecutor(), max_retries=max_retries, on_row=progress.on_row,
                on_start=progress.on_start,
            )  # fmt: skip
        from pmtwin.sweep.executors import open_executor

        with open_executor(spec) as handle:
            typer.echo(f"executor: {handle.description}", err=True)
            return run_sweep(
                points, folder, handle.executor, rebuild=handle.rebuild, workers=handle.workers,
                max_retries=max_retries, on_row=progress.on_row, on_start=progress.on_start,
            )  # fmt: skip


def _executor_spec(
    workers: int | None,
    dask_local: int | None,
    address: str | None,
    slurm: bool,
    slurm_options: dict[str, Any],
) -> ExecutorSpec:
    from pmtwin.sweep.executors import ExecutorSpec, SlurmOptions

    if dask_local is not None:
        return ExecutorSpec(kind="dask-local", workers=dask_local)
    if address is not None:
        return ExecutorSpec(kind="dask", address=address)
    if slurm:
        return ExecutorSpec(kind="slurm", slurm=SlurmOptions(**slurm_options))
    return ExecutorSpec(kind="local", workers=workers)


class _Progress:
    """A progress bar over points on a terminal (nothing otherwise), from the points already finished."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> _Progress:
        if sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            self.bar = Progress("sweep", *columns, transient=True)
        return self

    def on_start(self, finished: int, total: int) -> None:
        if self.bar is not None:
            self.task = self.bar.add_task("sweep", total=total, completed=finished)
            self.bar.start()

    def on_row(self, row: dict[str, Any], finished: int, total: int) -> None:
        if self.task is not None:
            self.bar.update(self.task, completed=finished)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _summary(outcome: SweepOutcome, folder: Path) -> None:
    rate = outcome.ran / outcome.wall_s if outcome.wall_s > 0 else 0.0
    typer.echo(
        f"{outcome.points:,} points: {outcome.skipped:,} already done, "
        + (f"{outcome.duplicates:,} repeating another, " if outcome.duplicates else "")
        + f"{outcome.ran:,} run "
        f"({outcome.failed:,} failed, {outcome.resubmitted:,} resubmitted after a lost worker) "
        f"in {outcome.wall_s:.1f} s ({rate:.2f} points/s); table {outcome.table}"
    )
    if outcome.failed:
        typer.echo(f"note: {outcome.failed} points failed: their rows say why (status, error)", err=True)
    if outcome.interrupted:
        done = outcome.skipped + outcome.ran
        typer.echo(
            f"interrupted: {done:,} of {outcome.points:,} points finished; run the same command again to "
            f"resume ({folder})",
            err=True,
        )
