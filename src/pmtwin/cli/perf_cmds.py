"""``pmtwin predict hpl|train|desi`` and ``pmtwin calibrate`` (docs/performance.md)."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pmtwin.cli._guard import guard

if TYPE_CHECKING:
    from pmtwin.perf.prediction import Prediction

predict_app = typer.Typer(
    help="How long work takes: application performance models (docs/performance.md).",
    no_args_is_help=True,
)

MachineOpt = Annotated[str, typer.Option("--machine", help="System name or TOML path.")]
NodeTypeOpt = Annotated[
    str | None, typer.Option("--node-type", help="Node type (default: the GPU partition's first).")
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="A model parameter KEY=VALUE (repeatable); see docs/performance.md."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the prediction as a JSON object.")]


@predict_app.command("hpl")
def predict_hpl_cmd(
    machine: MachineOpt = "perlmutter",
    nodes: Annotated[int | None, typer.Option(help="Nodes (default: every node of the node type).")] = None,
    node_type: NodeTypeOpt = None,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """HPL: Rmax, run time and where the time goes (parameters: n, block_size, p, q)."""
    _predict("hpl", machine, node_type, nodes, _params(set_), as_json)


@predict_app.command("train")
def predict_train_cmd(
    model: Annotated[str, typer.Option(help="cosmoflow, deepcam, opencatalyst or llm.")] = "cosmoflow",
    machine: MachineOpt = "perlmutter",
    nodes: Annotated[
        int | None, typer.Option(help="Nodes (default: the published run's, for MLPerf HPC models).")
    ] = None,
    node_type: NodeTypeOpt = None,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Deep-learning training: time to train, step time, communication (e.g. --model llm --set params_b=7)."""
    _predict("train", machine, node_type, nodes, {"model": model, **_params(set_)}, as_json)


@predict_app.command("desi")
def predict_desi_cmd(
    mode: Annotated[str, typer.Option(help="exposure, night or year.")] = "exposure",
    machine: MachineOpt = "perlmutter",
    nodes: Annotated[
        int,
        typer.Option(help="Nodes: the realtime pool (exposure, night; NERSC's holds 10), or all (year)."),
    ] = 10,
    node_type: NodeTypeOpt = None,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The DESI spectroscopic pipeline: turnaround of an exposure, a night, a year's reprocessing."""
    _predict("desi", machine, node_type, nodes, {"mode": mode, **_params(set_)}, as_json)


def calibrate(
    device: Annotated[str, typer.Option(help="cpu, gpu (through PyTorch) or auto.")] = "auto",
    quick: Annotated[bool, typer.Option("--quick", help="Small sizes: a smoke test in seconds.")] = False,
    out: Annotated[Path | None, typer.Option(help="Write the measured device spec (TOML) here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the measurements as JSON.")] = False,
) -> None:
    """Micro-benchmarks on this machine (GEMM per precision, memory bandwidth): a measured device spec."""
    from pmtwin.perf.calibrate import calibration_toml, run_calibration

    result = guard(lambda: run_calibration(device, quick=quick))
    if out is not None:
        guard(lambda: out.write_text(calibration_toml(result), encoding="utf-8"))
        typer.echo(f"wrote {out}", err=True)
    if as_json:
        typer.echo(json.dumps(result.as_json(), indent=2))
    elif out is None:
        typer.echo(calibration_toml(result).rstrip("\n"))


def _predict(
    app: str, machine: str, node_type: str | None, nodes: int | None, params: dict[str, Any], as_json: bool
) -> None:
    from pmtwin.machine import load_system
    from pmtwin.perf.apps import default_nodes, predict

    def run() -> Prediction:
        system = load_system(machine)
        count = default_nodes(app, system, node_type, params) if nodes is None else nodes
        return predict(app, system, node_type, count, params)

    prediction = guard(run)
    if as_json:
        typer.echo(json.dumps(prediction.as_json(), indent=2))
        return
    from rich.console import Console

    from pmtwin.results.terminal import render_prediction

    Console().print(render_prediction(prediction))


def _params(pairs: list[str] | None) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as a parameter mapping: integers, then floats, then true/false, else text."""
    params: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            guard(partial(_refuse, f"--set {pair!r}: expected KEY=VALUE"))
        params[key.strip()] = _value(text.strip())
    return params


def _value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _refuse(message: str) -> None:
    raise ValueError(message)
