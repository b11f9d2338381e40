"""The compiled event loop and the scheduling passes (scheduling-semantics.md, implemented exactly).

The event rule: time jumps to the next timestamp t at which a job ends or arrives; at t, every job ending
at t releases its units, then every job arriving at t joins its pool's queue (canonical order), then each
pool in which something happened gets exactly one scheduling pass. A pool in which nothing happened at t
would start nothing in a pass (its free units, queue and estimated ends are unchanged and t only grew), so
skipping it is exact.
"""

from __future__ import annotations

from pmtwin._jit import kernel
from pmtwin.sim._state import DONE, NO_JOB, QUEUED, RUNNING, Buffers, JobState, PoolState
from pmtwin.sim._structures import (
    heap_pop,
    heap_push,
    node_pop,
    node_push,
    queue_append,
    queue_remove,
    run_insert,
    run_remove,
)

FCFS = 0
EASY = 1
CONSERVATIVE = 2

STOPPED_AT_LIMIT = 0
FINISHED = 1


# The state's named tuples are unpacked once in ``advance``; the hot code below sees plain arrays only
# (handing a tuple of arrays to a compiled function costs a reference-count update per member, which
# would dominate the loop). The per-event steps are closures over those arrays, inlined by the compiler.


@kernel
def shadow_and_extra(size, head, free_p, run_key, run_job, lo, hi, t):
    """EASY's shadow time (the earliest estimated end by which enough units are released for the head)
    and extra units (free then, beyond the head's need, counting every job ending by the shadow time)."""
    need = size[head] - free_p
    acc = 0
    k = lo
    while k < hi:
        acc += size[run_job[k]]
        if acc >= need:
            break
        k += 1
    shadow = max(run_key[k], t)
    k += 1
    while k < hi and max(run_key[k], t) == shadow:
        acc += size[run_job[k]]
        k += 1
    return shadow, free_p + acc - size[head]


@kernel
def build_profile(size, free_p, run_key, run_job, lo, hi, t, prof_t, prof_free):
    """Availability profile from running jobs' estimated ends: steps (prof_t[i], prof_free[i]), the last
    step lasting forever. Returns the number of steps."""
    prof_t[0] = t
    prof_free[0] = free_p
    n = 1
    for k in range(lo, hi):
        e = max(run_key[k], t)
        if e == prof_t[n - 1]:
            prof_free[n - 1] += size[run_job[k]]
        else:
            prof_t[n] = e
            prof_free[n] = prof_free[n - 1] + size[run_job[k]]
            n += 1
    return n


@kernel
def earliest_fit(prof_t, prof_free, n, units, duration):
    """Index of the earliest step at which ``units`` stay free for ``duration``."""
    k = 0
    while True:
        if prof_free[k] < units:
            k += 1
            continue
        end = prof_t[k] + duration
        m = k + 1
        while m < n and prof_t[m] < end and prof_free[m] >= units:
            m += 1
        if m == n or prof_t[m] >= end:
            return k
        k = m + 1


@kernel
def reserve(prof_t, prof_free, n, k, units, duration):
    """Take ``units`` from step k on for ``duration``; returns the new number of steps."""
    end = prof_t[k] + duration
    m = k + 1
    while m < n and prof_t[m] < end:
        m += 1
    if m == n or prof_t[m] != end:
        for x in range(n, m, -1):
            prof_t[x] = prof_t[x - 1]
            prof_free[x] = prof_free[x - 1]
        prof_t[m] = end
        prof_free[m] = prof_free[m - 1]
        n += 1
    for x in range(k, m):
        prof_free[x] -= units
    return n


