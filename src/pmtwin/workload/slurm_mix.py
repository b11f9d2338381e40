"""Slurm features over a job table: users and accounts, QOS, time limits, shared jobs, arrays, dependencies.

``with_slurm_features`` takes a generated workload (``generate.py``) and returns a copy with Slurm
features, drawn from a ``numpy.random.Generator`` (same generator state, same table). The number of
jobs, their ids, sizes, partitions, constraints and work stay; what changes is documented per step
below. The rules it must respect are those of Slurm mode
(docs/slurm-scheduling.md) under the Perlmutter QOS table (src/pmtwin/sched/qos/perlmutter.toml):

1. users and accounts: rows without a user (-1) get one from a Zipf law over ``SlurmMix.users``; rows
   without an account (-1) get their user's account, one per user from a Zipf law over
   ``SlurmMix.accounts`` (a few accounts hold many users);
2. time limits: ``limit_s`` is the requested time, capped at regular's 48 h;
3. QOS, in this order, each among the jobs eligible for it that no earlier step took (the eligibility
   is what the QOS accepts, so no job is rejected for its size, time limit or shared request):
   realtime (a DESI-like nightly stream of small GPU jobs under one collaboration user and account),
   debug, interactive, premium, preempt, overrun, then shared among the 1-node jobs left; everything
   else is regular. QOS with a small per-user submit limit (debug 5, interactive 2, premium 5) keep a
   job only while the user has fewer than that many jobs of the QOS kept within a window before it
   (else the job stays regular), so that the limit, checked at submission against the user's queued and
   running jobs, holds whenever those jobs end within the window;
4. under-estimates: a share of jobs (not realtime, not preempt) get a time limit below their run time
   (they end TIMEOUT under ``walltime = "kill"``; ``requested_s`` stays >= the run time for trace mode);
5. job arrays: some users' regular or shared jobs of one shape (partition, constraint, QOS, size; not
   under-estimated), submitted within one window, become one array: every task takes the first task's
   submit time (tasks move earlier by less than the window) and the largest time limit of the tasks
   (still >= each run time), the array id is the first task's job id, and some arrays get a throttle;
6. shared requests: a shared job (size 1) asks for at most the QOS's share of a node: CPU cores (memory
   in proportion), or on GPU nodes 1 or 2 GPUs with the cores and memory in proportion; one draw per
   array, so an array's tasks ask alike;
7. dependencies: a share of jobs depend (afterok, some afterany) on their user's previous job in
   canonical order (submit time, job id); each night's DESI jobs depend afterok on the night's first.

A workload that already has QOS (every job in one of ``QOS_NAMES``, as the Perlmutter model generates
them) keeps them: steps 3 and 6 are skipped (its realtime jobs, shared requests and dependencies are its
own; an array's tasks take its first task's requests), and its dependencies are kept beside step 7's.

Every parameter of ``SlurmMix`` names its source or is marked as an assumption.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

import numpy as np
from numpy.typing import NDArray

from pmtwin.workload.draws import shared_request, zipf_ranks
from pmtwin.workload.jobs import AFTERANY, AFTEROK, UNKNOWN, Dependencies, JobTable
from pmtwin.workload.submit_limits import dense_ids, over_submit_limit, rows_by_user

QOS_NAMES: tuple[str, ...] = (
    "regular", "debug", "premium", "overrun", "shared", "interactive", "realtime", "preempt",
)  # fmt: skip
"""QOS codes of the returned table (``qos_names``): 0 = regular, ... 7 = preempt."""

REGULAR, DEBUG, PREMIUM, OVERRUN, SHARED, INTERACTIVE, REALTIME, PREEMPT = range(len(QOS_NAMES))

SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86400.0
SECONDS_PER_MINUTE = 60.0

_SHARE_FIELDS = (
    "debug_share", "interactive_share", "premium_share", "preempt_share", "overrun_share",
    "shared_cpu_share", "shared_gpu_share", "shared_one_gpu_share", "underestimate_share",
    "array_user_share", "array_throttle_share", "dependency_share", "afterany_share",
)  # fmt: skip


def _check(ok: bool, name: str, message: str) -> None:
    if not ok:
        raise ValueError(f"SlurmMix.{name} {message}")


@dataclass(frozen=True)
class SlurmMix:
    """Every parameter of the Slurm layer; override any of them with ``dataclasses.replace``.

    Shares are probabilities among the jobs eligible for a feature (as each parameter says). On 30
    days of the Perlmutter model stripped of its QOS, accounts and DESI jobs (118,971 jobs; workload
    seed 0, ``default_rng(0)``; ``tests/workload/bare.py``) the defaults give: regular 67.7%, debug
    11.7% (heavy users' debug jobs beyond the submit limit stay regular), shared 14.2%, preempt 2.5%,
    premium 1.8%, realtime 0.5% (22 jobs a night), interactive 0.8%, overrun 0.8%; time limit below the
    run time 1.6%; 15.6% of jobs in 3,936 arrays; 2.4% of jobs with a dependency. The array share
    varies with the seed: it depends on whether the busiest users are array users.
    """

    users: int = 400
    """Users drawn for rows without one. Assumption ("a few hundred users")."""

    user_zipf_exponent: float = 1.0
    """P(user of rank r) ~ r**-exponent; with 400 users the busiest submits 15% of jobs. Assumption,
    as the Perlmutter workload model's users."""

    accounts: int = 100
    """Accounts (Slurm accounts, NERSC projects) users are spread over. Assumption."""

    account_zipf_exponent: float = 1.0
    """P(a user's account has rank r) ~ r**-exponent: a few large projects, many small ones. Assumption."""

    max_limit_s: float = 172800.0
    """Time limits are capped here: regular's (and every bounded QOS's) maximum, 48 h (perlmutter.toml)."""

    realtime_jobs_per_night: float = 20.0
    """Expected DESI realtime jobs per night. Assumption from RM section 5: about 33 exposures a night,
    processed by one "tilenight" job per tile (a tile is one to a few exposures) plus calibrations."""

    realtime_max_nodes: int = 5
    """Realtime jobs' size cap: DESI caps science jobs at 5 nodes so two fit in its 10-node realtime
    allotment (RM section 5, desispec batch_config.yaml); the realtime QOS allows 10 per job."""

    realtime_max_limit_s: float = 3600.0
    """Realtime jobs' time-limit cap. Assumption: a tilenight job budgets 140 frames per GPU node-hour
    plus 40 min overhead (RM section 5), so about an hour."""

    night_hours: tuple[float, float] = (19.0, 7.0)
    """Local hours (start, end) in which DESI realtime jobs are submitted: the observing night.
    Assumption (telescope at Kitt Peak, near the machine's time zone; t = 0 is midnight)."""

    debug_share: float = 0.8
    """Share of debug-eligible jobs (at most ``debug_max_nodes`` nodes and ``debug_max_limit_s``) put in
    debug. Assumption: most of a workload's <= 30 min jobs of <= 8 nodes; the rest are short production
    runs in regular."""

    debug_max_nodes: int = 8
    """Debug QOS node cap (perlmutter.toml: RM section 4; PMGPU)."""

    debug_max_limit_s: float = 1800.0
    """Debug QOS walltime cap, 30 min (perlmutter.toml: RM section 4; PMGPU)."""

    debug_max_submitted: int = 5
    """Debug QOS submit limit per user (perlmutter.toml: CORI)."""

    debug_window_s: float = 2 * SECONDS_PER_DAY
    """A debug job stays debug only if its user has fewer than ``debug_max_submitted`` debug jobs
    submitted in the window before it (0: no check). Assumption: two days covers the longest queue waits
    of small jobs in 30-day runs (below a day, FIFO or NERSC priority) plus 30 min of run time."""

    interactive_share: float = 0.05
    """Share of interactive-eligible jobs (at most ``interactive_max_nodes`` nodes and
    ``interactive_max_limit_s``) not taken by debug put in interactive. Assumption."""

    interactive_max_nodes: int = 4
    """Interactive QOS node cap (perlmutter.toml: RM section 4; PMGPU)."""

    interactive_max_limit_s: float = 14400.0
    """Interactive QOS walltime cap, 4 h (perlmutter.toml: RM section 4; PMGPU)."""

    interactive_max_submitted: int = 2
    """Interactive QOS submit limit per user (perlmutter.toml: CORI)."""

    interactive_window_s: float = 2 * SECONDS_PER_DAY
    """As ``debug_window_s`` for interactive (up to 4 h of run time). Assumption."""

    premium_share: float = 0.03
    """Share of the remaining jobs put in premium. Assumption ("a few %"; premium costs twice)."""

    premium_max_submitted: int = 5
    """Premium QOS submit limit per user (perlmutter.toml: CORI)."""

    premium_window_s: float = 7 * SECONDS_PER_DAY
    """As ``debug_window_s`` for premium. Assumption: up to 48 h of run time after waits of up to
    four days for the largest jobs under FIFO."""

    preempt_share: float = 0.04
    """Share of the remaining preempt-eligible jobs (at most ``preempt_max_nodes`` nodes, limit at least
    ``preempt_min_limit_s``) put in preempt. Assumption ("a few %"; preempt costs a quarter)."""

    preempt_max_nodes: int = 128
    """Preempt QOS node cap (perlmutter.toml: PMGPU; PMPRE)."""

    preempt_min_limit_s: float = 7200.0
    """Preempt jobs must ask for at least 2 h (PMPRE; not checked by the scheduler, respected here)."""

    overrun_share: float = 0.01
    """Share of the remaining jobs put in overrun. Assumption (~1%: projects past their allocation)."""

    shared_cpu_share: float = 0.4
    """Share of the remaining 1-node jobs on CPU nodes put in shared. Assumption (many CPU jobs are
    small serial or threaded runs that need part of a node)."""

    shared_gpu_share: float = 0.25
    """Share of the remaining 1-node jobs on GPU nodes put in shared. Assumption."""

    shared_max_node_fraction: float = 0.5
    """The shared QOS's largest share of a node (perlmutter.toml: RM section 4; PMGPU)."""

    shared_one_gpu_share: float = 0.6
    """Share of shared GPU jobs asking for one GPU; the others ask for the most the fraction allows (2 of
    4). Assumption. A shared CPU job asks for 2**k cores, k uniform in 0..log2(the most allowed, 64 of
    128) (assumption); cores and memory are in proportion to the GPUs or cores asked for."""

    underestimate_share: float = 0.02
    """Share of jobs (not realtime, not preempt, run time > 1 min) whose time limit is below their run
    time: they are killed (TIMEOUT) under walltime "kill". Assumption."""

    underestimate_fraction: tuple[float, float] = (0.5, 0.95)
    """An under-estimated limit is the run time times U(low, high), rounded down to whole minutes (at
    least 1 min). Assumption."""

    array_user_share: float = 0.3
    """Share of users who submit their regular and shared jobs of one shape as job arrays. Assumption."""

    array_window_s: float = 4 * SECONDS_PER_HOUR
    """An array user's jobs of one shape submitted in one window (aligned per user at a random phase)
    form one array, submitted at the first task's time. Assumption."""

    array_max_tasks: int = 64
    """Most tasks in one array; longer groups are split. Assumption."""

    array_throttle_share: float = 0.3
    """Share of arrays with a throttle (``--array=...%k``). Assumption."""

    array_throttles: tuple[int, ...] = (2, 4, 8)
    """Throttles, equally likely. Assumption (%4 is the example in docs/slurm-scheduling.md)."""

    dependency_share: float = 0.03
    """Share of the jobs that can depend on their user's previous job (regular, shared, overrun or
    preempt; not array tasks, not realtime) that do. Assumption ("a few %")."""

    afterany_share: float = 0.25
    """Share of those dependencies that are afterany (the rest afterok). Assumption."""

    desi_chains: bool = True
    """Each night's realtime jobs depend afterok on the night's first (its calibration job), as DESI's
    pipeline chains tilenight jobs on the night's calibrations (RM section 5). Assumption on the shape."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            values = value if isinstance(value, tuple) else (value,)
            if not all(math.isfinite(v) for v in values):
                raise ValueError(f"SlurmMix.{f.name} must be finite, got {value!r}")
        for name in _SHARE_FIELDS:
            _check(0.0 <= getattr(self, name) <= 1.0, name, "must be in [0, 1]")
        for name in ("users", "accounts", "realtime_max_nodes", "debug_max_nodes", "interactive_max_nodes",
                     "preempt_max_nodes", "array_max_tasks"):  # fmt: skip
            _check(getattr(self, name) >= 1, name, "must be >= 1")
        for name in ("debug_max_submitted", "interactive_max_submitted", "premium_max_submitted"):
            _check(getattr(self, name) >= 0, name, "must be >= 0 (0: no limit)")
        for name in ("debug_window_s", "interactive_window_s", "premium_window_s", "realtime_jobs_per_night",
                     "user_zipf_exponent", "account_zipf_exponent"):  # fmt: skip
            _check(getattr(self, name) >= 0.0, name, "must be >= 0")
        for name in ("max_limit_s", "realtime_max_limit_s", "debug_max_limit_s", "interactive_max_limit_s",
                     "array_window_s"):  # fmt: skip
            _check(getattr(self, name) > 0.0, name, "must be > 0")
        _check(0.0 < self.shared_max_node_fraction <= 1.0, "shared_max_node_fraction", "must be in (0, 1]")
        low, high = self.underestimate_fraction
        _check(0.0 < low <= high < 1.0, "underestimate_fraction", "must be (low, high), 0 < low <= high < 1")
        _check(all(0.0 <= h < 24.0 for h in self.night_hours), "night_hours", "must be hours in [0, 24)")
        _check(len(self.array_throttles) > 0 and min(self.array_throttles) >= 1, "array_throttles",
               "must be one or more throttles >= 1")  # fmt: skip


DEFAULT_SLURM_MIX = SlurmMix()


def with_slurm_features(
    jobs: JobTable,
    rng: np.random.Generator,
    mix: SlurmMix = DEFAULT_SLURM_MIX,
    *,
    cores_per_node: Mapping[str, int],
    gpus_per_node: Mapping[str, int],
    mem_mb_per_node: Mapping[str, int],
) -> JobTable:
    """A copy of ``jobs`` with users, accounts, QOS, time limits, shared requests, arrays and dependencies.

    The node dicts are keyed by partition name (e.g. ``{"gpu": 64, "cpu": 128}``) and must cover every
    partition of ``jobs``; a partition with GPUs per node > 0 is a GPU partition. ``jobs`` must have no
    QOS, arrays or dependencies yet and unique job ids. Rows stay in place (row i is the same job); job
    ids, sizes, partitions, constraints and work are unchanged; ``submit_s`` changes for array tasks
    only; ``user`` also for the DESI realtime stream, which runs as one new user in one new account.
    """
    cpn, gpn, mpn = _node_shapes(jobs, cores_per_node, gpus_per_node, mem_mb_per_node)
    assigned = _check_input(jobs)
    user, group = _people(jobs, rng, mix)
    limit = np.minimum(np.asarray(jobs.limit_s, np.float64), mix.max_limit_s)
    is_gpu = gpn[jobs.partition] > 0
    if assigned is None:
        qos, realtime = _assign_qos(jobs, rng, mix, user, group, limit, is_gpu, cpn, gpn)
    else:
        qos, realtime = assigned, assigned == REALTIME

    limit = _underestimates(jobs, rng, mix, limit, (qos != REALTIME) & (qos != PREEMPT))
    submit_s, limit, array_id, throttle, head = _arrays(jobs, rng, mix, dense_ids(user), qos, limit)
    if assigned is None:
        cores, gpus, mem_mb = _shared_requests(jobs, rng, mix, qos == SHARED, head, is_gpu, cpn, gpn, mpn)
    else:  # the table's own requests; an array's tasks ask as its first task
        cores, gpus, mem_mb = jobs.cores[head], jobs.gpus[head], jobs.mem_mb[head]
    chains = mix.desi_chains and assigned is None
    depends = _dependencies(jobs, rng, mix, dense_ids(user), qos, submit_s, array_id, realtime, chains)
    return replace(
        jobs,
        submit_s=submit_s,
        user=user,
        group=group,
        qos=qos,
        qos_names=QOS_NAMES,
        limit_s=limit,
        cores=cores,
        gpus=gpus,
        mem_mb=mem_mb,
        array_id=array_id,
        array_throttle=throttle,
        depends=depends,
    )


def _assign_qos(
    jobs: JobTable,
    rng: np.random.Generator,
    mix: SlurmMix,
    user: NDArray[np.int64],
    group: NDArray[np.int64],
    limit: NDArray[np.float64],
    is_gpu: NDArray[np.bool_],
    cpn: NDArray[np.int64],
    gpn: NDArray[np.int64],
) -> tuple[NDArray[np.int32], NDArray[np.bool_]]:
    """Step 3 (QOS, in place on ``user`` and ``group`` for the realtime stream) and the realtime rows."""
    n = len(jobs)
    qos = np.full(n, REGULAR, np.int32)
    realtime = _realtime(jobs, rng, mix, limit, is_gpu)
    qos[realtime] = REALTIME
    if realtime.any():
        user[realtime] = int(user.max()) + 1
        group[realtime] = int(group.max()) + 1
    dense_user = dense_ids(user)
    free = ~realtime
    size = jobs.size
    steps: tuple[tuple[int, float | NDArray[np.float64], NDArray[np.bool_]], ...] = (
        (DEBUG, mix.debug_share, (size <= mix.debug_max_nodes) & (limit <= mix.debug_max_limit_s)),
        (INTERACTIVE, mix.interactive_share,
         (size <= mix.interactive_max_nodes) & (limit <= mix.interactive_max_limit_s)),
        (PREMIUM, mix.premium_share, np.ones(n, bool)),
        (PREEMPT, mix.preempt_share, (size <= mix.preempt_max_nodes) & (limit >= mix.preempt_min_limit_s)),
        (OVERRUN, mix.overrun_share, np.ones(n, bool)),
        (SHARED, np.where(is_gpu, mix.shared_gpu_share, mix.shared_cpu_share),
         (size == 1) & _can_share(is_gpu, cpn, gpn, jobs.partition, mix)),
    )  # fmt: skip
    draws = rng.random((len(steps), n))
    for k, (code, share, eligible) in enumerate(steps):
        chosen = free & eligible & (draws[k] < share)
        qos[chosen] = code
        free &= ~chosen
    for code, limit_count, window_s in (
        (DEBUG, mix.debug_max_submitted, mix.debug_window_s),
        (INTERACTIVE, mix.interactive_max_submitted, mix.interactive_window_s),
        (PREMIUM, mix.premium_max_submitted, mix.premium_window_s),
    ):
        canonical = jobs.canonical_order()
        qos[over_submit_limit(jobs.submit_s, dense_user, qos == code, limit_count, window_s, canonical)] = (
            REGULAR
        )
    return qos, realtime


def _node_shapes(
    jobs: JobTable,
    cores_per_node: Mapping[str, int],
    gpus_per_node: Mapping[str, int],
    mem_mb_per_node: Mapping[str, int],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Cores, GPUs and memory of one node per partition code (only the partitions jobs use are needed)."""
    used = np.unique(jobs.partition) if len(jobs) else np.zeros(0, np.int32)
    shapes = []
    for what, table, least in (("cores_per_node", cores_per_node, 1), ("gpus_per_node", gpus_per_node, 0),
                               ("mem_mb_per_node", mem_mb_per_node, 1)):  # fmt: skip
        column = np.zeros(len(jobs.partition_names), np.int64)
        for code in used.tolist():
            name = jobs.partition_names[code]
            if name not in table:
                raise ValueError(f"{what} has no entry for partition {name!r}")
            value = table[name]
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
                raise ValueError(f"{what}[{name!r}] must be an integer >= {least}, got {value!r}")
            column[code] = int(value)
        shapes.append(column)
    return shapes[0], shapes[1], shapes[2]


def _check_input(jobs: JobTable) -> NDArray[np.int32] | None:
    """The table's QOS as codes into ``QOS_NAMES`` when it has any (None: step 3 assigns them)."""
    if np.any(jobs.array_id != UNKNOWN):
        raise ValueError("jobs already have job arrays")
    ids = jobs.job_id if np.all(jobs.job_id[1:] > jobs.job_id[:-1]) else np.sort(jobs.job_id)
    if np.any(ids[1:] == ids[:-1]):
        raise ValueError("job ids must be unique")
    used = {jobs.qos_names[code] for code in np.unique(jobs.qos).tolist()} if len(jobs) else set()
    if not any(used):
        if jobs.depends is not None and len(jobs.depends.job_id):
            raise ValueError("jobs without QOS must have no dependencies yet")
        return None
    unknown = sorted(used - set(QOS_NAMES))
    if unknown:
        raise ValueError(f"jobs have QOS {unknown} outside {list(QOS_NAMES)} (every job needs a QOS)")
    mapping = np.array([QOS_NAMES.index(name) if name in QOS_NAMES else REGULAR for name in jobs.qos_names])
    codes: NDArray[np.int32] = mapping[jobs.qos].astype(np.int32)
    return codes


def _can_share(
    is_gpu: NDArray[np.bool_],
    cpn: NDArray[np.int64],
    gpn: NDArray[np.int64],
    partition: NDArray[np.int32],
    mix: SlurmMix,
) -> NDArray[np.bool_]:
    """Rows whose node can host a shared job: one GPU (GPU nodes) or one core within the node fraction."""
    room = np.where(is_gpu, gpn[partition], cpn[partition]) * mix.shared_max_node_fraction
    fits: NDArray[np.bool_] = np.floor(room) >= 1
    return fits


def _people(
    jobs: JobTable, rng: np.random.Generator, mix: SlurmMix
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Users for rows without one (new ids after the known ones), then each user's account."""
    user = np.array(jobs.user, np.int64)
    group = np.array(jobs.group, np.int64)
    no_user = user < 0
    known_max = int(user[~no_user].max()) if np.any(~no_user) else 0
    drawn = zipf_ranks(rng, int(np.count_nonzero(no_user)), mix.users, mix.user_zipf_exponent)
    user[no_user] = known_max + drawn
    no_group = group < 0
    distinct, inverse = np.unique(user, return_inverse=True)
    group_base = int(group[~no_group].max()) if np.any(~no_group) else 0
    account_of_user = group_base + zipf_ranks(rng, len(distinct), mix.accounts, mix.account_zipf_exponent)
    group[no_group] = account_of_user[inverse.reshape(-1)][no_group]
    return user, group


def _realtime(
    jobs: JobTable,
    rng: np.random.Generator,
    mix: SlurmMix,
    limit: NDArray[np.float64],
    is_gpu: NDArray[np.bool_],
) -> NDArray[np.bool_]:
    """The DESI-like stream: small, short GPU jobs submitted at night, about ``realtime_jobs_per_night``."""
    n = len(jobs)
    night = _in_night(jobs.submit_s, mix)
    eligible = night & is_gpu & (jobs.size <= mix.realtime_max_nodes) & (limit <= mix.realtime_max_limit_s)
    u = rng.random(n)
    count = int(np.count_nonzero(eligible))
    if count == 0:
        return np.zeros(n, bool)
    nights = len(np.unique(_night_index(jobs.submit_s[night], mix)))
    p = min(1.0, mix.realtime_jobs_per_night * nights / count)
    chosen: NDArray[np.bool_] = eligible & (u < p)
    return chosen


def _in_night(submit_s: NDArray[np.float64], mix: SlurmMix) -> NDArray[np.bool_]:
    hour = np.mod(submit_s, SECONDS_PER_DAY) / SECONDS_PER_HOUR
    start, end = mix.night_hours
    inside: NDArray[np.bool_] = (
        (hour >= start) | (hour < end) if start > end else (hour >= start) & (hour < end)
    )
    return inside


def _night_index(submit_s: NDArray[np.float64], mix: SlurmMix) -> NDArray[np.int64]:
    """Nights numbered so that one night's hours (across midnight) share a number."""
    shift_s = (
        (24.0 - mix.night_hours[0]) * SECONDS_PER_HOUR if mix.night_hours[0] > mix.night_hours[1] else 0.0
    )
    return np.floor((submit_s + shift_s) / SECONDS_PER_DAY).astype(np.int64)


def _underestimates(
    jobs: JobTable,
    rng: np.random.Generator,
    mix: SlurmMix,
    limit: NDArray[np.float64],
    eligible: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """A share of jobs get a limit below their run time: run time x U(low, high), whole minutes, >= 1 min."""
    n = len(jobs)
    pick, frac = rng.random(n), rng.uniform(*mix.underestimate_fraction, size=n)
    chosen = eligible & (jobs.work_s > SECONDS_PER_MINUTE) & (pick < mix.underestimate_share)
    short = np.maximum(
        np.floor(jobs.work_s * frac / SECONDS_PER_MINUTE) * SECONDS_PER_MINUTE, SECONDS_PER_MINUTE
    )
    out: NDArray[np.float64] = np.where(chosen, np.minimum(short, limit), limit)
    return out


def _arrays(
    jobs: JobTable,
    rng: np.random.Generator,
    mix: SlurmMix,
    user: NDArray[np.integer],
    qos: NDArray[np.int32],
    limit: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], NDArray[np.intp]]:
    """Array tasks by grouping: submit times, time limits (an array's is the largest of its tasks'),
    array ids, throttles, and each row's first task's row (itself if not in an array)."""
    n = len(jobs)
    users = int(user.max()) + 1 if n else 0
    array_user = rng.random(users) < mix.array_user_share
    phase_s = rng.random(users) * mix.array_window_s
    submit_s = np.array(jobs.submit_s, np.float64)
    limit = np.array(limit, np.float64)
    array_id = np.full(n, UNKNOWN, np.int64)
    throttle = np.zeros(n, np.int64)
    head = np.arange(n, dtype=np.intp)
    rows = np.flatnonzero(array_user[user] & ((qos == REGULAR) | (qos == SHARED)) & (limit >= jobs.work_s))
    bucket = np.floor((submit_s[rows] + phase_s[user[rows]]) / mix.array_window_s)
    keys = (user[rows], jobs.partition[rows], jobs.constraint[rows], qos[rows], jobs.size[rows], bucket)
    order = np.lexsort((jobs.job_id[rows], submit_s[rows], *keys[::-1]))
    rows = rows[order]
    sorted_keys = [k[order] for k in keys]
    new_group = np.ones(len(rows), bool)
    if len(rows) > 1:
        new_group[1:] = np.any([k[1:] != k[:-1] for k in sorted_keys], axis=0)
    group_start = np.flatnonzero(new_group)
    group = np.cumsum(new_group) - 1
    position = np.arange(len(rows)) - group_start[group]
    new_array = new_group | (position % mix.array_max_tasks == 0)
    array_start = np.flatnonzero(new_array)
    array = np.cumsum(new_array) - 1
    tasks = np.diff(np.append(array_start, len(rows)))
    throttled = rng.random(len(array_start)) < mix.array_throttle_share
    throttles = rng.choice(np.asarray(mix.array_throttles, np.int64), size=len(array_start))
    real = tasks[array] >= 2
    members, first = rows[real], rows[array_start[array[real]]]
    if len(rows):
        limit[members] = np.maximum.reduceat(limit[rows], array_start)[array[real]]
    submit_s[members] = submit_s[first]
    array_id[members] = jobs.job_id[first]
    throttle[members] = np.where(throttled, throttles, 0)[array[real]]
    head[members] = first
    return submit_s, limit, array_id, throttle, head


def _shared_requests(
    jobs: JobTable,
    rng: np.random.Generator,
    mix: SlurmMix,
    shared: NDArray[np.bool_],
    head: NDArray[np.intp],
    is_gpu: NDArray[np.bool_],
    cpn: NDArray[np.int64],
    gpn: NDArray[np.int64],
    mpn: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Cores, GPUs and memory of shared jobs (drawn for each array's first task, copied to the others).

    GPU nodes: 1 GPU, or the most the node fraction allows, with the cores and memory of as many GPUs'
    share of the node. CPU nodes: 2**k cores, k uniform up to the most the fraction allows, with memory
    in proportion. Other jobs ask for no cores or memory and keep their ``gpus``.
    """
    n = len(jobs)
    u_gpu, u_cpu = rng.random(n), rng.random(n)
    cores, mem_mb = np.zeros(n, np.int64), np.zeros(n, np.int64)
    gpus = np.array(jobs.gpus, np.int64)
    rows = np.flatnonzero(shared)
    part, draw = jobs.partition[rows], head[rows]
    node_cores, node_gpus, node_mem = cpn[part], gpn[part], mpn[part]
    fraction = mix.shared_max_node_fraction
    most_gpus = np.maximum(np.floor(node_gpus * fraction).astype(np.int64), 1)
    gpu_count = np.where(u_gpu[draw] < mix.shared_one_gpu_share, 1, most_gpus)
    most_cores = np.maximum(np.floor(node_cores * fraction).astype(np.int64), 1)
    top_k = np.floor(np.log2(most_cores)).astype(np.int64)
    top_k -= (np.left_shift(1, top_k) > most_cores).astype(np.int64)
    cpu_cores = np.left_shift(1, np.minimum(np.floor(u_cpu[draw] * (top_k + 1)).astype(np.int64), top_k))
    asked = np.where(is_gpu[rows], gpu_count, cpu_cores)
    cores[rows], gpus[rows], mem_mb[rows] = shared_request(asked, node_cores, node_gpus, node_mem)
    return cores, gpus, mem_mb


def _dependencies(
    jobs: JobTable,
    rng: np.random.Generator,
    mix: SlurmMix,
    user: NDArray[np.integer],
    qos: NDArray[np.int32],
    submit_s: NDArray[np.float64],
    array_id: NDArray[np.int64],
    realtime: NDArray[np.bool_],
    chains: bool,
) -> Dependencies:
    """Afterok/afterany on the user's previous job in canonical order; DESI nights chained on their first
    (``chains``); the table's own dependencies kept."""
    n = len(jobs)
    canonical = np.lexsort((jobs.job_id, submit_s))
    rank = np.empty(n, np.int64)
    rank[canonical] = np.arange(n)
    by_user = rows_by_user(user, canonical)
    previous = np.full(n, -1, np.int64)
    same = user[by_user[1:]] == user[by_user[:-1]]
    previous[by_user[1:][same]] = by_user[:-1][same]
    may_depend = np.isin(qos, (REGULAR, SHARED, OVERRUN, PREEMPT)) & (array_id == UNKNOWN) & ~realtime
    pick, kind_draw = rng.random(n), rng.random(n)
    child = np.flatnonzero(may_depend & (previous >= 0) & (pick < mix.dependency_share))
    parent = previous[child]
    kind = np.where(kind_draw[child] < mix.afterany_share, AFTERANY, AFTEROK).astype(np.int8)
    if chains and realtime.any():
        rows = np.flatnonzero(realtime)
        rows = rows[np.argsort(rank[rows], kind="stable")]
        night = _night_index(submit_s[rows], mix)
        _, first = np.unique(night, return_index=True)
        first_of_night = rows[first][np.searchsorted(night[first], night)]
        later = rows != first_of_night
        child = np.concatenate([child, rows[later]])
        parent = np.concatenate([parent, first_of_night[later]])
        kind = np.concatenate([kind, np.full(int(np.count_nonzero(later)), AFTEROK, np.int8)])
    child_id, parent_id = jobs.job_id[child], jobs.job_id[parent]
    if jobs.depends is not None:
        child_id = np.concatenate([jobs.depends.job_id, child_id])
        parent_id = np.concatenate([jobs.depends.on_id, parent_id])
        kind = np.concatenate([jobs.depends.kind, kind])
    order = np.lexsort((parent_id, child_id))
    return Dependencies(child_id[order], parent_id[order], kind[order])
