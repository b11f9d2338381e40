"""Deep-learning training models: MLPerf HPC v1.0 validation rows, invariants, the LLM model and the
model-driven entry point."""

from __future__ import annotations

import pytest

from pmtwin.machine import load_system
from pmtwin.machine.system import Machine
from pmtwin.perf.node import PerfModelError
from pmtwin.perf.training import (
    load_training,
    predict_llm,
    predict_mlperf,
    predict_train,
    training_validation_rows,
)
from pmtwin.perf.training_core import dp_allreduce_s, gpu_node

# The errors of the model with efficiencies calibrated on OTHER systems' MLPerf HPC v1.0 logs (JUWELS
# Booster, HoreKa, ThetaGPU, Selene; docs/performance.md, "Deep-learning training"). All three meet the 15%
# target; CosmoFlow's 0% is a cancellation (staging too short, training epoch too long), not a perfect model.
DOCUMENTED_ERROR_PCT = {"CosmoFlow": (0.0, 1.0), "DeepCAM": (12.1, 1.0), "OpenCatalyst": (-14.3, 1.0)}


@pytest.fixture(scope="module")
def pm2021() -> Machine:
    return load_system("perlmutter-2021")


@pytest.fixture(scope="module")
def pm() -> Machine:
    return load_system("perlmutter")


def test_validation_rows_match_documented_errors() -> None:
    rows = training_validation_rows()
    assert [row.published for row in rows] == [8.02, 2.51, 111.86]
    for row in rows:
        assert row.unit == "min" and row.target_pct == 15.0
        assert "section 2" in row.source
        title = next(name for name in DOCUMENTED_ERROR_PCT if name in row.name)
        expected, tolerance = DOCUMENTED_ERROR_PCT[title]
        assert row.error_pct == pytest.approx(expected, abs=tolerance)
    assert rows[0].name == "MLPerf HPC v1.0 CosmoFlow time-to-train, 1,024 GPUs"


def test_validation_rows_meet_target() -> None:
    for row in training_validation_rows():
        assert abs(row.error_pct) <= row.target_pct, row.name


@pytest.mark.parametrize(
    ("benchmark", "nodes", "measured_s", "rel"),
    [
        ("cosmoflow", 256, 0.02026, 0.01),  # JUWELS Booster, local batch 1: 20.26 ms per step
        ("deepcam", 512, 0.07598, 0.01),  # JUWELS Booster, local batch 1: 75.98 ms per step
        ("deepcam", 256, 0.09334, 0.01),  # HoreKa, local batch 2: 93.34 ms (HBM roofline gives 93.8)
        ("opencatalyst", 64, 8 * 0.03414, 0.01),  # ThetaGPU, local batch 8: 34.14 ms per sample
    ],
)
def test_calibration_reproduces_source_step(
    pm2021: Machine, benchmark: str, nodes: int, measured_s: float, rel: float
) -> None:
    """On the same GPU (A100-40GB), the step compute equals the calibration run's measured step."""
    step = predict_mlperf(pm2021, benchmark, nodes=nodes).figures["step_compute_s"]
    assert step == pytest.approx(measured_s, rel=rel)


def test_mlperf_prediction_shape(pm2021: Machine) -> None:
    prediction = predict_mlperf(pm2021, "deepcam")
    assert prediction.app == "train" and prediction.power_class == "ai_training"
    assert prediction.nodes == 512
    assert sum(prediction.breakdown.values()) == pytest.approx(prediction.run_s)
    assert prediction.figures["time_to_train_min"] == pytest.approx(prediction.run_s / 60)
    assert prediction.figures["step_time_s"] >= prediction.figures["step_compute_s"]


