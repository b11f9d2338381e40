"""Application models by name: ``hpl``, ``train`` and ``desi`` (docs/performance.md), each answering
"how long on these nodes of this machine" with a Prediction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pmtwin.machine.system import Machine
from pmtwin.perf.node import PerfModelError
from pmtwin.perf.prediction import Prediction

APPS = ("hpl", "train", "desi")


def predict(
    app: str, machine: Machine, node_type: str | None, nodes: int, params: Mapping[str, Any]
) -> Prediction:
    """The prediction of application model ``app`` for ``nodes`` nodes of ``node_type`` (None: the
    model's default) with the model's ``params``."""
    if app == "hpl":
        from pmtwin.perf.hpl import predict_hpl

        return predict_hpl(machine, node_type, nodes, params)
    if app == "train":
        from pmtwin.perf.training import predict_train

        return predict_train(machine, node_type, nodes, params)
    if app == "desi":
        from pmtwin.perf.desi import predict_desi

        return predict_desi(machine, node_type, nodes, params)
    raise PerfModelError(f"unknown application model {app!r} (known: {', '.join(APPS)})")


def default_nodes(app: str, machine: Machine, node_type: str | None, params: Mapping[str, Any]) -> int:
    """Nodes when a user gives none: every node of the node type for HPL, the published run's for an
    MLPerf HPC model; other models need an explicit count."""
    if app == "hpl":
        from pmtwin.perf.params import node_type_of

        return node_type_of(machine, node_type).count
    if app == "train":
        from pmtwin.perf.training import predict_mlperf, train_model
        from pmtwin.perf.training_mlperf import BENCHMARKS

        model, _ = train_model(params)  # a bad model or parameter is the first error
        if model in BENCHMARKS:
            return predict_mlperf(machine, model, None, node_type).nodes
    raise PerfModelError(f"{app}: give the number of nodes (--nodes)")
