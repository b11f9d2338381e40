"""The ``pmtwin`` command: a thin layer over ``pmtwin.runs`` and ``pmtwin.machine``.

User mistakes (a bad trace line, an unknown machine or policy, a bad option) end with a one-line
``error:`` message and exit status 2, never a traceback. Heavy modules are imported inside commands so
that start-up stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pmtwin.cli._guard import guard as _guard
from pmtwin.cli._progress import terminal_progress
from pmtwin.cli.perf_cmds import calibrate, predict_app
from pmtwin.cli.report_cmds import export_metrics, report, serve
from pmtwin.cli.sweep_cmds import sweep
from pmtwin.cli.workload_cmds import check_days, workload_app
from pmtwin.runs import MAX_DAYS

if TYPE_CHECKING:
    from pmtwin.report import ReportKind
    from pmtwin.runs import RunResult
    from pmtwin.runs_power import PowerOptions
    from pmtwin.sched.config import SchedulerConfig

app = typer.Typer(
    help="pmtwin: a digital twin of NERSC's Perlmutter supercomputer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
machine_app = typer.Typer(help="System descriptions: list them, show one.", no_args_is_help=True)
app.add_typer(machine_app, name="machine")
app.add_typer(predict_app, name="predict")
app.add_typer(workload_app, name="workload")
app.command()(calibrate)
app.command()(report)
app.command("export-metrics")(export_metrics)
app.command()(serve)
app.command()(sweep)

POLICY_HELP = "Scheduling policy: fcfs, easy or conservative (scheduling-semantics.md)."
SCHEDULER_HELP = r"Slurm mode: a TOML file with a \[scheduler] table (docs/slurm-scheduling.md)."
PRIORITY_HELP = "Slurm mode priority: fifo, nersc or multifactor."
WALLTIME_HELP = "Slurm mode walltime: trace (recorded run times) or kill (TIMEOUT at the time limit)."
QOS_HELP = "Slurm mode QOS table: perlmutter, single, or a TOML path."
SchedulerOpt = Annotated[Path | None, typer.Option("--scheduler", help=SCHEDULER_HELP)]
PriorityOpt = Annotated[str | None, typer.Option(help=PRIORITY_HELP)]
WalltimeOpt = Annotated[str | None, typer.Option(help=WALLTIME_HELP)]
QosOpt = Annotated[str | None, typer.Option("--qos-table", help=QOS_HELP)]
PowerCapOpt = Annotated[
    float | None,
    typer.Option(
        "--power-cap-mw",
        help="System power budget (MW): jobs start only within it (docs/power.md 4a; fcfs, easy).",
    ),
]
GpuCapOpt = Annotated[
    float | None,
    typer.Option(
        "--gpu-power-cap-w",
        help="Cap every GPU at this many watts; capped jobs run slower (docs/power.md 4b).",
    ),
]
OutdoorOpt = Annotated[
    str | None,
    typer.Option(
        "--outdoor-temp-c",
        help="Outdoor temperature for the PUE model: degrees C, or a CSV of time_s,temp_c.",
    ),
]
ResolutionOpt = Annotated[
    float | None,
    typer.Option(
        "--resolution", help="Write series as means over bins of this many seconds (results stay exact)."
    ),
]
REPORT_HELP = (
    "What the run writes besides its data: full (report.html and PNG charts), html (report.html only) or "
    "none (docs/reports.md)."
)
REPLAY_REPORT_HELP = REPORT_HELP + " A replay skips PNGs by default: they take longer than most replays."
NoPowerOpt = Annotated[
    bool, typer.Option("--no-power", help="Skip the power model (no power series or summary).")
]
MAX_UNITS = 2**40


@app.command()
def simulate(
    machine: Annotated[str, typer.Option(help="System name (see `pmtwin machine list`) or TOML path.")] = (
        "perlmutter"
    ),
    days: Annotated[float, typer.Option(help=f"Days of workload to simulate (at most {MAX_DAYS:g}).")] = 30.0,
    seed: Annotated[int, typer.Option(help="Seed of the workload generator.", min=0)] = 0,
    workload: Annotated[
        str,
        typer.Option(
            help="Workload model: a shipped name (perlmutter) or a TOML file (`pmtwin workload fit`)."
        ),
    ] = "perlmutter",
    policy: Annotated[str, typer.Option(help=POLICY_HELP)] = "easy",
    out: Annotated[Path, typer.Option(help="Run directory to write.")] = Path("runs/simulate"),
    scheduler: SchedulerOpt = None,
    priority: PriorityOpt = None,
    walltime: WalltimeOpt = None,
    qos_table: QosOpt = None,
    slurm_features: Annotated[
        bool,
        typer.Option(
            "--slurm-features",
            help="Add job arrays, dependencies and under-estimated limits (and users, QOS and shared "
            "jobs where the model has none) to the workload (workload/slurm_mix.py); runs Slurm mode.",
        ),
    ] = False,
    power_cap_mw: PowerCapOpt = None,
    gpu_power_cap_w: GpuCapOpt = None,
    outdoor_temp_c: OutdoorOpt = None,
    resolution: ResolutionOpt = None,
    no_power: NoPowerOpt = False,
    report: Annotated[str, typer.Option(help=REPORT_HELP)] = "full",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the run directory.")] = False,
) -> None:
    """Simulate a machine under a generated workload: by default the calibrated NERSC-like Perlmutter
    model (QOS, users, daily and weekly cycles, DESI nights; docs/workloads.md). Any of --scheduler,
    --priority, --walltime, --qos-table, --slurm-features runs Slurm mode. Power,
    energy and facility figures are computed unless --no-power (docs/power.md)."""
    from pmtwin import runs

    _guard(lambda: check_days(days))
    kind = _guard(lambda: _report_kind(report))
    config = _guard(lambda: _scheduler(scheduler, priority, walltime, qos_table))
    power = _guard(lambda: _power(no_power, power_cap_mw, gpu_power_cap_w, outdoor_temp_c, resolution))
    with terminal_progress(enabled=not quiet) as progress:
        result = _guard(
            lambda: runs.simulate(
                out_dir=out,
                machine=machine,
                days=days,
                seed=seed,
                policy=policy,
                progress=progress,
                scheduler=config,
                slurm_features=slurm_features,
                power=power,
                workload=workload,
                report=kind,
            )
        )
    _report(result, f"simulate {machine}, workload {workload}, {days:g} days, seed {seed}, {policy}", quiet)


@app.command()
def replay(
    trace: Annotated[
        Path,
        typer.Argument(
            help="Trace: SWF (.swf, .swf.gz), sacct --parsable2, Parquet, Alibaba pods, or a TOML file of"
            " jobs driven by application models (docs/performance.md)."
        ),
    ],
    policy: Annotated[str, typer.Option(help=POLICY_HELP)] = "easy",
    trace_format: Annotated[
        str,
        typer.Option(
            "--format", help="auto, swf, sacct, parquet, alibaba or apps (auto: by name and content)."
        ),
    ] = "auto",
    out: Annotated[Path | None, typer.Option(help="Run directory (default runs/TRACE-POLICY).")] = None,
    machine: Annotated[
        str | None,
        typer.Option(
            help="Run on this system: SWF processors become whole nodes of --partition; "
            "sacct/Parquet jobs go to their own partition's pool."
        ),
    ] = None,
    partition: Annotated[
        str | None, typer.Option(help="Partition an SWF trace runs on, with --machine (default: cpu).")
    ] = None,
    capacity: Annotated[
        int | None,
        typer.Option(
            help="Units in the single pool (default: SWF header MaxProcs, MaxNodes; else the largest job).",
            min=1,
            max=MAX_UNITS,
        ),
    ] = None,
    tz: Annotated[str | None, typer.Option(help="Time zone of sacct timestamps (default: UTC).")] = None,
    skip_bad_lines: Annotated[
        bool, typer.Option("--skip-bad-lines", help="Count and skip malformed lines instead of stopping.")
    ] = False,
    scheduler: SchedulerOpt = None,
    priority: PriorityOpt = None,
    walltime: WalltimeOpt = None,
    qos_table: QosOpt = None,
    power_cap_mw: PowerCapOpt = None,
    gpu_power_cap_w: GpuCapOpt = None,
    outdoor_temp_c: OutdoorOpt = None,
    resolution: ResolutionOpt = None,
    no_power: NoPowerOpt = False,
    report: Annotated[str, typer.Option(help=REPLAY_REPORT_HELP)] = "html",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the run directory.")] = False,
) -> None:
    """Replay a workload trace exactly under a scheduling policy. Any of --scheduler, --priority,
    --walltime, --qos-table runs Slurm mode (an Alibaba pod trace always does). With --machine, power,
    energy and facility figures are computed unless --no-power (docs/power.md)."""
    from pmtwin import runs

    kind = _guard(lambda: _report_kind(report))
    config = _guard(lambda: _scheduler(scheduler, priority, walltime, qos_table))
    power = _guard(lambda: _power(no_power, power_cap_mw, gpu_power_cap_w, outdoor_temp_c, resolution))
    stem = trace.name.removesuffix(".gz").removesuffix(".swf").removesuffix(".parquet")
    out_dir = out if out is not None else Path("runs") / f"{stem}-{policy}"
    with terminal_progress(enabled=not quiet) as progress:
        result = _guard(
            lambda: runs.replay(
                trace,
                out_dir=out_dir,
                policy=policy,
                trace_format=trace_format,
                machine=machine,
                partition=partition,
                capacity=capacity,
                skip_bad_lines=skip_bad_lines,
                tz=tz,
                progress=progress,
                scheduler=config,
                power=power,
                report=kind,
            )
        )
    _report(result, f"replay {trace.name}, {policy}", quiet)


@app.command()
def power(
    name: Annotated[str, typer.Argument(help="System name or TOML path.")] = "perlmutter",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Idle and full-load power of a machine, per node type and power class (docs/power.md)."""
    import json

    from pmtwin.machine import load_system
    from pmtwin.physics.power import load_power_classes, power_overview

    overview = _guard(lambda: power_overview(load_system(name), load_power_classes()))
    if as_json:
        typer.echo(json.dumps(overview, indent=2))
        return
    from rich.console import Console

    from pmtwin.results.terminal import render_power

    Console().print(render_power(overview))