@pytest.mark.parametrize("benchmark", ["cosmoflow", "deepcam", "opencatalyst"])
def test_more_gpus_less_compute_per_epoch(pm2021: Machine, benchmark: str) -> None:
    nodes = load_training().mlperf[benchmark].nodes
    small = predict_mlperf(pm2021, benchmark, nodes=nodes // 2)
    large = predict_mlperf(pm2021, benchmark, nodes=nodes)
    assert large.breakdown["compute_s"] < small.breakdown["compute_s"]


def test_deterministic(pm2021: Machine) -> None:
    first = predict_mlperf(pm2021, "cosmoflow").as_json()
    assert predict_mlperf(pm2021, "cosmoflow").as_json() == first


def test_global_batch_limits_gpus(pm2021: Machine) -> None:
    with pytest.raises(PerfModelError, match="global batch"):
        predict_mlperf(pm2021, "cosmoflow", nodes=512)


def test_unknown_benchmark(pm2021: Machine) -> None:
    with pytest.raises(PerfModelError, match="resnet"):
        predict_mlperf(pm2021, "resnet")


def test_larger_message_longer_allreduce(pm2021: Machine) -> None:
    perf = gpu_node(pm2021, None, 1)
    assert dp_allreduce_s(perf, 2e8, 4, 64) > dp_allreduce_s(perf, 1e8, 4, 64) > 0


def test_faster_network_today(pm: Machine, pm2021: Machine) -> None:
    assert predict_mlperf(pm, "deepcam").run_s < predict_mlperf(pm2021, "deepcam").run_s


def test_llm_flops_are_6nd_plus_attention(pm: Machine) -> None:
    prediction = predict_llm(pm, params_b=1.3, tokens_b=26, nodes=8, global_batch=512)
    six_nd = 6 * 1.3e9 * 26e9
    inputs = prediction.inputs
    attention = 6 * inputs["layers"] * inputs["seq_len"] * inputs["hidden"] * 26e9
    assert prediction.figures["total_flops"] == pytest.approx(six_nd + attention)
    assert 1.0 < prediction.figures["total_flops"] / six_nd < 1.1


def test_llm_figures(pm: Machine) -> None:
    prediction = predict_llm(pm, params_b=175, tokens_b=300, nodes=512, tp=4, pp=32, recompute=True)
    figures = prediction.figures
    assert prediction.inputs["layers"] == 96 and prediction.inputs["hidden"] == 12288
    assert figures["node_hours"] == pytest.approx(512 * figures["days"] * 24)
    assert 0.0 < figures["mfu"] < 0.5
    assert figures["bubble_fraction"] == pytest.approx(31 / (128 + 31))
    assert figures["memory_per_gpu_gb"] < 40
    assert figures["step_time_s"] >= prediction.breakdown["compute_s"] / figures["steps"]


def test_llm_that_cannot_fit_raises(pm: Machine) -> None:
    with pytest.raises(PerfModelError, match="GB per GPU"):
        predict_llm(pm, params_b=175, tokens_b=300, nodes=16)


def test_llm_impossible_layout(pm: Machine) -> None:
    with pytest.raises(PerfModelError, match="tp x pp"):
        predict_llm(pm, params_b=1, tokens_b=1, nodes=1, tp=3)


def test_predict_train_routes_and_checks(pm: Machine) -> None:
    llm = predict_train(pm, None, 8, {"model": "llm", "params_b": 1.3, "tokens_b": 26, "global_batch": 512})
    assert llm.figures["days"] > 0
    assert predict_train(pm, "gpu-80gb", 256, {"model": "cosmoflow"}).node_type == "gpu-80gb"
    with pytest.raises(PerfModelError, match="unknown train model 'bert'"):
        predict_train(pm, None, 8, {"model": "bert"})
    with pytest.raises(PerfModelError, match="'dropout'"):
        predict_train(pm, None, 8, {"model": "llm", "params_b": 1, "tokens_b": 1, "dropout": 0.1})
    with pytest.raises(PerfModelError, match="'tp' must be int"):
        predict_train(pm, None, 8, {"model": "llm", "params_b": 1, "tokens_b": 1, "tp": "4"})
    with pytest.raises(PerfModelError, match="takes no parameters"):
        predict_train(pm, None, 8, {"model": "deepcam", "tp": 2})
