"""The default workload of ``pmtwin simulate``: a small, documented synthetic GPU+CPU mix for Perlmutter.

This is the simple embedded default, not a calibrated model. Each partition ("gpu", "cpu") gets its own
stream of jobs, drawn independently of the other (one child of ``SeedSequence(seed)`` per partition):

- arrivals: a Poisson process whose rate follows a daily cycle (piecewise constant per hour, t = 0 is
  midnight local time); the mean rate is set so that the offered load
  ``sum(work_s * size) / (nodes * days * 86400)`` is ``DefaultMix.offered_load`` in expectation over
  whole days;
- QOS: ``debug`` (at most ``debug_max_nodes`` nodes, limits up to 30 min) or ``regular`` (limits up to
  48 h); the QOS only shapes size and limit, the job table has no QOS column;
- size in nodes: a power of two 2**k with P(k) proportional to 2**(-size_tail_exponent * k), truncated
  to sizes within the QOS cap, the partition and (for hbm80g jobs) the 80 GB node count;
- requested_s: a typical user limit from the QOS's table, independent of size;
- work_s: requested_s times an accuracy fraction (piecewise-linear quantile function), rounded up to
  whole seconds, at least 1 s and at most requested_s;
- a share of GPU jobs asks for hbm80g when the machine has 80 GB nodes; gpus = 4 per GPU node;
- users from a Zipf law over a fixed population, the same population for both partitions.

Sources: ``perlmutter.md`` is the project's reference sheet (``shared/reference``); "Edison 2015" is the
ScSF NERSC Edison 2015 histograms (``shared/data/nersc-edison-2015``); the daily cycle was fitted to the
Parallel Workloads Archive traces in ``shared/data/traces``. None of these files is read at run time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from numbers import Real

import numpy as np
from numpy.typing import NDArray

from pmtwin.workload.jobs import JobTable

PARTITION_NAMES: tuple[str, ...] = ("gpu", "cpu")
"""Partition codes of the generated table: 0 = gpu, 1 = cpu."""

CONSTRAINT_NAMES: tuple[str, ...] = ("", "hbm80g")
"""Constraint codes: 0 = none, 1 = the 80 GB A100 nodes."""

GPUS_PER_GPU_NODE = 4
"""4x A100 per GPU node (perlmutter.md section 1, ARCH and MLJ)."""

SECONDS_PER_DAY = 86400.0
SECONDS_PER_HOUR = 3600.0
HOURS_PER_DAY = 24


def _check(ok: bool, name: str, message: str) -> None:
    if not ok:
        raise ValueError(f"DefaultMix.{name} {message}")


@dataclass(frozen=True)
class DefaultMix:
    """Every parameter of the default workload; override any of them with ``dataclasses.replace``.

    With these defaults the full Perlmutter (1,792 GPU + 3,072 CPU nodes) gets about 1.0 M jobs per
    365 days (2,800 a day), at offered load 0.85 per partition.
    """

    offered_load: float = 0.85
    """Expected sum(work_s * size) / (nodes * horizon) per partition: busy, yet a stable queue."""

    daily_amplitude: float = 0.65
    """Arrival rate at hour h is mean * (1 + amplitude * cos(2 pi (h + 0.5 - peak) / 24)). First-harmonic
    fit of hourly submit counts (local time): CEA Curie 2011 0.63, SDSC Blue 2000 0.67."""

    daily_peak_hour: float = 13.75
    """Hour of the arrival peak, local time; same fits: Curie 14.3 h, SDSC Blue 13.2 h."""

    debug_share: float = 0.25
    """Share of jobs in the debug QOS. Assumption: debug is Perlmutter's default QOS (perlmutter.md
    section 4); the Edison 2015 limit histogram puts 90% of jobs at limits <= 30 min, but it is a coarse
    sample, and the regular QOS must carry the machine's node-hours."""

    debug_max_nodes: int = 8
    """Debug QOS node cap (perlmutter.md section 4, QOS limits, provisional)."""

    debug_limits_s: tuple[float, ...] = (600.0, 1200.0, 1800.0)
    """Debug time limits: 10, 20, 30 min (debug maximum 30 min, perlmutter.md section 4)."""

    debug_limit_weights: tuple[float, ...] = (0.30, 0.05, 0.55)
    """Relative weights of ``debug_limits_s``: the Edison 2015 wall-clock-limit histogram's bins at
    10, 20 and 30 min (its 1 min bin, 0.05, merged into 10 min)."""

    regular_limits_s: tuple[float, ...] = (1800.0, 3600.0, 7200.0, 21600.0, 43200.0, 86400.0, 172800.0)
    """Regular time limits: 30 min, 1, 2, 6, 12, 24, 48 h (regular maximum 48 h, perlmutter.md section 4)."""

    regular_limit_weights: tuple[float, ...] = (0.10, 0.10, 0.10, 0.15, 0.15, 0.20, 0.20)
    """Relative weights of ``regular_limits_s``. Assumption, set with ``size_tail_exponent`` so that the
    full machine gets about 1 M jobs a year at ``offered_load`` (mean regular limit 17.4 h)."""

    size_tail_exponent: float = 0.75
    """alpha in P(size = 2**k) ~ 2**(-alpha k): 1 would give every power-of-two class the same
    node-hours; 0.75 tilts them towards large jobs (on 1,792 GPU nodes the 1,024-node class carries 19%
    of the node-hours) while 79% of regular jobs have <= 4 nodes. Assumption, set with
    ``regular_limit_weights`` for the job volume above."""

    hbm80g_share: float = 0.10
    """Share of GPU jobs that ask for hbm80g when the machine has 80 GB nodes. Assumption, below the
    80 GB nodes' 14% of GPU nodes (256 of 1,792, perlmutter.md section 1): their offered load on the
    80 GB nodes is then about 0.42, leaving room for unconstrained jobs there."""

    accuracy_probs: tuple[float, ...] = (0.0, 0.45, 1.0)
    """Cumulative probabilities of the accuracy quantile function (work_s / requested_s)."""

    accuracy_values: tuple[float, ...] = (0.0039, 0.0139, 0.6739)
    """Accuracy at ``accuracy_probs``, linear in between. From the Edison 2015 accuracy histogram: 45% of
    jobs in its first bin (0.0039-0.0139, early exits), the rest spread uniformly up to its last bin's
    upper edge (0.6739). Mean 0.192 (the histogram's own mean is 0.174)."""

    users: int = 2000
    """Number of users submitting jobs. Assumption."""

    user_zipf_exponent: float = 1.0
    """P(user of rank r) ~ r**(-exponent); with 2,000 users the busiest submits 12% of jobs. Assumption."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            values = value if isinstance(value, tuple) else (value,)
            if not all(math.isfinite(v) for v in values):
                raise ValueError(f"DefaultMix.{f.name} must be finite, got {value!r}")
        _check(self.offered_load > 0.0, "offered_load", "must be > 0")
        _check(0.0 <= self.daily_amplitude < 1.0, "daily_amplitude", "must be in [0, 1)")
        _check(0.0 <= self.debug_share <= 1.0, "debug_share", "must be in [0, 1]")
        _check(0.0 <= self.hbm80g_share <= 1.0, "hbm80g_share", "must be in [0, 1]")
        _check(self.debug_max_nodes >= 1, "debug_max_nodes", "must be >= 1")
        _check(self.size_tail_exponent > 0.0, "size_tail_exponent", "must be > 0")
        _check(self.users >= 1, "users", "must be >= 1")
        _check(self.user_zipf_exponent >= 0.0, "user_zipf_exponent", "must be >= 0")
        for qos in ("debug", "regular"):
            limits, weights = getattr(self, f"{qos}_limits_s"), getattr(self, f"{qos}_limit_weights")
            _check(len(limits) == len(weights) > 0, f"{qos}_limit_weights", "needs one weight per limit")
            _check(all(v >= 1.0 and v == int(v) for v in limits), f"{qos}_limits_s", "whole seconds >= 1")
            positive = min(weights) >= 0.0 and sum(weights) > 0.0
            _check(positive, f"{qos}_limit_weights", "must be non-negative with a positive sum")
        probs, values = self.accuracy_probs, self.accuracy_values
        _check(len(probs) == len(values) >= 2, "accuracy_values", "needs one value per probability")
        _check(probs[0] == 0.0 and probs[-1] == 1.0, "accuracy_probs", "must run from 0 to 1")
        _check(bool(np.all(np.diff(probs) >= 0.0)), "accuracy_probs", "must be non-decreasing")
        _check(bool(np.all(np.diff(values) >= 0.0)), "accuracy_values", "must be non-decreasing")
        _check(values[0] >= 0.0 and values[-1] <= 1.0, "accuracy_values", "must lie in [0, 1]")


DEFAULT_MIX = DefaultMix()


def default_workload(
    *,
    days: float,
    seed: int,
    partition_nodes: Mapping[str, int],
    hbm80g_nodes: int = 0,
    mix: DefaultMix = DEFAULT_MIX,
) -> JobTable:
    """The default synthetic Perlmutter workload over ``days`` days (fractional allowed).

    ``partition_nodes`` gives the node count of "gpu" and "cpu" (e.g. {"gpu": 1792, "cpu": 3072});
    ``hbm80g_nodes`` is how many of the GPU nodes have 80 GB GPUs (0 for perlmutter-2021). Same
    arguments give byte-identical columns. Rows are in (submit_s, job_id) order, job ids 1..n.
    """
    horizon_s = _check_days(days)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    nodes = _check_nodes(partition_nodes, hbm80g_nodes)
    streams = np.random.SeedSequence(int(seed)).spawn(len(PARTITION_NAMES))
    parts = [
        _partition_jobs(np.random.default_rng(stream), code, nodes[name], hbm80g_nodes, horizon_s, mix)
        for code, (name, stream) in enumerate(zip(PARTITION_NAMES, streams, strict=True))
    ]
    cols = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    order = np.argsort(cols["submit_s"], kind="stable")
    n = len(order)
    return JobTable(
        job_id=np.arange(1, n + 1, dtype=np.int64),
        submit_s=cols["submit_s"][order],
        work_s=cols["work_s"][order],
        requested_s=cols["requested_s"][order],
        size=cols["size"][order],
        partition=cols["partition"][order].astype(np.int32),
        partition_names=PARTITION_NAMES,
        user=cols["user"][order],
        constraint=cols["constraint"][order].astype(np.int32),
        constraint_names=CONSTRAINT_NAMES,
        gpus=cols["gpus"][order],
    )


def mean_node_s_per_job(mix: DefaultMix, partition_nodes: int, hbm80g_nodes: int = 0) -> float:
    """Expected work_s * size of one job of a partition (to within the rounding of work_s up to 1 s)."""
    hbm_share = mix.hbm80g_share if hbm80g_nodes > 0 else 0.0
    total = 0.0
    for qos_share, qos_cap, limits, weights in (
        (mix.debug_share, mix.debug_max_nodes, mix.debug_limits_s, mix.debug_limit_weights),
        (1.0 - mix.debug_share, partition_nodes, mix.regular_limits_s, mix.regular_limit_weights),
    ):
        mean_limit_s = float(np.dot(limits, weights) / np.sum(weights))
        mean_size = (1.0 - hbm_share) * _mean_size(mix, min(qos_cap, partition_nodes))
        if hbm_share > 0.0:
            mean_size += hbm_share * _mean_size(mix, min(qos_cap, hbm80g_nodes))
        total += qos_share * mean_limit_s * mean_size
    probs, values = np.asarray(mix.accuracy_probs), np.asarray(mix.accuracy_values)
    mean_accuracy = float(np.sum(np.diff(probs) * (values[1:] + values[:-1]) / 2.0))
    return total * mean_accuracy


def _partition_jobs(
    rng: np.random.Generator, code: int, nodes: int, hbm80g_nodes: int, horizon_s: float, mix: DefaultMix
) -> dict[str, NDArray[np.generic]]:
    """One partition's jobs in submit order (draws in a fixed order from this partition's stream)."""
    is_gpu = PARTITION_NAMES[code] == "gpu"
    hbm_nodes = hbm80g_nodes if is_gpu else 0
    mean_rate_per_s = mix.offered_load * nodes / mean_node_s_per_job(mix, nodes, hbm_nodes)
    submit_s = _arrivals_s(rng, mean_rate_per_s, horizon_s, mix)
    n = len(submit_s)
    debug = rng.random(n) < mix.debug_share
    hbm = rng.random(n) < mix.hbm80g_share if hbm_nodes > 0 else np.zeros(n, bool)
    qos_cap = np.where(debug, min(mix.debug_max_nodes, nodes), nodes)
    size = _power_of_two_sizes(rng, np.where(hbm, np.minimum(qos_cap, hbm_nodes), qos_cap), mix)
    u_limit = rng.random(n)
    requested_s = np.where(
        debug,
        _table_draw(u_limit, mix.debug_limits_s, mix.debug_limit_weights),
        _table_draw(u_limit, mix.regular_limits_s, mix.regular_limit_weights),
    )
    accuracy = np.interp(rng.random(n), mix.accuracy_probs, mix.accuracy_values)
    work_s = np.clip(np.ceil(requested_s * accuracy), 1.0, requested_s)
    user = _zipf_users(rng, n, mix)
    return {
        "submit_s": submit_s,
        "work_s": work_s,
        "requested_s": requested_s,
        "size": size,
        "partition": np.full(n, code, np.int32),
        "user": user,
        "constraint": hbm.astype(np.int32),
        "gpus": size * GPUS_PER_GPU_NODE if is_gpu else np.zeros(n, np.int64),
    }


def _arrivals_s(
    rng: np.random.Generator, mean_rate_per_s: float, horizon_s: float, mix: DefaultMix
) -> NDArray[np.float64]:
    """Sorted submit times in whole seconds of a Poisson process with an hourly daily cycle on [0, horizon).

    The count is Poisson with the integrated rate; given the count, the times are the order statistics
    of i.i.d. draws with density proportional to the rate: sorted uniforms (normalised cumulative sums
    of exponential spacings) mapped through the inverse of the piecewise-linear cumulative rate.
    """
    hour_starts_s = np.arange(0.0, horizon_s, SECONDS_PER_HOUR)
    hour_of_day = np.arange(len(hour_starts_s)) % HOURS_PER_DAY
    phase = 2.0 * np.pi * (hour_of_day + 0.5 - mix.daily_peak_hour) / HOURS_PER_DAY
    rate_per_s = mean_rate_per_s * (1.0 + mix.daily_amplitude * np.cos(phase))
    knots_s = np.append(hour_starts_s, horizon_s)
    cumulative = np.concatenate(([0.0], np.cumsum(rate_per_s * np.diff(knots_s))))
    n = int(rng.poisson(cumulative[-1]))
    spacings = np.cumsum(rng.standard_exponential(n + 1))
    targets = spacings[:-1] * (cumulative[-1] / spacings[-1])
    submit_s: NDArray[np.float64] = np.floor(np.interp(targets, cumulative, knots_s))
    return np.minimum(submit_s, math.ceil(horizon_s) - 1.0)


def _power_of_two_sizes(
    rng: np.random.Generator, cap_nodes: NDArray[np.int64], mix: DefaultMix
) -> NDArray[np.int64]:
    """2**k with P(k) ~ r**k, r = 2**-alpha, k = 0..floor(log2(cap)) per row, by the inverse CDF."""
    max_k = np.floor(np.log2(cap_nodes)).astype(np.int64)
    max_k -= (np.left_shift(1, max_k) > cap_nodes).astype(np.int64)  # guard against log2 rounding up
    log_r = -mix.size_tail_exponent * math.log(2.0)
    tail = np.exp(log_r * (max_k + 1))  # r**(K + 1)
    k = np.floor(np.log1p(-rng.random(len(cap_nodes)) * (1.0 - tail)) / log_r).astype(np.int64)
    size: NDArray[np.int64] = np.left_shift(1, np.clip(k, 0, max_k)).astype(np.int64)
    return size


def _mean_size(mix: DefaultMix, cap_nodes: int) -> float:
    """Mean of the truncated power-of-two size law of ``_power_of_two_sizes`` for one cap."""
    k = np.arange(cap_nodes.bit_length())
    weights = np.exp2(-mix.size_tail_exponent * k)
    return float(np.dot(weights, np.exp2(k)) / np.sum(weights))


def _table_draw(
    u: NDArray[np.float64], values: tuple[float, ...], weights: tuple[float, ...]
) -> NDArray[np.float64]:
    """The value whose cumulative-weight interval holds each uniform ``u``."""
    cdf = np.cumsum(weights) / np.sum(weights)
    index = np.minimum(np.searchsorted(cdf, u, side="right"), len(values) - 1)
    return np.asarray(values, np.float64)[index]


def _zipf_users(rng: np.random.Generator, n: int, mix: DefaultMix) -> NDArray[np.int64]:
    """User ids 1..users, id r with probability ~ r**-exponent."""
    cdf = np.cumsum(np.arange(1, mix.users + 1, dtype=np.float64) ** -mix.user_zipf_exponent)
    index = np.searchsorted(cdf / cdf[-1], rng.random(n), side="right")
    return np.minimum(index, mix.users - 1).astype(np.int64) + 1


def _check_days(days: float) -> float:
    """The horizon in seconds; ``days`` must be a finite number > 0."""
    if isinstance(days, bool) or not isinstance(days, Real) or not math.isfinite(days) or days <= 0:
        raise ValueError(f"days must be a finite number > 0, got {days!r}")
    return float(days) * SECONDS_PER_DAY


def _check_nodes(partition_nodes: Mapping[str, int], hbm80g_nodes: int) -> dict[str, int]:
    """Node count per partition; exactly "gpu" and "cpu", each a positive integer."""
    missing = [name for name in PARTITION_NAMES if name not in partition_nodes]
    unknown = sorted(set(partition_nodes) - set(PARTITION_NAMES))
    if missing or unknown:
        raise ValueError(
            f"partition_nodes must name exactly {list(PARTITION_NAMES)}; missing {missing}, unknown {unknown}"
        )
    nodes: dict[str, int] = {}
    for name in PARTITION_NAMES:
        count = partition_nodes[name]
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count <= 0:
            raise ValueError(f"partition_nodes[{name!r}] must be a positive integer, got {count!r}")
        nodes[name] = int(count)
    ok = not isinstance(hbm80g_nodes, bool) and isinstance(hbm80g_nodes, int | np.integer)
    if not ok or not 0 <= hbm80g_nodes <= nodes["gpu"]:
        raise ValueError(
            f"hbm80g_nodes must be an integer in [0, {nodes['gpu']}] (the GPU nodes), got {hbm80g_nodes!r}"
        )
    return nodes