@kernel
def advance(jobs: JobState, pools: PoolState, buf: Buffers, policy: int, until_s: float) -> int:
    """Run events up to and including time ``until_s``; returns FINISHED when no event is left."""
    (submit_s, requested_s, size, pool, work_left, rate, last_s, start_s, end_s, status, qnext, qprev,
     node_off) = jobs
    (capacity, free, qhead, qtail, qlen, dirty, run_base, run_end, run_lo, run_hi, node_base, node_len,
     _first_node) = pools
    (run_key, run_job, heap_t, heap_j, heap_len, free_nodes, node_ids, prof_t, prof_free, next_submit,
     assign) = buf
    assign_nodes = assign[0] == 1

    def start(j, t):
        p = pool[j]
        queue_remove(qhead, qtail, qlen, qnext, qprev, p, j)
        free[p] -= size[j]
        status[j] = RUNNING
        start_s[j] = t
        last_s[j] = t
        end = t + work_left[j] / rate[j]
        end_s[j] = end
        heap_push(heap_t, heap_j, heap_len, end, j)
        run_insert(run_key, run_job, run_base, run_end, run_lo, run_hi, p, t + requested_s[j], j)
        if assign_nodes:
            for k in range(node_off[j], node_off[j + 1]):
                node_ids[k] = node_pop(free_nodes, node_base[p], node_len[p])
                node_len[p] -= 1

    def release(j, t):
        p = pool[j]
        free[p] += size[j]
        dirty[p] = 1
        status[j] = DONE
        work_left[j] = 0.0
        last_s[j] = t
        run_remove(run_key, run_job, run_lo, run_hi, p, start_s[j] + requested_s[j], j)
        if assign_nodes:
            for k in range(node_off[j], node_off[j + 1]):
                node_push(free_nodes, node_base[p], node_len[p], node_ids[k])
                node_len[p] += 1

    def fcfs_step(p, t):
        """Start jobs from the head of the queue while the head fits."""
        j = qhead[p]
        while j != NO_JOB and size[j] <= free[p]:
            nxt = qnext[j]
            start(j, t)
            j = nxt

    def easy_pass(p, t):
        fcfs_step(p, t)
        head = qhead[p]
        if head == NO_JOB or free[p] == 0:
            return  # nothing waits, or no unit is free for a backfill (every job needs at least one)
        first = qnext[head]
        while first != NO_JOB and size[first] > free[p]:
            first = qnext[first]
        if first == NO_JOB:
            return  # no later job fits in the free units: the pass cannot start anything
        shadow, extra = shadow_and_extra(size, head, free[p], run_key, run_job, run_lo[p], run_hi[p], t)
        j = first
        while j != NO_JOB and free[p] > 0:
            nxt = qnext[j]
            if size[j] <= free[p]:
                if t + requested_s[j] <= shadow:
                    start(j, t)
                elif size[j] <= extra:
                    extra -= size[j]
                    start(j, t)
            j = nxt

    def conservative_pass(p, t):
        """Reservations for every queued job in queue order, from scratch; a job reserved at t starts now.
        Jobs after the last one that fits in the units free now can neither start nor move an earlier
        reservation, so the pass stops there (and as soon as no unit is free)."""
        last = qtail[p]
        while last != NO_JOB and size[last] > free[p]:
            last = qprev[last]
        if last == NO_JOB:
            return
        n = build_profile(size, free[p], run_key, run_job, run_lo[p], run_hi[p], t, prof_t, prof_free)
        j = qhead[p]
        while free[p] > 0:
            nxt = qnext[j]
            k = earliest_fit(prof_t, prof_free, n, size[j], requested_s[j])
            n = reserve(prof_t, prof_free, n, k, size[j], requested_s[j])
            if k == 0:
                start(j, t)
            if j == last:
                break
            j = nxt

    n_jobs = submit_s.shape[0]
    n_pools = capacity.shape[0]
    while True:
        i = next_submit[0]
        has_submit = i < n_jobs
        has_end = heap_len[0] > 0
        if not has_submit and not has_end:
            return FINISHED
        t = submit_s[i] if has_submit else heap_t[0]
        if has_end and heap_t[0] < t:
            t = heap_t[0]
        if t > until_s:
            return STOPPED_AT_LIMIT
        # 1. releases
        while heap_len[0] > 0 and heap_t[0] == t:
            j = heap_j[0]
            heap_pop(heap_t, heap_j, heap_len)
            release(j, t)
        # 2. arrivals, in canonical order
        while i < n_jobs and submit_s[i] == t:
            p = pool[i]
            status[i] = QUEUED
            queue_append(qhead, qtail, qlen, qnext, qprev, p, i)
            dirty[p] = 1
            i += 1
        next_submit[0] = i
        # 3. one pass in every pool where something happened
        for p in range(n_pools):
            if dirty[p]:
                dirty[p] = 0
                if policy == EASY:
                    easy_pass(p, t)
                elif policy == CONSERVATIVE:
                    conservative_pass(p, t)
                else:
                    fcfs_step(p, t)