@app.command()
def validate(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of rows.")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Exit with status 1 when a prediction misses its target.")
    ] = False,
) -> None:
    """Predictions against published measurements: prediction, published value, error, target."""
    import json

    from pmtwin.physics.validation import validation_rows

    rows = _guard(validation_rows)
    if as_json:
        typer.echo(json.dumps([row.as_json() for row in rows], indent=2))
    else:
        from rich.console import Console

        from pmtwin.results.terminal import render_validation

        Console().print(render_validation(rows))
    if check and any(abs(row.error_pct) > row.target_pct for row in rows):
        raise typer.Exit(1)


@machine_app.command("list")
def machine_list() -> None:
    """The packaged system descriptions."""
    from pmtwin.machine import list_systems

    for name in list_systems():
        typer.echo(name)


@machine_app.command("show")
def machine_show(
    name: Annotated[str, typer.Argument(help="System name or TOML path.")] = "perlmutter",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    headline: Annotated[
        bool,
        typer.Option(
            "--headline", help="Explain the headline figures (the '4 exaflops', FP64, predicted HPL)."
        ),
    ] = False,
) -> None:
    """Node, GPU and CPU counts, memory, and peak FLOP/s per precision derived from the devices."""
    import json

    from pmtwin.machine import load_system, machine_summary, render_machine

    system = _guard(lambda: load_system(name))
    if headline:
        from pmtwin.perf.headline import headline as headline_figures

        figures = _guard(lambda: headline_figures(system))
        text = json.dumps(figures, indent=2) if as_json else "\n".join(figures["explanation"])
        typer.echo(text)
        return
    if as_json:
        typer.echo(json.dumps(machine_summary(system), indent=2))
        return
    from rich.console import Console

    Console().print(render_machine(system))


