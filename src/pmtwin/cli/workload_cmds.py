"""``pmtwin workload``: generate a workload from a model, fit a model to a trace, transform a job table."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pmtwin.cli._guard import guard
from pmtwin.runs import MAX_DAYS

if TYPE_CHECKING:
    from pmtwin.workload.jobs import JobTable

workload_app = typer.Typer(
    help="Workloads: generate one from a model, fit a model to a trace, transform a job table.",
    no_args_is_help=True,
)
FORMAT_HELP = "Trace format: auto, swf, sacct or parquet (auto: by name and content)."
TRANSFORMS_HELP = r"A TOML file with a \[\[transforms]] list (docs/workloads.md section 5)."
DAYS_HELP = f"Days to generate (at most {MAX_DAYS:g})."


def check_days(days: float) -> float:
    """``days`` when it is a finite number in (0, MAX_DAYS]; else a user error."""
    if not math.isfinite(days) or not 0.0 < days <= MAX_DAYS:
        raise ValueError(f"--days must be a number in (0, {MAX_DAYS:g}], got {days!r}")
    return days


@workload_app.command("generate")
def generate(
    out: Annotated[Path, typer.Option(help="File to write: *.parquet (every column), *.swf, *.swf.gz.")],
    machine: Annotated[str, typer.Option(help="System name or TOML path; 'none' for a model with nodes.")] = (
        "perlmutter"
    ),
    model: Annotated[
        str, typer.Option(help="Workload model: a shipped name (perlmutter) or a TOML file (`workload fit`).")
    ] = "perlmutter",
    days: Annotated[float, typer.Option(help=DAYS_HELP)] = 30.0,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same bytes.", min=0)] = 0,
    transforms: Annotated[
        Path | None, typer.Option(help=TRANSFORMS_HELP + " Applied after the model's own.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Generate a workload from a model (docs/workloads.md) and write it as Parquet or SWF."""
    from pmtwin.workload.generate import check_sizes_fit
    from pmtwin.workload.generate import generate as generate_jobs
    from pmtwin.workload.model import load_workload_model
    from pmtwin.workload.write import check_output, write_workload

    guard(lambda: check_days(days))
    guard(lambda: check_output(out))
    t0 = time.perf_counter()
    system = guard(lambda: None if machine == "none" else _load_machine(machine))
    workload_model = guard(lambda: load_workload_model(model))
    generated = guard(lambda: generate_jobs(workload_model, days=days, seed=seed, machine=system))
    jobs, report = generated.jobs, dict(generated.report)
    if transforms is not None:
        jobs, extra = guard(lambda: _apply_file(jobs, transforms, seed))
        report["transforms"] = [*report.get("transforms", []), *extra]
        if system is not None:
            guard(lambda: check_sizes_fit(jobs, system, f"the transforms of {transforms}"))
    wall_s = time.perf_counter() - t0
    nodes = system.partition_node_counts() if system is not None else None
    capacity = sum(nodes[p] for p in jobs.partition_names if p in nodes) if nodes else None
    notes = (f"model {workload_model.model.name}, {days:g} days, seed {seed}",)
    written = guard(lambda: write_workload(jobs, out, capacity=capacity, notes=notes))
    span_days = _span_days(jobs) if "transforms" in report else days
    summary = workload_summary(jobs, span_days, nodes)
    summary.update({"file": str(out), "format": written, "model": workload_model.model.name, "seed": seed})
    summary.update({"generate_s": round(wall_s, 3), "jobs_per_s": round(len(jobs) / max(wall_s, 1e-9))})
    summary.update(report)
    if written == "swf" and len(set(jobs.partition.tolist())) > 1:
        summary["note"] = (
            "SWF holds sizes in nodes and one partition number per job: replay this file without --machine "
            "(one pool), or write Parquet to replay it onto the machine's pools"
        )
    _print(summary, as_json)


def _span_days(jobs: JobTable) -> float:
    """Days from the first to the last submission (at least one second)."""
    if not len(jobs):
        return 1.0 / 86400.0
    return max(float(jobs.submit_s.max() - jobs.submit_s.min()) + 1.0, 1.0) / 86400.0


