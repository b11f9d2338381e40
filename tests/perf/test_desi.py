"""The DESI pipeline model: turnaround, night, year reprocessing, workflow shape, errors."""

from __future__ import annotations

import pytest

from pmtwin.machine import load_system
from pmtwin.machine.system import Machine
from pmtwin.perf.desi import WorkflowStep, desi_night_workflow, predict_desi
from pmtwin.perf.desi_params import load_desi_params
from pmtwin.perf.desi_workflow import replay_workflow
from pmtwin.perf.node import PerfModelError

POWER_CLASSES = {"hpl", "ai_training", "gpu_memory_bound", "cpu_compute", "cpu_memory_bound", "idle_waiting"}


@pytest.fixture(scope="module")
def perlmutter() -> Machine:
    return load_system("perlmutter")


def test_turnaround_on_the_realtime_queue_is_well_under_15_minutes(perlmutter: Machine) -> None:
    prediction = predict_desi(perlmutter, None, 10, {})
    # 60 s start-up + 6 frames per node x 3600/280 s (two 5-node jobs fit in the 10-node queue)
    assert prediction.nodes == 5
    assert prediction.run_s == pytest.approx(60 + 6 * 3600 / 280)
    assert prediction.figures["turnaround_min"] == pytest.approx(2.286, abs=1e-3)
    assert prediction.figures["turnaround_margin_ratio"] == pytest.approx(6.56, abs=0.01)
    assert prediction.node_type == "gpu-40gb" and prediction.app == "desi"
    # desispec's own one-node tilenight sizing still leaves a factor of 2
    one_node = predict_desi(perlmutter, None, 1, {"mode": "exposure"})
    assert one_node.figures["turnaround_min"] == pytest.approx(7.43, abs=0.01)
    assert one_node.figures["turnaround_margin_ratio"] > 2.0


def test_extraction_scales_per_gpu_from_the_dgx_benchmark(perlmutter: Machine) -> None:
    prediction = predict_desi(perlmutter, "gpu-80gb", 1, {})
    # the DGX figure used 4 of the DGX's 8 A100s: 575.25 / 4 x 4 GPUs per Perlmutter node
    assert prediction.figures["extraction_frames_per_node_hour"] == pytest.approx(575.25)
    assert prediction.breakdown["extraction_s"] == pytest.approx(30 * 3600 / 575.25)
    assert prediction.figures["frames_per_node_hour"] == pytest.approx(140 / 0.5)


def test_more_nodes_give_a_shorter_exposure_up_to_the_cap(perlmutter: Machine) -> None:
    times = [predict_desi(perlmutter, None, n, {}).run_s for n in (1, 2, 3, 5)]
    assert times == sorted(times, reverse=True) and len(set(times)) == 4
    assert predict_desi(perlmutter, None, 20, {}).run_s == times[-1]


def test_cpu_variant_is_slower_but_within_the_limit(perlmutter: Machine) -> None:
    cpu = predict_desi(perlmutter, "cpu", 10, {})
    gpu = predict_desi(perlmutter, None, 10, {})
    assert cpu.power_class == "cpu_compute"
    assert gpu.run_s < cpu.run_s < 15 * 60
    # 65.05 FPNH x 5.0176 / 1.1776 TFLOP/s
    assert cpu.figures["extraction_frames_per_node_hour"] == pytest.approx(277.17, abs=0.01)


def test_night_keeps_every_exposure_under_the_limit(perlmutter: Machine) -> None:
    night = predict_desi(perlmutter, None, 10, {"mode": "night"})
    assert night.figures["exposures"] == 33
    assert night.figures["turnaround_min"] == pytest.approx(2.286, abs=1e-3)
    # last exposure arrives at 7200 + 32 x 900 s; its Redrock job (50 min x 0.5) ends the night
    assert night.breakdown["until_last_exposure_s"] == 36000
    assert night.breakdown["tail_s"] == pytest.approx(1500)
    assert night.run_s == pytest.approx(36000 + 60 + 6 * 3600 / 280 + 1500)


def test_year_takes_days_on_perlmutter_and_weeks_on_cori_and_edison(perlmutter: Machine) -> None:
    year = predict_desi(perlmutter, None, 10, {"mode": "year"})
    figures = year.figures
    assert figures["frames"] == 242 * 33 * 30
    # 239,580 frames / 280 FPNH + 7,986 jobs x 60 s start-up = 988.7 node-hours
    assert figures["node_hours"] == pytest.approx(988.74, abs=0.01)
    assert figures["days"] == pytest.approx(4.12, abs=0.01)
    # extraction alone, same 10 nodes: 239,580 / 40.15 and / 27.89 node-hours
    assert figures["cori_haswell_days"] == pytest.approx(24.86, abs=0.01)
    assert figures["edison_days"] == pytest.approx(35.79, abs=0.01)
    assert 3 < figures["cori_haswell_weeks"] < 4 and 5 < figures["edison_weeks"] < 6
    assert figures["speedup_vs_cori_haswell"] == pytest.approx(6.04, abs=0.01)
    assert figures["speedup_vs_edison"] == pytest.approx(8.69, abs=0.01)
    # Margala's headline: about 20x over Edison, 14x over Cori Haswell, for extraction
    assert figures["extraction_speedup_vs_edison"] == pytest.approx(20.6, abs=0.1)
    assert figures["extraction_speedup_vs_cori_haswell"] == pytest.approx(14.3, abs=0.1)


