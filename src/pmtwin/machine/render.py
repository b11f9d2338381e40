"""A terminal view of a machine: node types, then headline figures (backs ``pmtwin machine show``)."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table

from pmtwin.machine.summary import GPU_PRECISIONS, machine_summary
from pmtwin.machine.system import Machine

OTHER_ROWS: tuple[tuple[str, str, str], ...] = (
    ("gpu_node_cpu_fp64_pflops", "CPUs of GPU nodes, fp64", "PFLOP/s"),
    ("cpu_node_cpu_fp64_pflops", "CPU nodes, fp64", "PFLOP/s"),
    ("hbm_tb", "HBM", "TB"),
    ("gpu_node_ddr_tb", "DDR on GPU nodes", "TB"),
    ("cpu_node_ddr_tb", "DDR on CPU nodes", "TB"),
    ("gpu_tdp_kw", "GPU TDP", "kW"),
    ("gpu_node_cpu_tdp_kw", "CPU TDP, GPU nodes", "kW"),
    ("cpu_node_cpu_tdp_kw", "CPU TDP, CPU nodes", "kW"),
)
"""(peak_flops key, label, unit) shown after the per-precision GPU rows."""


def render_machine(machine: Machine) -> RenderableType:
    """Two ``rich`` tables: the node types, and the headline figures of ``peak_flops``."""
    summary = machine_summary(machine)
    return Group(_node_table(summary), _figure_table(summary["peak"]))


def _node_table(summary: dict[str, Any]) -> Table:
    table = Table(title=f"{summary['name']}: {summary['description']}", title_justify="left")
    for column in ("node type", "partition", "nodes", "node ids", "cabinets", "CPUs", "GPUs", "DDR GB"):
        table.add_column(column, justify="left" if column in ("node type", "partition") else "right")
    for t in summary["node_types"]:
        table.add_row(
            t["name"],
            t["partition"] or "-",
            f"{t['count']:,}",
            f"{t['first_node_id']}-{t['first_node_id'] + t['count'] - 1}",
            str(t["cabinets"]),
            f"{t['cpus_per_node']}x {t['cpu']}",
            f"{t['gpus_per_node']}x {t['gpu']}" if t["gpu"] else "-",
            "-" if t["ddr_gb"] is None else f"{t['ddr_gb']:g}",
        )
    table.caption = f"{summary['node_count']:,} nodes in {summary['cabinet_count']} cabinets"
    return table


def _figure_table(peak: dict[str, float]) -> Table:
    table = Table(title="Compute nodes: peaks and totals", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("unit")
    table.add_row("GPUs", f"{peak['gpu_count']:,}", "")
    for key, _ in GPU_PRECISIONS:
        precision = key.removeprefix("gpu_").rsplit("_", 1)[0].replace("_", " ")
        table.add_row(
            f"GPUs, {precision}", f"{peak[key]:,.1f}", "POPS" if key.endswith("_pops") else "PFLOP/s"
        )
    for key, label, unit in OTHER_ROWS:
        table.add_row(label, f"{peak[key]:,.1f}", unit)
    return table
