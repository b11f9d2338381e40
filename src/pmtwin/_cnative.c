/* pmtwin's compiled hot loops: the event engine (scheduling-semantics.md, implemented exactly) and the
 * SWF byte scanner. Plain C over arrays owned by Python (numpy), called through ctypes, which releases
 * the GIL for the duration of a call. Nothing here allocates memory.
 *
 * Engine: jobs are indexed in canonical order (submit time, job id). At each timestamp t: every job
 * ending at t releases its units, then every job arriving at t joins its pool's queue, then each pool in
 * which something happened gets exactly one pass. A pool where nothing happened at t would start
 * nothing (its free units, queue and estimated ends are unchanged and t only grew), so skipping it is
 * exact.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>

#include "_cshared.h"

enum { POLICY_FCFS = 0, POLICY_EASY = 1, POLICY_CONSERVATIVE = 2 };
enum { QUEUED = 1, RUNNING = 2, DONE = 3 };
enum { STOPPED_AT_LIMIT = 0, FINISHED = 1 };
#define NO_JOB (-1)

/* Field order and meaning mirror pmtwin/sim/_state.py (JobState, PoolState, Buffers). */
typedef struct {
    const double *submit_s, *requested_s;
    const int64_t *size, *pool;
    double *work_left, *rate, *last_s, *start_s, *end_s;
    int8_t *status;
    int64_t *qnext, *qprev;
    const int64_t *node_off;

    const int64_t *capacity;
    int64_t *free, *qhead, *qtail, *qlen;
    int8_t *dirty;
    const int64_t *run_base, *run_end;
    int64_t *run_lo, *run_hi;
    const int64_t *node_base;
    int64_t *node_len;

    double *run_key;
    int64_t *run_job;
    double *heap_t;
    int64_t *heap_j, *heap_len;
    int64_t *free_nodes, *node_ids;
    double *prof_t;
    int64_t *prof_free;
    int64_t *next_submit;
    int8_t *released;   /* per pool: a job ended since the pool's last pass */
    int64_t *prof_meta; /* cached profile: [pool it belongs to or -1, steps, queued jobs reserved in it] */
    double *clock_s;    /* the last timestamp processed (-inf before the first) */
    /* power budget (docs/power.md 4a); unused when power[PW_ON] is 0 */
    const int64_t *power_mw; /* per job: power added while it runs (mW) */
    int64_t *power;          /* [PW_ON, PW_HEADROOM, PW_BLOCKER, PW_EXTRA, PW_STALE] */
    double *power_shadow_s;  /* one element: the blocker's power shadow time T */
    double *grun_key;        /* running jobs of every pool by estimated end */
    int64_t *grun_job;
    int64_t *grun_meta;      /* [lo, hi, room] of the global running set */
    int64_t n_jobs, n_pools, assign_nodes;
} State;

enum { PW_ON = 0, PW_HEADROOM = 1, PW_BLOCKER = 2, PW_EXTRA = 3, PW_STALE = 4 };

/* ------------------------------------------------------------ event heap and running sets (_cshared.h) */

static void heap_push(State *s, double t, int64_t j) { pm_event_push(s->heap_t, s->heap_j, s->heap_len, t, j); }

static void heap_pop(State *s) { pm_event_pop(s->heap_t, s->heap_j, s->heap_len); }

static PmSorted running_set(State *s, int64_t p) {
    PmSorted r = {s->run_key, s->run_job, s->run_base[p], s->run_end[p], &s->run_lo[p], &s->run_hi[p]};
    return r;
}

static PmSorted global_running_set(State *s) {
    PmSorted r = {s->grun_key, s->grun_job, 0, s->grun_meta[2], &s->grun_meta[0], &s->grun_meta[1]};
    return r;
}

/* ------------------------------------------------------------ per-pool queues (doubly linked lists) */

static void queue_append(State *s, int64_t p, int64_t j) {
    int64_t tail = s->qtail[p];
    s->qprev[j] = tail;
    s->qnext[j] = NO_JOB;
    if (tail == NO_JOB) s->qhead[p] = j; else s->qnext[tail] = j;
    s->qtail[p] = j;
    s->qlen[p]++;
}