def test_year_scales_inversely_with_nodes(perlmutter: Machine) -> None:
    ten = predict_desi(perlmutter, None, 10, {"mode": "year"})
    hundred = predict_desi(perlmutter, None, 100, {"mode": "year", "baseline_nodes": 10})
    assert hundred.run_s == pytest.approx(ten.run_s / 10)
    assert hundred.figures["cori_haswell_days"] == ten.figures["cori_haswell_days"]


def test_workflow_dependencies_point_backwards(perlmutter: Machine) -> None:
    steps = desi_night_workflow(perlmutter)
    assert all(isinstance(step, WorkflowStep) for step in steps)
    assert sum(step.name.startswith("tilenight") for step in steps) == 33
    for index, step in enumerate(steps):
        assert all(0 <= dep < index for dep in step.after)
        assert step.partition in {"gpu", "cpu"} and step.power_class in POWER_CLASSES
        assert step.nodes >= 1 and step.run_s > 0 and step.submit_offset_s >= 0
    calibrations = {step.name: step.partition for step in steps if not step.name[-2:].isdigit()}
    assert calibrations["arc-0"] == "cpu" and calibrations["nightlyflat"] == "gpu"
    science = [step for step in steps if step.name.startswith("tilenight")]
    assert all(steps[dep].name == "nightlyflat" for step in science for dep in step.after)
    offsets = [step.submit_offset_s for step in science]
    assert offsets == sorted(offsets) and offsets[1] - offsets[0] == 900


def test_cpu_variant_workflow_has_no_gpu_steps(perlmutter: Machine) -> None:
    steps = desi_night_workflow(perlmutter, node_type="cpu", exposures=2)
    assert {step.partition for step in steps} == {"cpu"}


def test_replay_respects_the_pool(perlmutter: Machine) -> None:
    steps = desi_night_workflow(perlmutter, exposures=4, realtime_nodes=5)
    times = replay_workflow(steps, {"gpu": 5})
    for index, step in enumerate(steps):
        assert times[index][0] >= step.submit_offset_s
        assert all(times[index][0] >= times[dep][1] for dep in step.after)


def test_bad_requests_raise(perlmutter: Machine) -> None:
    with pytest.raises(PerfModelError, match="unknown mode 'week'"):
        predict_desi(perlmutter, None, 10, {"mode": "week"})
    with pytest.raises(PerfModelError, match="unknown parameter 'exposure'"):
        predict_desi(perlmutter, None, 10, {"exposure": 3})
    with pytest.raises(PerfModelError, match="'nights' must be int"):
        predict_desi(perlmutter, None, 10, {"mode": "year", "nights": "242"})
    with pytest.raises(PerfModelError, match="'nights' must be a positive number"):
        predict_desi(perlmutter, None, 10, {"mode": "year", "nights": 0})
    with pytest.raises(PerfModelError, match="unknown mode 3"):
        predict_desi(perlmutter, None, 10, {"mode": 3})
    with pytest.raises(PerfModelError, match="DESI exposure: unknown parameter 'nights'"):
        predict_desi(perlmutter, None, 10, {"nights": 5})
    with pytest.raises(PerfModelError, match="'exposure_interval_s' must be a positive number, not nan"):
        predict_desi(perlmutter, None, 10, {"mode": "night", "exposure_interval_s": float("nan")})
    with pytest.raises(PerfModelError, match="nodes must be"):
        predict_desi(perlmutter, None, 0, {})
    with pytest.raises(PerfModelError, match="no node type"):
        predict_desi(perlmutter, "gpu-90gb", 1, {})
    with pytest.raises(PerfModelError, match="exposures must be"):
        desi_night_workflow(perlmutter, exposures=0)


def test_perlmutter_2021_matches_and_numbers_are_deterministic() -> None:
    machine = load_system("perlmutter-2021")
    first = predict_desi(machine, None, 10, {"mode": "night"})
    again = predict_desi(machine, None, 10, {"mode": "night"})
    assert first == again
    assert first.figures["turnaround_min"] == pytest.approx(2.286, abs=1e-3)


def test_every_parameter_file_power_class_exists() -> None:
    params = load_desi_params()
    assert {c.power_class for c in params.calibrations} <= POWER_CLASSES
