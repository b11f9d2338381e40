"""Compiled data-structure primitives of the engine: the end-event heap, per-pool queues (linked lists),
running sets ordered by estimated end, and free-node heaps. All operate in place on the state arrays."""

from __future__ import annotations

from pmtwin._jit import kernel
from pmtwin.sim._state import NO_JOB

# ---------------------------------------------------------------- end-event heap: (time, job), min first


@kernel
def heap_push(heap_t, heap_j, heap_len, t, j):
    i = heap_len[0]
    heap_len[0] = i + 1
    while i > 0:
        parent = (i - 1) >> 1
        if heap_t[parent] < t or (heap_t[parent] == t and heap_j[parent] < j):
            break
        heap_t[i] = heap_t[parent]
        heap_j[i] = heap_j[parent]
        i = parent
    heap_t[i] = t
    heap_j[i] = j


@kernel
def heap_pop(heap_t, heap_j, heap_len):
    """Remove the smallest entry (its values are read from index 0 before the call)."""
    n = heap_len[0] - 1
    heap_len[0] = n
    t = heap_t[n]
    j = heap_j[n]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        right = child + 1
        if right < n and (
            heap_t[right] < heap_t[child]
            or (heap_t[right] == heap_t[child] and heap_j[right] < heap_j[child])
        ):
            child = right
        if t < heap_t[child] or (t == heap_t[child] and j < heap_j[child]):
            break
        heap_t[i] = heap_t[child]
        heap_j[i] = heap_j[child]
        i = child
    heap_t[i] = t
    heap_j[i] = j


# ---------------------------------------------------------------- free-node min-heap of one pool


@kernel
def node_push(heap, base, length, node):
    i = length
    while i > 0:
        parent = (i - 1) >> 1
        if heap[base + parent] <= node:
            break
        heap[base + i] = heap[base + parent]
        i = parent
    heap[base + i] = node


@kernel
def node_pop(heap, base, length):
    """Smallest free node id; ``length`` is the heap length before the pop."""
    top = heap[base]
    n = length - 1
    last = heap[base + n]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and heap[base + child + 1] < heap[base + child]:
            child += 1
        if last <= heap[base + child]:
            break
        heap[base + i] = heap[base + child]
        i = child
    if n > 0:
        heap[base + i] = last
    return top


# ---------------------------------------------------------------- per-pool queues (doubly linked lists)


@kernel
def queue_append(qhead, qtail, qlen, qnext, qprev, p, j):
    tail = qtail[p]
    qprev[j] = tail
    qnext[j] = NO_JOB
    if tail == NO_JOB:
        qhead[p] = j
    else:
        qnext[tail] = j
    qtail[p] = j
    qlen[p] += 1


@kernel
def queue_remove(qhead, qtail, qlen, qnext, qprev, p, j):
    prev = qprev[j]
    nxt = qnext[j]
    if prev == NO_JOB:
        qhead[p] = nxt
    else:
        qnext[prev] = nxt
    if nxt == NO_JOB:
        qtail[p] = prev
    else:
        qprev[nxt] = prev
    qlen[p] -= 1


# ---------------------------------------------------------------- running set ordered by (estimated end, job)
# A pool's running jobs occupy run_key/run_job[lo:hi] inside its slice [base:end) of the buffers; an insert
# or removal shifts the shorter side, so the common cases (ends near the front, starts near the back) are
# cheap. When a side runs out of room, the entries are re-centred in the slice.


@kernel
def _run_search(run_key, run_job, lo, hi, key, j):
    """First index in [lo, hi) whose (key, job) is not less than (key, j)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if run_key[mid] < key or (run_key[mid] == key and run_job[mid] < j):
            lo = mid + 1
        else:
            hi = mid
    return lo


@kernel
def _recentre(run_key, run_job, base, end, lo, hi):
    count = hi - lo
    new_lo = base + (end - base - count) // 2
    if new_lo < lo:
        for k in range(count):
            run_key[new_lo + k] = run_key[lo + k]
            run_job[new_lo + k] = run_job[lo + k]
    elif new_lo > lo:
        for k in range(count - 1, -1, -1):
            run_key[new_lo + k] = run_key[lo + k]
            run_job[new_lo + k] = run_job[lo + k]
    return new_lo


@kernel
def run_insert(run_key, run_job, run_base, run_end, run_lo, run_hi, p, key, j):
    lo = run_lo[p]
    hi = run_hi[p]
    if lo == run_base[p] or hi == run_end[p]:
        new_lo = _recentre(run_key, run_job, run_base[p], run_end[p], lo, hi)
        hi += new_lo - lo
        lo = new_lo
    pos = _run_search(run_key, run_job, lo, hi, key, j)
    if pos - lo < hi - pos:
        for k in range(lo, pos):
            run_key[k - 1] = run_key[k]
            run_job[k - 1] = run_job[k]
        lo -= 1
        pos -= 1
    else:
        for k in range(hi, pos, -1):
            run_key[k] = run_key[k - 1]
            run_job[k] = run_job[k - 1]
        hi += 1
    run_key[pos] = key
    run_job[pos] = j
    run_lo[p] = lo
    run_hi[p] = hi


@kernel
def run_remove(run_key, run_job, run_lo, run_hi, p, key, j):
    lo = run_lo[p]
    hi = run_hi[p]
    pos = _run_search(run_key, run_job, lo, hi, key, j)
    if pos - lo < hi - pos:
        for k in range(pos, lo, -1):
            run_key[k] = run_key[k - 1]
            run_job[k] = run_job[k - 1]
        run_lo[p] = lo + 1
    else:
        for k in range(pos, hi - 1):
            run_key[k] = run_key[k + 1]
            run_job[k] = run_job[k + 1]
        run_hi[p] = hi - 1