static void queue_remove(State *s, int64_t p, int64_t j) {
    int64_t prev = s->qprev[j], next = s->qnext[j];
    if (prev == NO_JOB) s->qhead[p] = next; else s->qnext[prev] = next;
    if (next == NO_JOB) s->qtail[p] = prev; else s->qprev[next] = prev;
    s->qlen[p]--;
}

/* ------------------------------------------------------------ power budget (docs/power.md 4a)
 * Headroom is the budget minus the running jobs' power, in integer milliwatts (exact). The blocker is
 * the earliest job (canonical index) refused for want of headroom; jobs after it may not take the power
 * its EASY-style reservation holds (shadow time T, extra power E over all pools). T and E are
 * recomputed lazily, when marked stale: after a release, a change of blocker or the start of a job
 * before the blocker. Starting a job after the blocker leaves T unchanged and E exactly as decremented. */

static void power_started(State *s, int64_t j, double t) {
    int64_t *pw = s->power;
    pw[PW_HEADROOM] -= s->power_mw[j];
    PmSorted g = global_running_set(s);
    pm_sorted_insert(&g, t + s->requested_s[j], j);
    if (j == pw[PW_BLOCKER]) pw[PW_BLOCKER] = NO_JOB;
    if (j <= pw[PW_BLOCKER] || pw[PW_BLOCKER] == NO_JOB) pw[PW_STALE] = 1;
}

static void power_released(State *s, int64_t j) {
    int64_t *pw = s->power;
    pw[PW_HEADROOM] += s->power_mw[j];
    PmSorted g = global_running_set(s);
    pm_sorted_remove(&g, s->start_s[j] + s->requested_s[j], j);
    pw[PW_STALE] = 1;
}

/* EASY's shadow walk (scheduling-semantics.md), for nodes or power: over running jobs key/id[lo:hi]
 * sorted by estimated end, the earliest estimated end by which `need` more of `amount` is released
 * (t when need <= 0); *released gets all that is released by then, every job ending at that time
 * included. */
static double shadow_walk(const double *key, const int64_t *id, int64_t lo, int64_t hi,
                          const int64_t *amount, int64_t need, double t, int64_t *released) {
    int64_t acc = 0, k = lo;
    double shadow = t;
    if (need > 0) {
        for (; k < hi; k++) {
            acc += amount[id[k]];
            if (acc >= need) break;
        }
        shadow = pm_estimated_end(key[k], t);
        for (k++; k < hi && pm_estimated_end(key[k], t) == shadow; k++) acc += amount[id[k]];
    }
    *released = acc;
    return shadow;
}

/* The blocker's power shadow time and extra power from the running set (T = t when the headroom
 * already suffices). The budget is at least every job's power, so the walk always reaches it. */
static void power_shadow(State *s, double t) {
    int64_t *pw = s->power, need = s->power_mw[pw[PW_BLOCKER]] - pw[PW_HEADROOM], released;
    *s->power_shadow_s = shadow_walk(s->grun_key, s->grun_job, s->grun_meta[0], s->grun_meta[1], s->power_mw,
                                     need, t, &released);
    pw[PW_EXTRA] = released - need;
    pw[PW_STALE] = 0;
}

/* May job j (which fits its pool's nodes) start at t? Rules 1-3 of docs/power.md 4a. */
static int power_admits(State *s, int64_t j, double t) {
    int64_t *pw = s->power;
    if (!pw[PW_ON]) return 1;
    int64_t need = s->power_mw[j], blocker = pw[PW_BLOCKER];
    if (need > pw[PW_HEADROOM]) {
        if (blocker == NO_JOB || j < blocker) {
            pw[PW_BLOCKER] = j;
            pw[PW_STALE] = 1;
        }
        return 0;
    }
    if (blocker == NO_JOB || j <= blocker) return 1;
    if (pw[PW_STALE]) power_shadow(s, t);
    if (t + s->requested_s[j] <= *s->power_shadow_s) return 1;
    if (need > pw[PW_EXTRA]) return 0;
    pw[PW_EXTRA] -= need;
    return 1;
}

/* ------------------------------------------------------------ starting and releasing jobs */

