"""The performance models' validation rows (``pmtwin validate``): predictions next to published
measurements of Perlmutter (reference sheet, shared/reference/perlmutter.md, section 2), and one of
another system with Perlmutter's GPU node hardware (JUWELS Booster)."""

from __future__ import annotations

from dataclasses import dataclass

from pmtwin.machine.loader import load_system
from pmtwin.perf.hpl import predict_hpl
from pmtwin.perf.prediction import ValidationRow, validation_row

HPL_TARGET_PCT = 3.0


@dataclass(frozen=True)
class Top500Run:
    """An HPL run on a TOP500 list: its list, nodes [D: cores / 496] and Rmax (PF) [2S]."""

    list_name: str
    nodes: int
    rmax_pflops: float

    @property
    def label(self) -> str:
        return f"TOP500 {self.list_name}, {self.nodes:,} nodes"


TOP500_RUNS = (Top500Run("June 2021", 1424, 64.59), Top500Run("November 2021", 1536, 70.87))
"""Reference sheet section 2: both runs on Phase 1 GPU nodes with Slingshot-10."""
TOP500_MACHINE = "perlmutter-2021"
"""The system file of those GPU nodes."""
CALIBRATION_RUN = "November 2021"
"""The run hpl.toml's dgemm_efficiency is calibrated on: its row checks the calibration, not the model."""
JUWELS_BOOSTER = Top500Run("November 2020", 936, 44.12)
"""JUWELS Booster (Juelich), TOP500: 44.12 PF [2S: heise https://heise.de/-10438385; pcwelt, "44,1
PFlops" with 3,744 A100 GPUs] on 3,744 / 4 = 936 nodes [D] of 4 A100 40 GB with 4 HDR200 (200 Gb/s)
NICs each [1S: MLPerf HPC v1.0 system description HelmholtzAI/systems/juwelsbooster_gpu_n1024_*.json].
Perlmutter's 40 GB GPU nodes of today have the same GPUs and the same 4 x 200 Gb/s per node; the
InfiniBand and Slingshot latencies differ, which the model shows does not matter here (no exposed
network time)."""


def published_hpl_run(machine: str, nodes: int) -> Top500Run | None:
    """The TOP500 run of ``nodes`` GPU nodes of ``machine``, if one was published."""
    runs = [run for run in TOP500_RUNS if machine == TOP500_MACHINE and run.nodes == nodes]
    return runs[0] if runs else None


def hpl_rows() -> list[ValidationRow]:
    """Predicted HPL Rmax against TOP500 with one set of parameters (hpl.toml): Perlmutter's two 2021
    runs (November calibrates the DGEMM efficiency), then JUWELS Booster."""
    machine = load_system(TOP500_MACHINE)
    rows = []
    for run in TOP500_RUNS:
        predicted = predict_hpl(machine, None, run.nodes).figures["rmax_pflops"]
        calibration = " (calibration run)" if run.list_name == CALIBRATION_RUN else ""
        rows.append(
            validation_row(
                f"HPL Rmax, {TOP500_MACHINE}, {run.nodes:,} GPU nodes (TOP500 {run.list_name}){calibration}",
                predicted,
                run.rmax_pflops,
                "PFLOP/s",
                HPL_TARGET_PCT,
                f"TOP500 {run.list_name} (reference sheet section 2); model: docs/performance.md section 3",
            )
        )
    juwels = predict_hpl(load_system("perlmutter"), "gpu-40gb", JUWELS_BOOSTER.nodes)
    rows.append(
        validation_row(
            f"HPL Rmax, {JUWELS_BOOSTER.nodes} nodes of 4 A100 40 GB + 4 x 200 Gb/s (JUWELS Booster)",
            juwels.figures["rmax_pflops"],
            JUWELS_BOOSTER.rmax_pflops,
            "PFLOP/s",
            HPL_TARGET_PCT,
            "TOP500 (heise; pcwelt) and MLPerf HPC v1.0 HelmholtzAI system description; see"
            " perf/validation.py",
        )
    )
    return rows


def perf_validation_rows() -> list[ValidationRow]:
    """HPL, then the MLPerf HPC v1.0 time-to-train rows."""
    from pmtwin.perf.training import training_validation_rows

    return [*hpl_rows(), *training_validation_rows()]
