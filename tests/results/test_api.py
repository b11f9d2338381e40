"""The public names of pmtwin.results are pinned."""

import pmtwin.results


def test_public_names() -> None:
    assert set(pmtwin.results.__all__) == {
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
    }
    for name in pmtwin.results.__all__:
        assert hasattr(pmtwin.results, name)