static void start_job(State *s, int64_t j, double t) {
    int64_t p = s->pool[j];
    queue_remove(s, p, j);
    s->free[p] -= s->size[j];
    s->status[j] = RUNNING;
    s->start_s[j] = t;
    s->last_s[j] = t;
    double end = t + s->work_left[j] / s->rate[j];
    s->end_s[j] = end;
    heap_push(s, end, j);
    PmSorted r = running_set(s, p);
    pm_sorted_insert(&r, t + s->requested_s[j], j);
    if (s->power[PW_ON]) power_started(s, j, t);
    if (s->assign_nodes) {
        int64_t *heap = s->free_nodes + s->node_base[p];
        for (int64_t k = s->node_off[j]; k < s->node_off[j + 1]; k++)
            s->node_ids[k] = pm_node_pop(heap, s->node_len[p]--);
    }
}

static void release_job(State *s, int64_t j, double t) {
    int64_t p = s->pool[j];
    s->free[p] += s->size[j];
    s->dirty[p] = 1;
    s->released[p] = 1;
    s->status[j] = DONE;
    s->work_left[j] = 0.0;
    s->last_s[j] = t;
    PmSorted r = running_set(s, p);
    pm_sorted_remove(&r, s->start_s[j] + s->requested_s[j], j);
    if (s->power[PW_ON]) power_released(s, j);
    if (s->assign_nodes) {
        int64_t *heap = s->free_nodes + s->node_base[p];
        for (int64_t k = s->node_off[j]; k < s->node_off[j + 1]; k++)
            pm_node_push(heap, s->node_len[p]++, s->node_ids[k]);
    }
}

/* ------------------------------------------------------------ policies */

static inline double estimated_end(double key, double t) { return pm_estimated_end(key, t); }

/* Start jobs from the head of the queue while the head fits. */
static void fcfs_step(State *s, int64_t p, double t) {
    int64_t j = s->qhead[p];
    while (j != NO_JOB && s->size[j] <= s->free[p] && power_admits(s, j, t)) {
        int64_t next = s->qnext[j];
        start_job(s, j, t);
        j = next;
    }
}

static void easy_pass(State *s, int64_t p, double t) {
    fcfs_step(s, p, t);
    int64_t head = s->qhead[p];
    if (head == NO_JOB || s->free[p] == 0) return; /* every job needs at least one unit */
    int64_t first = s->qnext[head];
    while (first != NO_JOB && s->size[first] > s->free[p]) first = s->qnext[first];
    if (first == NO_JOB) return; /* no later job fits in the free units: nothing can start */
    /* Shadow time: the earliest estimated end by which enough units are released for the head; extra:
     * the units free then beyond the head's need, counting every job that ends by the shadow time. A
     * head that fits (held back by the power budget) has its units held now. */
    int64_t acc;
    double shadow = shadow_walk(s->run_key, s->run_job, s->run_lo[p], s->run_hi[p], s->size,
                                s->size[head] - s->free[p], t, &acc);
    int64_t extra = s->free[p] + acc - s->size[head];
    for (int64_t j = first; j != NO_JOB && s->free[p] > 0;) {
        int64_t next = s->qnext[j];
        if (s->size[j] <= s->free[p]) {
            if (t + s->requested_s[j] <= shadow) {
                if (power_admits(s, j, t)) start_job(s, j, t);
            } else if (s->size[j] <= extra && power_admits(s, j, t)) {
                extra -= s->size[j];
                start_job(s, j, t);
            }
        }
        j = next;
    }
}

/* Availability profile from running jobs' estimated ends: steps (prof_t[i], prof_free[i]), the last
 * lasting forever. Returns the number of steps. */
static int64_t build_profile(State *s, int64_t p, double t) {
    double *pt = s->prof_t;
    int64_t *pf = s->prof_free, n = 1;
    pt[0] = t;
    pf[0] = s->free[p];
    for (int64_t k = s->run_lo[p]; k < s->run_hi[p]; k++) {
        double e = estimated_end(s->run_key[k], t);
        int64_t units = s->size[s->run_job[k]];
        if (e == pt[n - 1]) {
            pf[n - 1] += units;
        } else {
            pt[n] = e;
            pf[n] = pf[n - 1] + units;
            n++;
        }
    }
    return n;
}

