"""Results of a run: metrics summary, level series, the run directory and a terminal view."""

from pmtwin.results.metrics import BOUNDED_SLOWDOWN_MIN_RUN_S, PERCENTILE_METHOD, compute_summary
from pmtwin.results.rundir import RUN_FILES, job_results_table, write_run_dir
from pmtwin.results.series import LevelSeries, integrate, level_series
from pmtwin.results.terminal import format_duration_s, render_summary

__all__ = [
    "BOUNDED_SLOWDOWN_MIN_RUN_S",
    "PERCENTILE_METHOD",
    "RUN_FILES",
    "LevelSeries",
    "compute_summary",
    "format_duration_s",
    "integrate",
    "job_results_table",
    "level_series",
    "render_summary",
    "write_run_dir",
]
