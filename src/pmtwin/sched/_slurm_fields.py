"""The C layout of Slurm mode's state (``SState`` in ``_cslurm.c``): pointer fields in order, then the
scalar parameters. Kept beside the builder so that the two lists are read together."""

from __future__ import annotations

import ctypes

import numpy as np

_F8, _I8, _B1 = np.float64, np.int64, np.int8

POINTER_FIELDS: tuple[tuple[str, type], ...] = (
    # jobs: inputs
    ("submit_s", _F8), ("req_s", _F8), ("kill_s", _F8), ("work_s", _F8),
    ("size", _I8), ("pool", _I8), ("qos", _I8), ("user", _I8), ("acct", _I8), ("assoc", _I8), ("arr", _I8),
    ("shared", _B1), ("may_hold", _B1), ("cores", _I8), ("gpus", _I8), ("mem", _I8),
    ("static_prio", _F8), ("usage_nodes", _F8), ("reject_reason", _B1), ("ndeps", _I8),
    ("dep_off", _I8), ("dep_child", _I8), ("dep_kind", _B1), ("node_off", _I8),
    # jobs: state and outputs
    ("status", _B1), ("state", _B1), ("reason", _B1), ("signalled", _B1), ("inq", _B1), ("hq", _B1),
    ("start_s", _F8), ("end_s", _F8), ("est_end", _F8), ("eligible_s", _F8), ("accrued_s", _F8),
    ("accrue_since", _F8), ("lost_node_s", _F8),
    ("requeues", _I8), ("wnext", _I8), ("wprev", _I8), ("snext", _I8), ("node_ids", _I8),
    # pools
    ("capacity", _I8), ("first_slot", _I8), ("qbase", _I8), ("cores_pn", _I8), ("gpus_pn", _I8),
    ("mem_pn", _I8), ("pool_res_off", _I8), ("pool_res", _I8), ("max_req", _F8),
    ("free", _I8), ("qlen", _I8), ("run_lo", _I8), ("run_hi", _I8), ("node_len", _I8), ("shlen", _I8),
    ("shopen", _I8),
    ("pool_res_ptr", _I8), ("preemptible_running", _I8), ("preemptor_queued", _I8), ("preemptor", _I8),
    ("sorted_len", _I8), ("nqueued", _I8), ("preemptible_nodes", _I8), ("signalled_nodes", _I8),
    ("last_calc", _F8),
    ("run_base", _I8), ("run_end", _I8), ("dirty", _B1), ("bf_dirty", _B1),
    # buffers
    ("qbuf", _I8), ("qunits", _I8), ("qprio", _F8), ("run_key", _F8), ("run_id", _I8), ("heap_t", _F8),
    ("heap_j", _I8), ("heap_len", _I8),
    ("heap_cap", _I8), ("free_nodes", _I8), ("node_cores", _I8), ("node_gpus", _I8), ("node_mem", _I8),
    ("node_njobs", _I8), ("node_head", _I8), ("shpos", _I8), ("shlist", _I8), ("node_busy", _F8),
    ("prof_t", _F8), ("prof_free", _I8), ("scratch", _I8),
    # QOS
    ("qos_prio", _F8), ("lim_jobs_pu", _I8), ("lim_nodes_pu", _I8), ("lim_jobs_pa", _I8),
    ("lim_submit_pu", _I8), ("preempt_mask", _I8), ("preemptible", _B1),
    # counters
    ("urun", _I8), ("unodes", _I8), ("usub", _I8), ("arun", _I8), ("array_run", _I8), ("hnext", _I8),
    ("uq_held", _I8), ("aq_held", _I8), ("arr_held", _I8),
    ("array_throttle", _I8), ("assoc_count", _I8), ("assoc_whead", _I8), ("assoc_wtail", _I8),
    ("acct_usage", _F8), ("acct_last", _F8), ("acct_running", _F8), ("fs_total", _F8),
    # reservations
    ("res_pool", _I8), ("res_nodes", _I8), ("res_off", _I8), ("res_by_start", _I8), ("res_by_end", _I8),
    ("res_start", _F8), ("res_end", _F8), ("res_held", _I8), ("res_slots", _I8), ("res_ptrs", _I8),
    # clocks
    ("next_submit", _I8), ("last_tick_final", _I8), ("clock_s", _F8),
)  # fmt: skip

FLOAT_PARAMS = (
    "bf_window_s", "bf_interval_s", "max_age_s", "age_weight", "fairshare_weight", "half_life_s", "grace_s",
    "calc_period_s",
)  # fmt: skip
INT_PARAMS = (
    "policy", "priority", "accrue_limit", "bf_max_jobs", "requeue", "n_jobs", "n_pools", "n_qos", "n_users",
    "n_accts", "n_res", "n_slots", "assign_nodes",
)  # fmt: skip


class SlurmStateStruct(ctypes.Structure):
    _fields_ = (
        [(name, ctypes.c_void_p) for name, _ in POINTER_FIELDS]
        + [(name, ctypes.c_double) for name in FLOAT_PARAMS]
        + [(name, ctypes.c_int64) for name in INT_PARAMS]
    )
