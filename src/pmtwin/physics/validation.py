"""Predictions checked against published measurements (``pmtwin validate``).

Each row: what is predicted, the published value, their unit, the error in percent and the target.
"""

from __future__ import annotations

from pmtwin.machine import load_system
from pmtwin.perf.prediction import ValidationRow, validation_row
from pmtwin.physics.power import conversion_efficiency, load_power_classes, node_draw

TOP500_NOV2021_POWER_KW = 2589.0
"""Perlmutter, TOP500 November 2021: power during the HPL run (reference sheet section 2, [1S])."""
TOP500_NOV2021_NODES = 1536
"""Nodes in that run: 761,856 cores / (64 CPU cores + 4 GPUs x 108 SMs) (reference sheet section 2, [D])."""


def hpl_power_row() -> ValidationRow:
    """docs/power.md section 5: an HPL job on every GPU node of perlmutter-2021, plus the switches of
    the GPU cabinets, through the conversion efficiency (CPU partition and storage outside the run)."""
    machine = load_system("perlmutter-2021")
    gpu_nodes = machine.node_type(machine.partitions["gpu"].node_types[0])
    if gpu_nodes.count != TOP500_NOV2021_NODES:
        raise AssertionError("perlmutter-2021 no longer has the 1,536 GPU nodes of the November 2021 run")
    hpl = load_power_classes().classes["hpl"]
    nodes_w = gpu_nodes.count * node_draw(machine, gpu_nodes, hpl, None).power_w
    facility = machine.facility
    switch_w = 0.0 if facility is None else facility.switch_w
    switches_w = gpu_nodes.cabinet_count * gpu_nodes.switches_per_cabinet * switch_w
    predicted_kw = (nodes_w + switches_w) / conversion_efficiency(machine) / 1000.0
    return validation_row(
        "HPL power, perlmutter-2021, 1,536 GPU nodes (TOP500 Nov 2021)",
        predicted_kw,
        TOP500_NOV2021_POWER_KW,
        "kW",
        5.0,
        "TOP500 November 2021 (reference sheet section 2); model: docs/power.md section 5",
    )


def validation_rows() -> list[ValidationRow]:
    """Every validation the twin makes, in a fixed order: performance (HPL, MLPerf HPC), then power."""
    from pmtwin.perf.validation import perf_validation_rows

    return [*perf_validation_rows(), hpl_power_row()]
