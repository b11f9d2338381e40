/* Data structures both compiled event loops use (_cnative.c: the canonical policies; _cslurm.c: Slurm
 * mode), over arrays owned by Python: a min-heap of (time, index) events, a min-heap of node ids, a
 * sorted array of (key, id) entries with room on both sides, and the availability-profile search. */
#ifndef PMTWIN_CSHARED_H
#define PMTWIN_CSHARED_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* (ta, a) before (tb, b): earlier time, ties by lower index */
static inline int pm_before(double ta, int64_t a, double tb, int64_t b) { return ta < tb || (ta == tb && a < b); }

/* ------------------------------------------------------------ event heap of (time, index) */

static inline void pm_event_sift_up(double *ht, int64_t *hj, int64_t i, double t, int64_t j) {
    while (i > 0) {
        int64_t parent = (i - 1) >> 1;
        if (!pm_before(t, j, ht[parent], hj[parent])) break;
        ht[i] = ht[parent];
        hj[i] = hj[parent];
        i = parent;
    }
    ht[i] = t;
    hj[i] = j;
}

static inline void pm_event_push(double *ht, int64_t *hj, int64_t *len, double t, int64_t j) {
    pm_event_sift_up(ht, hj, (*len)++, t, j);
}

static inline void pm_event_pop(double *ht, int64_t *hj, int64_t *len) {
    int64_t n = --(*len), i = 0;
    double t = ht[n];
    int64_t j = hj[n];
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && pm_before(ht[c + 1], hj[c + 1], ht[c], hj[c])) c++;
        if (!pm_before(ht[c], hj[c], t, j)) break;
        ht[i] = ht[c];
        hj[i] = hj[c];
        i = c;
    }
    ht[i] = t;
    hj[i] = j;
}

/* ------------------------------------------------------------ min-heap of node ids */

static inline void pm_node_push(int64_t *heap, int64_t len, int64_t node) {
    int64_t i = len;
    while (i > 0) {
        int64_t parent = (i - 1) >> 1;
        if (heap[parent] <= node) break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = node;
}

static inline int64_t pm_node_pop(int64_t *heap, int64_t len) {
    int64_t top = heap[0], n = len - 1, last = heap[n], i = 0;
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && heap[c + 1] < heap[c]) c++;
        if (last <= heap[c]) break;
        heap[i] = heap[c];
        i = c;
    }
    if (n > 0) heap[i] = last;
    return top;
}

/* ------------------------------------------------------------ sorted entries (running sets)
 * A pool's entries occupy key/id[*lo:*hi] inside its slice [base:end), sorted by (key, id); an insert
 * or removal shifts the shorter side (ends are mostly near the front, starts near the back). When a
 * side has no room left, the entries are re-centred in the slice. */

typedef struct {
    double *key;
    int64_t *id;
    int64_t base, end, *lo, *hi;
} PmSorted;

static inline int64_t pm_sorted_search(const PmSorted *r, int64_t lo, int64_t hi, double key, int64_t id) {
    while (lo < hi) {
        int64_t mid = (lo + hi) >> 1;
        if (pm_before(r->key[mid], r->id[mid], key, id)) lo = mid + 1; else hi = mid;
    }
    return lo;
}

static inline void pm_sorted_move(const PmSorted *r, int64_t to, int64_t from, int64_t count) {
    memmove(r->key + to, r->key + from, (size_t)count * sizeof(double));
    memmove(r->id + to, r->id + from, (size_t)count * sizeof(int64_t));
}

static inline void pm_sorted_insert(const PmSorted *r, double key, int64_t id) {
    int64_t lo = *r->lo, hi = *r->hi;
    if (lo == r->base || hi == r->end) {
        int64_t count = hi - lo, new_lo = r->base + (r->end - r->base - count) / 2;
        pm_sorted_move(r, new_lo, lo, count);
        hi += new_lo - lo;
        lo = new_lo;
    }
    int64_t pos = pm_sorted_search(r, lo, hi, key, id);
    if (pos - lo < hi - pos) {
        pm_sorted_move(r, lo - 1, lo, pos - lo);
        lo--;
        pos--;
    } else {
        pm_sorted_move(r, pos + 1, pos, hi - pos);
        hi++;
    }
    r->key[pos] = key;
    r->id[pos] = id;
    *r->lo = lo;
    *r->hi = hi;
}

static inline void pm_sorted_remove(const PmSorted *r, double key, int64_t id) {
    int64_t lo = *r->lo, hi = *r->hi, pos = pm_sorted_search(r, lo, hi, key, id);
    if (pos - lo < hi - pos) {
        pm_sorted_move(r, lo + 1, lo, pos - lo);
        *r->lo = lo + 1;
    } else {
        pm_sorted_move(r, pos, pos + 1, hi - pos - 1);
        *r->hi = hi - 1;
    }
}

/* ------------------------------------------------------------ availability profiles */

/* A running job's estimated end as the planners see it: its key, or for a job running past it, the
 * next representable time after t (it holds its units now and may end at any moment). */
static inline double pm_estimated_end(double key, double t) { return key > t ? key : nextafter(t, INFINITY); }

/* Index of the earliest step (pt[i], pf[i]) from which `units` stay free for `duration`; the last step
 * lasts forever and never runs short. */
static inline int64_t pm_earliest_fit(const double *pt, const int64_t *pf, int64_t n, int64_t units,
                                      double duration) {
    int64_t k = 0;
    for (;;) {
        if (pf[k] < units) { k++; continue; }
        double end = pt[k] + duration;
        int64_t m = k + 1;
        while (m < n && pt[m] < end && pf[m] >= units) m++;
        if (m == n || pt[m] >= end) return k;
        k = m + 1;
    }
}

#endif