/* Take `units` from step k on for `duration`; returns the new number of steps. */
static int64_t reserve(double *pt, int64_t *pf, int64_t n, int64_t k, int64_t units, double duration) {
    double end = pt[k] + duration;
    int64_t m = k + 1;
    while (m < n && pt[m] < end) m++;
    if (m == n || pt[m] != end) {
        memmove(pt + m + 1, pt + m, (size_t)(n - m) * sizeof(double));
        memmove(pf + m + 1, pf + m, (size_t)(n - m) * sizeof(int64_t));
        pt[m] = end;
        pf[m] = pf[m - 1];
        n++;
    }
    for (int64_t x = k; x < m; x++) pf[x] -= units;
    return n;
}

/* Reservations for every queued job in queue order; a job reserved at t starts now. Jobs after the last
 * one that fits in the units free now can neither start nor move an earlier reservation, so the pass
 * stops there (and as soon as no unit is free).
 *
 * Reservations are recomputed from scratch after any job of the pool ended. When only arrivals happened
 * since the pool's previous pass, the previous profile is exactly what a recomputation would give: the
 * running set changed only by the jobs that pass started (already in the profile with the same
 * intervals), and every step after its first lies after t (a running job's estimated end is not before
 * its actual end, which is after t; reservations end after they start). So the pass moves the profile's
 * first step to t and goes on from the first queued job not yet reserved in it. */
static void conservative_pass(State *s, int64_t p, double t) {
    int64_t *meta = s->prof_meta;
    /* (the step check covers jobs slowed down past their estimate, whose ends can fall before t) */
    int reuse = meta[0] == p && !s->released[p] && (meta[1] == 1 || s->prof_t[1] > t);
    int64_t last = s->qtail[p];
    while (last != NO_JOB && s->size[last] > s->free[p]) last = s->qprev[last];
    if (last == NO_JOB) {
        if (!reuse) meta[0] = -1;
        return;
    }
    int64_t n, reserved = 0, j = s->qhead[p];
    if (reuse) {
        n = meta[1];
        s->prof_t[0] = t;
        for (; reserved < meta[2]; reserved++) {
            if (j == last) return; /* the jobs that could start are already reserved later than t */
            j = s->qnext[j];
        }
    } else {
        n = build_profile(s, p, t);
    }
    while (s->free[p] > 0) {
        int64_t next = s->qnext[j];
        int64_t k = pm_earliest_fit(s->prof_t, s->prof_free, n, s->size[j], s->requested_s[j]);
        n = reserve(s->prof_t, s->prof_free, n, k, s->size[j], s->requested_s[j]);
        if (k == 0) start_job(s, j, t); else reserved++;
        if (j == last) break;
        j = next;
    }
    meta[0] = p;
    meta[1] = n;
    meta[2] = reserved;
}

/* Run events up to and including time `until_s`; returns FINISHED when no event is left. */
int pm_advance(State *s, int policy, double until_s) {
    for (;;) {
        int64_t i = *s->next_submit;
        int has_submit = i < s->n_jobs, has_end = *s->heap_len > 0;
        if (!has_submit && !has_end) return FINISHED;
        double t = has_submit ? s->submit_s[i] : s->heap_t[0];
        if (has_end && s->heap_t[0] < t) t = s->heap_t[0];
        if (t > until_s) return STOPPED_AT_LIMIT;
        *s->clock_s = t;
        /* 1. releases */
        int ended = 0;
        while (*s->heap_len > 0 && s->heap_t[0] == t) {
            int64_t j = s->heap_j[0];
            heap_pop(s);
            release_job(s, j, t);
            ended = 1;
        }
        if (ended && s->power[PW_ON]) /* freed power may let any pool start a job (docs/power.md 4a) */
            for (int64_t p = 0; p < s->n_pools; p++) s->dirty[p] |= s->qlen[p] > 0;
        /* 2. arrivals, in canonical order */
        for (; i < s->n_jobs && s->submit_s[i] == t; i++) {
            int64_t p = s->pool[i];
            s->status[i] = QUEUED;
            queue_append(s, p, i);
            s->dirty[p] = 1;
        }
        *s->next_submit = i;
        /* 3. one pass in every pool where something happened */
        for (int64_t p = 0; p < s->n_pools; p++) {
            if (!s->dirty[p]) continue;
            s->dirty[p] = 0;
            if (policy == POLICY_EASY) easy_pass(s, p, t);
            else if (policy == POLICY_CONSERVATIVE) conservative_pass(s, p, t);
            else fcfs_step(s, p, t);
            s->released[p] = 0;
        }
    }
}