@workload_app.command("fit")
def fit(
    trace: Annotated[Path, typer.Argument(help="Trace: SWF (.swf, .swf.gz), sacct --parsable2 or Parquet.")],
    out: Annotated[Path, typer.Option(help="Model TOML to write.")],
    trace_format: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "auto",
    tz: Annotated[str | None, typer.Option(help="Time zone of sacct timestamps (default: UTC).")] = None,
    skip_bad_lines: Annotated[
        bool, typer.Option("--skip-bad-lines", help="Count and skip malformed lines instead of stopping.")
    ] = False,
    name: Annotated[str | None, typer.Option(help="Model name (default: the trace's file name).")] = None,
    partition: Annotated[
        str | None,
        typer.Option(help="Put every job in this partition (default for an SWF trace with --machine: cpu)."),
    ] = None,
    machine: Annotated[
        str | None,
        typer.Option(help="Fit for this system: SWF processors become whole nodes of --partition."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the check's generated workload.", min=0)] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Fit a workload model to a trace, then generate the trace's span from it and report KS distances
    between the trace's and the generated marginals (size, run time, inter-arrival, accuracy). With
    --machine, the model generates for that system (`simulate --workload MODEL --machine M`)."""
    from pmtwin.workload.compare import ks_distances, marginal_summary
    from pmtwin.workload.fit import model_to_toml
    from pmtwin.workload.fit_trace import fit_trace_file
    from pmtwin.workload.generate import generate_workload
    from pmtwin.workload.write import check_folder

    guard(lambda: check_folder(out))
    system = guard(lambda: None if machine is None else _load_machine(machine))
    fitted = guard(
        lambda: fit_trace_file(trace, trace_format, name=name, tz=tz, skip_bad_lines=skip_bad_lines,
                               partition=partition, machine=system)
    )  # fmt: skip
    guard(lambda: out.write_text(model_to_toml(fitted.model), encoding="utf-8"))
    generated = guard(lambda: generate_workload(fitted.model, days=fitted.days, seed=seed, machine=system))
    report: dict[str, Any] = {
        "trace": str(trace),
        "model": str(out),
        "trace_jobs": len(fitted.jobs),
        "skipped": fitted.skipped,
        "capped": fitted.capped,
        "days": round(fitted.days, 3),
        "partitions": list(fitted.model.partitions),
        "classes": sum(len(p.classes) for p in fitted.model.partitions.values()),
        "generated_jobs": len(generated),
        "ks": {key: round(value, 4) for key, value in ks_distances(fitted.jobs, generated).items()},
        "marginals": {"trace": marginal_summary(fitted.jobs), "generated": marginal_summary(generated)},
    }
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    jobs_text = f"{len(fitted.jobs):,} jobs over {fitted.days:.1f} days"
    typer.echo(f"wrote {out}: {report['classes']} classes in {report['partitions']} from {jobs_text}")
    skipped = sum(fitted.skipped.values())
    if skipped or fitted.capped:
        typer.echo(
            f"left out while reading: {skipped} ({fitted.skipped}); sizes capped at the pool: {fitted.capped}"
        )
    typer.echo(
        f"generated {len(generated):,} jobs from it (seed {seed}); KS distance, and trace / generated:"
    )
    for key, value in report["ks"].items():
        line = f"  {key:<18} KS {value:.4f}"
        pair = report["marginals"]["trace"].get(key), report["marginals"]["generated"].get(key)
        if pair[0] is not None and pair[1] is not None:
            line += "".join(
                f"   {stat} {pair[0][stat]:.4g} / {pair[1][stat]:.4g}" for stat in ("mean", "p50", "p90")
            )
        typer.echo(line)


@workload_app.command("transform")
def transform(
    trace: Annotated[Path, typer.Argument(help="Workload: SWF, sacct --parsable2 or Parquet.")],
    config: Annotated[Path, typer.Option(help=TRANSFORMS_HELP)],
    out: Annotated[Path, typer.Option(help="Workload file to write: *.parquet, *.swf or *.swf.gz.")],
    trace_format: Annotated[str, typer.Option("--format", help=FORMAT_HELP)] = "auto",
    tz: Annotated[str | None, typer.Option(help="Time zone of sacct timestamps (default: UTC).")] = None,
    skip_bad_lines: Annotated[
        bool, typer.Option("--skip-bad-lines", help="Count and skip malformed lines instead of stopping.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the random transforms.", min=0)] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
) -> None:
    """Apply what-if transforms in order (scale the load, rescale sizes, shift CPU work to GPUs, shuffle,
    cut a time window) and write the result; the reader's skipped and capped jobs and each transform's
    changes and drops are reported. Sizes keep their unit (an SWF trace's processors stay processors)."""
    from pmtwin.runs import detect_format, load_trace
    from pmtwin.workload.write import check_output, write_workload

    guard(lambda: check_output(out))
    fmt = trace_format if trace_format != "auto" else guard(lambda: detect_format(trace))
    loaded = guard(
        lambda: load_trace(trace, fmt, capacity=None, skip_bad_lines=skip_bad_lines, tz=tz or "UTC")
    )
    jobs, reports = guard(lambda: _apply_file(loaded.jobs, config, seed))
    note = f"transformed from {trace.name} by {config.name}"
    header = _start_header(loaded.header, reports)
    written = guard(
        lambda: write_workload(
            jobs, out, capacity=loaded.capacity, unit=loaded.unit, notes=(note,), header=header
        )
    )
    summary = {
        "file": str(out), "format": written, "unit": loaded.unit, "records": loaded.config.get("records"),
        "skipped": loaded.skipped, "capped": loaded.config.get("capped_jobs", 0), "jobs_in": len(loaded.jobs),
        "jobs": len(jobs), "transforms": reports,
    }  # fmt: skip
    _print(summary, as_json)


def workload_summary(jobs: JobTable, days: float, nodes: dict[str, int] | None) -> dict[str, Any]:
    """Jobs per partition (with offered load when node counts are known) and the QOS mix."""
    import numpy as np

    partitions: dict[str, Any] = {}
    for code, name in enumerate(jobs.partition_names):
        rows = jobs.partition == code
        entry: dict[str, Any] = {"jobs": int(np.count_nonzero(rows))}
        if nodes and name in nodes:
            node_s = float(np.sum(jobs.work_s[rows] * jobs.size[rows]))
            entry["offered_load"] = round(node_s / (nodes[name] * days * 86400.0), 4)
        partitions[name] = entry
    counts = np.bincount(jobs.qos, minlength=len(jobs.qos_names))
    qos = {name or "(default)": int(c) for name, c in zip(jobs.qos_names, counts.tolist(), strict=True) if c}
    deps = 0 if jobs.depends is None else len(jobs.depends.job_id)
    return {"jobs": len(jobs), "days": days, "partitions": partitions, "qos": qos, "dependencies": deps}


def _start_header(source: dict[str, str], reports: list[dict[str, Any]]) -> dict[str, str]:
    """An SWF source's start time and time zone, the start moved by the windows that rebased times."""
    keys = ("UnixStartTime", "TimeZone", "TimeZoneString")
    header: dict[str, str] = {key: source[key] for key in keys if key in source}
    if "UnixStartTime" in header:
        shift_s = sum(float(report.get("rebased_by_s", 0.0)) for report in reports)
        try:
            header["UnixStartTime"] = str(int(header["UnixStartTime"]) + int(shift_s))
        except ValueError:
            del header["UnixStartTime"]  # not a number: a reader would ignore it too
    return header


def _load_machine(name: str) -> Any:
    from pmtwin.machine import load_system

    return load_system(name)


def _apply_file(jobs: JobTable, path: Path, seed: int) -> tuple[JobTable, list[dict[str, Any]]]:
    from pmtwin.workload.transform_config import apply_transforms, load_transforms

    return apply_transforms(jobs, load_transforms(path), seed)


def _print(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    for key, value in summary.items():
        if isinstance(value, dict | list):
            typer.echo(f"{key}:")
            items = value.items() if isinstance(value, dict) else enumerate(value, 1)
            for sub, item in items:
                typer.echo(f"  {sub}: {_flat(item)}")
        else:
            typer.echo(f"{key}: {value}")


def _flat(item: Any) -> str:
    """A nested table as ``key value, key value``."""
    if isinstance(item, dict):
        return ", ".join(f"{key} {value}" for key, value in item.items())
    return str(item)