@machine_app.command("from-slurm")
def machine_from_slurm(
    slurm_conf: Annotated[Path, typer.Argument(help="A slurm.conf: its NodeName and PartitionName lines.")],
    name: Annotated[
        str | None, typer.Option(help="Machine name (default: the file's ClusterName, else its name).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write a system TOML for --machine and `machine show`.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """A machine from a Slurm configuration; what the import assumed goes to stderr as notes."""
    import json

    from pmtwin.machine import machine_summary, render_machine
    from pmtwin.machine.slurm_conf import machine_from_slurm_conf, system_toml

    imported = _guard(lambda: machine_from_slurm_conf(slurm_conf, name=name))
    for note in imported.notes:
        typer.echo(f"note: {note}", err=True)
    if out is not None:
        _guard(lambda: out.write_text(system_toml(imported), encoding="utf-8"))
        typer.echo(f"wrote {out}", err=True)
    if as_json:
        typer.echo(json.dumps(machine_summary(imported.machine), indent=2))
        return
    from rich.console import Console

    Console().print(render_machine(imported.machine))


def _scheduler(
    path: Path | None, priority: str | None, walltime: str | None, qos_table: str | None
) -> SchedulerConfig | None:
    """The Slurm-mode configuration the options ask for (None: the canonical engine)."""
    if path is None and priority is None and walltime is None and qos_table is None:
        return None
    from pmtwin.sched.config import SchedulerConfig, load_scheduler

    base = load_scheduler(path) if path is not None else SchedulerConfig()
    updates = {"priority": priority, "walltime": walltime, "qos_table": qos_table}
    data = base.model_dump() | {key: value for key, value in updates.items() if value is not None}
    from pydantic import ValidationError

    try:
        return SchedulerConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValueError(f"--{first['loc'][0]}: {first['msg']}") from None


def _report_kind(text: str) -> ReportKind:
    """The --report value, checked."""
    from pmtwin.report import REPORT_KINDS

    for kind in REPORT_KINDS:
        if text == kind:
            return kind
    raise ValueError(f"--report {text!r}: choose {', '.join(REPORT_KINDS)}")


def _power(
    no_power: bool,
    cap_mw: float | None,
    gpu_cap_w: float | None,
    outdoor: str | None,
    resolution: float | None,
) -> PowerOptions:
    """The power options asked for; --no-power with a power option is refused, not ignored."""
    from pmtwin.runs_power import PowerOptions

    if no_power and (cap_mw is not None or gpu_cap_w is not None or outdoor is not None):
        raise ValueError(
            "--no-power cannot be combined with --power-cap-mw, --gpu-power-cap-w or --outdoor-temp-c"
        )
    if resolution is not None:
        from pmtwin.results.series import check_resolution

        check_resolution(resolution)
    temperature: float | Path | None = None
    if outdoor is not None:
        try:
            temperature = float(outdoor)
        except ValueError:
            temperature = Path(outdoor)
    return PowerOptions(not no_power, cap_mw, gpu_cap_w, temperature, resolution)


def _report(result: RunResult, title: str, quiet: bool) -> None:
    if quiet:
        typer.echo(str(result.out_dir))
        return
    from rich.console import Console

    from pmtwin.results import render_summary
    from pmtwin.runs import rate_figures

    console = Console()
    console.print(render_summary(result.summary, title=title))
    rates = rate_figures(result)
    drawn = f"; report drawn in {result.report_s:.2f} s: {result.out_dir / 'report.html'}"
    console.print(
        f"{len(result.jobs):,} jobs in {sum(result.wall_s.values()):.2f} s "
        f"({rates['jobs_per_s']:,.0f} jobs/s, {rates['simulated_s_per_wall_s']:,.0f} simulated s per s); "
        f"results in {result.out_dir}" + (drawn if result.report_s else "")
    )


def main() -> None:
    """Console-script entry point."""
    app(args=sys.argv[1:], prog_name="pmtwin")