/* ------------------------------------------------------------ SWF byte scanner
 * Data lines to an (n, 18) float64 array in one pass. Only plain decimal numbers that convert exactly
 * are read: at most 15 significant digits and 22 decimals, so mantissa / 10^decimals is one correctly
 * rounded division and equals Python's float(). A line with anything else (another field count, an
 * exponent, another character, a fraction in a whole-number field) is flagged for the plain parser. */

#define SWF_FIELDS 18
#define MAX_DIGITS 15
#define MAX_DECIMALS 22

static inline int is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

static int64_t line_end(const uint8_t *buf, int64_t i, int64_t n) {
    while (i < n && buf[i] != '\n') i++;
    return i;
}

/* The number at buf[*i]; advances *i; returns 1 when read exactly. */
static int parse_number(const uint8_t *buf, int64_t *pi, int64_t n, double *value) {
    static const double pow10[MAX_DECIMALS + 1] = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    int64_t i = *pi;
    int negative = buf[i] == '-';
    if (negative || buf[i] == '+') i++;
    int64_t mantissa = 0;
    int digits = 0, significant = 0, decimals = 0, dot = 0;
    for (; i < n; i++) {
        uint8_t c = buf[i];
        if (c >= '0' && c <= '9') {
            digits++;
            if (significant > 0 || c != '0') significant++;
            if (significant <= MAX_DIGITS) mantissa = mantissa * 10 + (c - '0');
            if (dot) decimals++;
        } else if (c == '.' && !dot) {
            dot = 1;
        } else {
            break;
        }
    }
    *pi = i;
    if (digits == 0 || significant > MAX_DIGITS || decimals > MAX_DECIMALS) return 0;
    if (i < n && buf[i] != '\n' && !is_space(buf[i])) return 0;
    double v = (double)mantissa / pow10[decimals];
    *value = negative ? -v : v;
    return 1;
}

/* Reads the data line at buf[i] into row; returns 1 when all 18 fields were read exactly. */
static int parse_line(const uint8_t *buf, int64_t *pi, int64_t n, const uint8_t *whole, double *row) {
    int64_t i = *pi;
    for (int field = 0;; field++) {
        while (i < n && is_space(buf[i])) i++;
        if (i == n || buf[i] == '\n') { *pi = i; return field == SWF_FIELDS; }
        double value = 0.0;
        if (field == SWF_FIELDS || !parse_number(buf, &i, n, &value) ||
            (whole[field] && value != (double)(int64_t)value)) {
            *pi = line_end(buf, i, n);
            return 0;
        }
        row[field] = value;
    }
}

/* Scan an SWF file's bytes. Outputs per data line: its 18 values (row-major, unspecified where not read
 * exactly), 1-based line number, byte range, exactness; per ';' comment line its byte range. Each output
 * array holds at least (number of newlines + 1) entries. counts[0] = data lines, counts[1] = comments. */
void pm_scan_swf(const uint8_t *buf, int64_t n, const uint8_t *whole, double *values, int64_t *line_no,
                 int64_t *line_start, int64_t *line_stop, uint8_t *exact, int64_t *comment_start,
                 int64_t *comment_stop, int64_t *counts) {
    int64_t pos = 0, line = 0, rows = 0, comments = 0;
    while (pos < n) {
        line++;
        int64_t i = pos, end;
        while (i < n && is_space(buf[i])) i++;
        if (i < n && buf[i] == ';') {
            end = line_end(buf, i, n);
            comment_start[comments] = pos;
            comment_stop[comments] = end;
            comments++;
        } else if (i < n && buf[i] != '\n') {
            exact[rows] = (uint8_t)parse_line(buf, &i, n, whole, values + rows * SWF_FIELDS);
            end = i;
            line_no[rows] = line;
            line_start[rows] = pos;
            line_stop[rows] = end;
            rows++;
        } else {
            end = i;
        }
        pos = end + 1;
    }
    counts[0] = rows;
    counts[1] = comments;
}

/* An importable module, so that the package can locate this library; its functions are called through
 * ctypes. */
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_cnative",
                                    "pmtwin's compiled hot loops (called through ctypes).", -1, NULL};

PyMODINIT_FUNC PyInit__cnative(void) { return PyModule_Create(&module); }
