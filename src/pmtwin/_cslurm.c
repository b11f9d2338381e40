/* Slurm mode (docs/slurm-scheduling.md): the event loop with priorities, QOS limits, walltime kills,
 * reservations, shared nodes, dependencies, arrays and preemption. Plain C over arrays owned by Python
 * (pmtwin/sched/_slurm_state.py builds them; the field order of SState mirrors SLURM_FIELDS there),
 * called through ctypes. Nothing here allocates memory.
 *
 * Jobs are indexed in canonical order (submit time, job id). Nodes are *slots*: pool p owns slots
 * first_slot[p] .. first_slot[p] + capacity[p] - 1. A pool's running set holds *entries* sorted by
 * (estimated end, entry id): a job (id j), a shared node (id n_jobs + slot) or an active reservation
 * (id n_jobs + n_slots + r).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "_cshared.h"

enum { NOTYET = 0, WAITDEP = 1, QUEUED = 2, RUNNING = 3, ENDED = 4 };
enum { COMPLETED = 0, TIMEOUT = 1, CANCELLED = 2, REJECTED = 3 };
enum { R_NONE = 0, R_SUBMIT_LIMIT = 4, R_DEP_NEVER = 6, R_PREEMPTED = 7 };
enum { PRIO_FIFO = 0, PRIO_NERSC = 1, PRIO_MULTIFACTOR = 2 };
enum { POL_FCFS = 0, POL_EASY = 1, POL_CONSERVATIVE = 2 };
enum { AFTEROK = 1 };
enum { STOPPED_AT_LIMIT = 0, FINISHED = 1 };
#define NONE (-1)

typedef struct {
    /* jobs: inputs */
    const double *submit_s, *req_s, *kill_s, *work_s;
    const int64_t *size, *pool, *qos, *user, *acct, *assoc, *arr;
    const int8_t *shared, *may_hold; /* may_hold: a running limit or an array throttle applies to it */
    const int64_t *cores, *gpus, *mem;
    const double *static_prio, *usage_nodes;
    const int8_t *reject_reason;
    int64_t *ndeps;
    const int64_t *dep_off, *dep_child;
    const int8_t *dep_kind;
    const int64_t *node_off;
    /* jobs: state and outputs */
    int8_t *status, *state, *reason, *signalled, *inq, *hq;
    double *start_s, *end_s, *est_end, *eligible_s, *accrued_s, *accrue_since, *lost_node_s;
    int64_t *requeues, *wnext, *wprev, *snext, *node_ids;
    /* pools */
    const int64_t *capacity, *first_slot, *qbase, *cores_pn, *gpus_pn, *mem_pn, *pool_res_off, *pool_res;
    const double *max_req;
    int64_t *free, *qlen, *run_lo, *run_hi, *node_len, *shlen, *shopen, *pool_res_ptr, *preemptible_running,
        *preemptor_queued, *preemptor, *sorted_len, *nqueued, *preemptible_nodes, *signalled_nodes;
    double *last_calc;
    const int64_t *run_base, *run_end;
    int8_t *dirty, *bf_dirty;
    /* buffers */
    int64_t *qbuf, *qunits; /* queue entries and the fresh nodes each needs (0: a shared job) */
    double *qprio;          /* and their priorities (kept beside them: sorting reads no job arrays) */
    double *run_key;
    int64_t *run_id;
    double *heap_t;
    int64_t *heap_j, *heap_len, *heap_cap, *free_nodes, *node_cores, *node_gpus, *node_mem, *node_njobs,
        *node_head, *shpos, *shlist;
    double *node_busy, *prof_t;
    int64_t *prof_free, *scratch;
    /* QOS */
    const double *qos_prio;
    const int64_t *lim_jobs_pu, *lim_nodes_pu, *lim_jobs_pa, *lim_submit_pu, *preempt_mask;
    const int8_t *preemptible;
    /* counters */
    int64_t *urun, *unodes, *usub, *arun, *array_run, *hnext, *uq_held, *aq_held, *arr_held;
    const int64_t *array_throttle;
    int64_t *assoc_count, *assoc_whead, *assoc_wtail;
    double *acct_usage, *acct_last, *acct_running, *fs_total; /* fs_total: usage, last, running */
    /* reservations */
    const int64_t *res_pool, *res_nodes, *res_off, *res_by_start, *res_by_end;
    const double *res_start, *res_end;
    int64_t *res_held, *res_slots, *res_ptrs; /* res_ptrs: next start, next end (in the sorted orders) */
    /* clocks */
    int64_t *next_submit, *last_tick_final; /* a tick with nothing else left (no further tick follows) */
    double *clock_s;
    /* parameters */
    double bf_window_s, bf_interval_s, max_age_s, age_weight, fairshare_weight, half_life_s, grace_s,
        calc_period_s;
    int64_t policy, priority, accrue_limit, bf_max_jobs, requeue, n_jobs, n_pools, n_qos, n_users,
        n_accts, n_res, n_slots, assign_nodes;
} SState;

/* ------------------------------------------------------------ end events (_cshared.h) */

/* A stale entry (the job's end moved, or it ended) is skipped when popped. When the heap is full, it is
 * rebuilt from the running jobs' current ends. */
static void end_push(SState *s, double t, int64_t j) {
    if (*s->heap_len == *s->heap_cap) {
        int64_t n = 0;
        for (int64_t k = 0; k < *s->heap_len; k++) {
            int64_t x = s->heap_j[k];
            if (s->status[x] == RUNNING && s->end_s[x] == s->heap_t[k]) {
                int64_t dup = 0; /* keep one entry per job */
                for (int64_t m = 0; m < n && !dup; m++) dup = s->heap_j[m] == x && s->heap_t[m] == s->heap_t[k];
                if (!dup) pm_event_sift_up(s->heap_t, s->heap_j, n++, s->heap_t[k], x);
            }
        }
        *s->heap_len = n;
    }
    pm_event_push(s->heap_t, s->heap_j, s->heap_len, t, j);
}

static void end_pop(SState *s) { pm_event_pop(s->heap_t, s->heap_j, s->heap_len); }

/* A free node of pool p (the lowest slot), or NONE when pools are only counts of units. */
static int64_t take_slot(SState *s, int64_t p) {
    s->free[p]--;
    if (!s->assign_nodes) return NONE;
    return pm_node_pop(s->free_nodes + s->first_slot[p], s->node_len[p]--);
}

static void give_slot(SState *s, int64_t p, int64_t slot);

/* ------------------------------------------------------------ running sets (sorted entries) */

static int64_t entry_size(const SState *s, int64_t id) {
    if (id < s->n_jobs) return s->size[id];
    if (id < s->n_jobs + s->n_slots) return 1;
    return s->res_held[id - s->n_jobs - s->n_slots];
}

static void run_insert(SState *s, int64_t p, double key, int64_t id) {
    PmSorted r = {s->run_key, s->run_id, s->run_base[p], s->run_end[p], &s->run_lo[p], &s->run_hi[p]};
    pm_sorted_insert(&r, key, id);
}

static void run_remove(SState *s, int64_t p, double key, int64_t id) {
    PmSorted r = {s->run_key, s->run_id, s->run_base[p], s->run_end[p], &s->run_lo[p], &s->run_hi[p]};
    pm_sorted_remove(&r, key, id);
}

static inline double est(double key, double t) { return pm_estimated_end(key, t); }

/* ------------------------------------------------------------ reservations holding nodes */

/* Return one node (slot NONE when pools are counts) to pool p: an active reservation short of nodes
 * (they were busy when it began) takes it first. */
static void give_slot(SState *s, int64_t p, int64_t slot) {
    for (int64_t k = s->pool_res_ptr[p]; k < s->pool_res_off[p + 1]; k++) {
        int64_t r = s->pool_res[k], id = s->n_jobs + s->n_slots + r;
        if (s->res_held[r] == -2) break; /* reservations are sorted by start: the rest lie ahead */
        if (s->res_held[r] < 0 || s->res_held[r] >= s->res_nodes[r]) continue; /* over, or full */
        run_remove(s, p, s->res_end[r], id);
        s->res_slots[s->res_off[r] + s->res_held[r]++] = slot;
        run_insert(s, p, s->res_end[r], id);
        return;
    }
    if (s->assign_nodes) pm_node_push(s->free_nodes + s->first_slot[p], s->node_len[p]++, slot);
    s->free[p]++;
}

/* Return `units` nodes of an exclusive job; with counts only, reservations short of nodes first. */
static void give_units(SState *s, int64_t p, int64_t j) {
    if (s->assign_nodes) {
        for (int64_t k = s->node_off[j]; k < s->node_off[j + 1]; k++) give_slot(s, p, s->node_ids[k]);
        return;
    }
    int64_t units = s->size[j];
    while (units > 0 && s->pool_res_ptr[p] < s->pool_res_off[p + 1] &&
           s->res_held[s->pool_res[s->pool_res_ptr[p]]] != -2) { /* some reservation is active */
        int64_t before = s->free[p];
        give_slot(s, p, NONE);
        units--;
        if (s->free[p] > before) break; /* no reservation took it: the rest go free at once */
    }
    s->free[p] += units;
}

static void reservation_begin(SState *s, int64_t r) {
    int64_t p = s->res_pool[r];
    s->res_held[r] = 0;
    while (s->res_held[r] < s->res_nodes[r] && s->free[p] > 0)
        s->res_slots[s->res_off[r] + s->res_held[r]++] = take_slot(s, p);
    run_insert(s, p, s->res_end[r], s->n_jobs + s->n_slots + r);
    s->dirty[p] = 1;
}

static void reservation_end(SState *s, int64_t r) {
    int64_t p = s->res_pool[r], held = s->res_held[r];
    run_remove(s, p, s->res_end[r], s->n_jobs + s->n_slots + r);
    s->res_held[r] = -1;
    for (int64_t k = 0; k < held; k++) give_slot(s, p, s->res_slots[s->res_off[r] + k]);
    s->dirty[p] = 1;
}

/* ------------------------------------------------------------ fairshare usage (decayed node-seconds) */

static void usage_advance(double *usage, double *last, double running, double t, double half_life) {
    if (t > *last) {
        double decay = exp2(-(t - *last) / half_life);
        *usage = *usage * decay + running * half_life / M_LN2 * (1.0 - decay);
        *last = t;
    }
}

static void usage_change(SState *s, int64_t j, double t, double sign) {
    if (s->fairshare_weight <= 0.0) return;
    double units = sign * s->usage_nodes[j];
    usage_advance(&s->fs_total[0], &s->fs_total[1], s->fs_total[2], t, s->half_life_s);
    s->fs_total[2] += units;
    int64_t a = s->acct[j];
    if (a < 0) return;
    usage_advance(&s->acct_usage[a], &s->acct_last[a], s->acct_running[a], t, s->half_life_s);
    s->acct_running[a] += units;
}

static double fairshare(SState *s, int64_t a, double t) {
    usage_advance(&s->fs_total[0], &s->fs_total[1], s->fs_total[2], t, s->half_life_s);
    if (a < 0 || s->fs_total[0] <= 0.0) return 1.0;
    usage_advance(&s->acct_usage[a], &s->acct_last[a], s->acct_running[a], t, s->half_life_s);
    return exp2(-(s->acct_usage[a] / s->fs_total[0]) * (double)s->n_accts);
}

/* ------------------------------------------------------------ age accrual (per association) */

static void accrue_start(SState *s, int64_t j, double t) {
    s->accrue_since[j] = t;
    s->assoc_count[s->assoc[j]]++;
}

/* j became eligible at t: it accrues at once if its association has room, else waits in eligibility
 * order (ties: job order). Eligibility times only grow, so j goes after every waiter except those
 * that became eligible at t too with a higher index. */
static void accrue_join(SState *s, int64_t j, double t) {
    int64_t a = s->assoc[j];
    s->eligible_s[j] = t;
    s->accrued_s[j] = 0.0;
    s->accrue_since[j] = NAN;
    if (s->accrue_limit == 0 || a < 0) { s->accrue_since[j] = t; return; }
    if (s->assoc_count[a] < s->accrue_limit && s->assoc_whead[a] == NONE) { accrue_start(s, j, t); return; }
    int64_t after = s->assoc_wtail[a];
    while (after != NONE && s->eligible_s[after] == t && after > j) after = s->wprev[after];
    int64_t next = after == NONE ? s->assoc_whead[a] : s->wnext[after];
    s->wprev[j] = after;
    s->wnext[j] = next;
    if (after == NONE) s->assoc_whead[a] = j; else s->wnext[after] = j;
    if (next == NONE) s->assoc_wtail[a] = j; else s->wprev[next] = j;
}

static void wait_remove(SState *s, int64_t a, int64_t j) {
    int64_t prev = s->wprev[j], next = s->wnext[j];
    if (prev == NONE) s->assoc_whead[a] = next; else s->wnext[prev] = next;
    if (next == NONE) s->assoc_wtail[a] = prev; else s->wprev[next] = prev;
}

/* j leaves the queue at t (it starts): its association's next waiting job begins to accrue. */
static void accrue_leave(SState *s, int64_t j, double t) {
    int64_t a = s->assoc[j];
    if (s->accrue_limit == 0 || a < 0) return;
    if (s->accrue_since[j] == s->accrue_since[j]) {
        s->assoc_count[a]--;
        int64_t w = s->assoc_whead[a];
        if (w != NONE) {
            wait_remove(s, a, w);
            accrue_start(s, w, t);
        }
    } else {
        wait_remove(s, a, j);
    }
}

static double age_s(const SState *s, int64_t j, double t) {
    double since = s->accrue_since[j];
    return s->accrued_s[j] + (since == since ? t - since : 0.0);
}

/* ------------------------------------------------------------ limits */

enum { FREE_TO_RUN = 0, HELD_USER = 1, HELD_ACCOUNT = 2, HELD_ARRAY = 3 };

/* Which limit holds j back now, if any. */
static int held(const SState *s, int64_t j) {
    int64_t q = s->qos[j], u = s->user[j], a = s->acct[j], x = s->arr[j];
    if (u >= 0) {
        int64_t k = u * s->n_qos + q;
        if (s->lim_jobs_pu[q] > 0 && s->urun[k] >= s->lim_jobs_pu[q]) return HELD_USER;
        if (s->lim_nodes_pu[q] > 0 && s->unodes[k] + s->size[j] > s->lim_nodes_pu[q]) return HELD_USER;
    }
    if (a >= 0 && s->lim_jobs_pa[q] > 0 && s->arun[a * s->n_qos + q] >= s->lim_jobs_pa[q]) return HELD_ACCOUNT;
    if (x >= 0 && s->array_throttle[x] > 0 && s->array_run[x] >= s->array_throttle[x]) return HELD_ARRAY;
    return FREE_TO_RUN;
}

static void queue_append(SState *s, int64_t p, int64_t j) {
    int64_t k = s->qbase[p] + s->qlen[p]++;
    s->qbuf[k] = j;
    s->qunits[k] = s->shared[j] ? 0 : s->size[j];
    s->qprio[k] = 0.0;
}

static int64_t *held_list(SState *s, int64_t j, int why) {
    if (why == HELD_USER) return &s->uq_held[s->user[j] * s->n_qos + s->qos[j]];
    if (why == HELD_ACCOUNT) return &s->aq_held[s->acct[j] * s->n_qos + s->qos[j]];
    return &s->arr_held[s->arr[j]];
}

/* Held jobs wait on a list of the limit that holds them, and the release of that limit gives their
 * pool a pass. While listed they are also out of the queue's view, except with a priority calculation
 * period: there a held job keeps its place (its priority stays as last computed), since leaving and
 * rejoining the queue could change its priority. */
static inline int hide_held(const SState *s) { return s->priority == PRIO_FIFO || s->calc_period_s <= 0.0; }

static int hold_if_limited(SState *s, int64_t j) {
    if (s->hq[j]) return 1; /* listed, and not released since: still held */
    if (!s->may_hold[j]) return 0;
    int why = held(s, j);
    if (why == FREE_TO_RUN) return 0;
    int64_t *head = held_list(s, j, why);
    s->hq[j] = (int8_t)why;
    s->hnext[j] = *head;
    *head = j;
    return 1;
}

static void release_held(SState *s, int64_t *head) {
    for (int64_t j = *head; j != NONE; j = s->hnext[j]) {
        int64_t p = s->pool[j];
        s->hq[j] = 0;
        if (!s->inq[j]) queue_append(s, p, j);
        s->inq[j] = 1;
        s->dirty[p] = 1;
    }
    *head = NONE;
}

static void count_running(SState *s, int64_t j, int64_t sign) {
    int64_t q = s->qos[j], u = s->user[j], a = s->acct[j], x = s->arr[j];
    if (u >= 0) {
        s->urun[u * s->n_qos + q] += sign;
        s->unodes[u * s->n_qos + q] += sign * s->size[j];
        if (sign < 0) release_held(s, &s->uq_held[u * s->n_qos + q]);
    }
    if (a >= 0) {
        s->arun[a * s->n_qos + q] += sign;
        if (sign < 0) release_held(s, &s->aq_held[a * s->n_qos + q]);
    }
    if (x >= 0) {
        s->array_run[x] += sign;
        if (sign < 0) release_held(s, &s->arr_held[x]);
    }
    if (s->preemptible[q]) {
        s->preemptible_running[s->pool[j]] += sign;
        if (!s->shared[j]) s->preemptible_nodes[s->pool[j]] += sign * s->size[j];
    }
    if (sign < 0 && s->signalled[j]) s->signalled_nodes[s->pool[j]] -= s->size[j];
}

/* ------------------------------------------------------------ shared nodes */

static int node_fits(const SState *s, int64_t slot, int64_t j) {
    return s->node_cores[slot] >= s->cores[j] && s->node_gpus[slot] >= s->gpus[j] &&
           s->node_mem[slot] >= s->mem[j];
}

/* The shared node of pool p with the least free cores that fits j (ties: lowest slot); NONE if none. */
static int64_t best_shared(const SState *s, int64_t p, int64_t j) {
    int64_t best = NONE;
    const int64_t *list = s->shlist + s->first_slot[p];
    for (int64_t k = 0; k < s->shlen[p]; k++) {
        int64_t n = list[k];
        if (!node_fits(s, n, j)) continue;
        if (best == NONE || s->node_cores[n] < s->node_cores[best] ||
            (s->node_cores[n] == s->node_cores[best] && n < best))
            best = n;
    }
    return best;
}

/* A shared node with cores and memory left can take another shared job. */
static inline int node_open(const SState *s, int64_t slot) { return s->node_cores[slot] > 0 && s->node_mem[slot] > 0; }

static void shared_add_node(SState *s, int64_t p, int64_t slot) {
    int64_t *list = s->shlist + s->first_slot[p];
    s->shpos[slot] = s->shlen[p];
    list[s->shlen[p]++] = slot;
    s->node_cores[slot] = s->cores_pn[p];
    s->node_gpus[slot] = s->gpus_pn[p];
    s->node_mem[slot] = s->mem_pn[p];
    s->node_njobs[slot] = 0;
    s->node_head[slot] = NONE;
    s->node_busy[slot] = -INFINITY;
    s->shopen[p]++;
}

static void shared_set_busy(SState *s, int64_t p, int64_t slot, double busy) {
    int64_t id = s->n_jobs + slot;
    if (s->node_njobs[slot] > 0) run_remove(s, p, s->node_busy[slot], id);
    s->node_busy[slot] = busy;
    if (busy > -INFINITY) run_insert(s, p, busy, id);
}

static void shared_place(SState *s, int64_t p, int64_t slot, int64_t j) {
    double busy = s->node_busy[slot] > s->est_end[j] ? s->node_busy[slot] : s->est_end[j];
    shared_set_busy(s, p, slot, busy);
    s->shopen[p] -= node_open(s, slot);
    s->node_cores[slot] -= s->cores[j];
    s->node_gpus[slot] -= s->gpus[j];
    s->node_mem[slot] -= s->mem[j];
    s->shopen[p] += node_open(s, slot);
    s->node_njobs[slot]++;
    s->snext[j] = s->node_head[slot];
    s->node_head[slot] = j;
    s->node_ids[s->node_off[j]] = slot;
}

static void shared_release(SState *s, int64_t p, int64_t j) {
    int64_t slot = s->node_ids[s->node_off[j]];
    s->shopen[p] -= node_open(s, slot);
    s->node_cores[slot] += s->cores[j];
    s->node_gpus[slot] += s->gpus[j];
    s->node_mem[slot] += s->mem[j];
    s->shopen[p] += node_open(s, slot);
    int64_t *link = &s->node_head[slot];
    while (*link != j) link = &s->snext[*link];
    *link = s->snext[j];
    double busy = -INFINITY;
    for (int64_t k = s->node_head[slot]; k != NONE; k = s->snext[k])
        if (s->est_end[k] > busy) busy = s->est_end[k];
    shared_set_busy(s, p, slot, busy); /* removes the entry while njobs still counts j */
    if (--s->node_njobs[slot] > 0) return;
    s->shopen[p]--; /* an empty shared node is open; it goes back to the free nodes */
    int64_t *list = s->shlist + s->first_slot[p], pos = s->shpos[slot], last = list[--s->shlen[p]];
    list[pos] = last;
    s->shpos[last] = pos;
    s->shpos[slot] = NONE;
    give_slot(s, p, slot);
}

/* ------------------------------------------------------------ queue */

/* A job appears at most once in its pool's queue buffer: one started and requeued before the buffer
 * was compacted keeps its entry. */
static void enqueue(SState *s, int64_t j, double t) {
    int64_t p = s->pool[j];
    s->status[j] = QUEUED;
    if (!s->inq[j]) queue_append(s, p, j);
    s->inq[j] = 1;
    s->nqueued[p]++;
    s->dirty[p] = 1;
    accrue_join(s, j, t);
    if (s->preempt_mask[s->qos[j]]) s->preemptor_queued[p]++;
}

/* ------------------------------------------------------------ starting and ending jobs */

static void start_job(SState *s, int64_t j, double t, int64_t shared_slot) {
    int64_t p = s->pool[j];
    accrue_leave(s, j, t);
    s->nqueued[p]--;
    if (s->preempt_mask[s->qos[j]]) s->preemptor_queued[p]--;
    s->status[j] = RUNNING;
    s->start_s[j] = t;
    s->est_end[j] = t + s->req_s[j];
    double run = s->work_s[j] < s->kill_s[j] ? s->work_s[j] : s->kill_s[j];
    s->end_s[j] = t + run;
    end_push(s, s->end_s[j], j);
    count_running(s, j, 1);
    usage_change(s, j, t, 1.0);
    if (s->shared[j]) {
        if (shared_slot == NONE) {
            shared_slot = take_slot(s, p);
            shared_add_node(s, p, shared_slot);
        }
        shared_place(s, p, shared_slot, j);
        return;
    }
    run_insert(s, p, s->est_end[j], j);
    if (!s->assign_nodes) s->free[p] -= s->size[j];
    for (int64_t k = s->node_off[j]; k < s->node_off[j + 1]; k++) s->node_ids[k] = take_slot(s, p);
}

static void settle_dependents(SState *s, int64_t j, int ok, double t);

static void finish(SState *s, int64_t j, int8_t state, int8_t reason, double t) {
    s->status[j] = ENDED;
    s->state[j] = state;
    s->reason[j] = reason;
    int64_t u = s->user[j];
    if (u >= 0 && state != REJECTED) s->usub[u * s->n_qos + s->qos[j]]--;
    settle_dependents(s, j, state == COMPLETED, t);
}

static void settle_dependents(SState *s, int64_t j, int ok, double t) {
    for (int64_t k = s->dep_off[j]; k < s->dep_off[j + 1]; k++) {
        int64_t c = s->dep_child[k];
        if (s->status[c] == ENDED) continue; /* already cancelled through another dependency */
        if (s->dep_kind[k] == AFTEROK && !ok) {
            if (s->status[c] == NOTYET) {
                /* not submitted yet: it is cancelled at its submission (its ndeps marks it) */
                s->ndeps[c] = -1;
                continue;
            }
            finish(s, c, CANCELLED, R_DEP_NEVER, t);
            continue;
        }
        if (s->ndeps[c] > 0 && --s->ndeps[c] == 0 && s->status[c] == WAITDEP) enqueue(s, c, t);
    }
}

static void release(SState *s, int64_t j, double t) {
    int64_t p = s->pool[j];
    count_running(s, j, -1);
    usage_change(s, j, t, -1.0);
    if (s->shared[j]) {
        shared_release(s, p, j);
    } else {
        run_remove(s, p, s->est_end[j], j);
        give_units(s, p, j);
    }
    s->end_s[j] = t;
    s->dirty[p] = 1;
}

static void compact(SState *s, int64_t p);

static void end_job(SState *s, int64_t j, double t) {
    release(s, j, t);
    double natural = s->start_s[j] + (s->work_s[j] < s->kill_s[j] ? s->work_s[j] : s->kill_s[j]);
    if (s->signalled[j] && t < natural) {
        s->signalled[j] = 0;
        if (s->requeue) {
            s->requeues[j]++;
            s->lost_node_s[j] += (double)s->size[j] * (t - s->start_s[j]);
            s->start_s[j] = NAN;
            s->end_s[j] = NAN;
            if (s->inq[j]) compact(s, s->pool[j]); /* its old entry goes: it rejoins as a new job */
            enqueue(s, j, t);
            return;
        }
        finish(s, j, CANCELLED, R_PREEMPTED, t);
        return;
    }
    s->signalled[j] = 0;
    finish(s, j, s->work_s[j] > s->kill_s[j] ? TIMEOUT : COMPLETED, R_NONE, t);
}

static void submit(SState *s, int64_t j, double t) {
    int64_t u = s->user[j], q = s->qos[j];
    if (s->reject_reason[j] != R_NONE) {
        finish(s, j, REJECTED, s->reject_reason[j], t);
        return;
    }
    if (s->ndeps[j] < 0) { /* an afterok dependency ended without completing before j was submitted */
        s->status[j] = WAITDEP;
        if (u >= 0) s->usub[u * s->n_qos + q]++;
        finish(s, j, CANCELLED, R_DEP_NEVER, t);
        return;
    }
    if (u >= 0 && s->lim_submit_pu[q] > 0 && s->usub[u * s->n_qos + q] >= s->lim_submit_pu[q]) {
        finish(s, j, REJECTED, R_SUBMIT_LIMIT, t);
        return;
    }
    if (u >= 0) s->usub[u * s->n_qos + q]++;
    if (s->ndeps[j] > 0) s->status[j] = WAITDEP; else enqueue(s, j, t);
}

/* ------------------------------------------------------------ priorities and queue order */

static double priority_of(SState *s, int64_t j, double t) {
    if (s->priority == PRIO_NERSC) return s->qos_prio[s->qos[j]] + floor(age_s(s, j, t) / 60.0);
    double age = age_s(s, j, t) / s->max_age_s;
    double value = s->static_prio[j] + s->age_weight * (age < 1.0 ? age : 1.0);
    if (s->fairshare_weight > 0.0) value += s->fairshare_weight * fairshare(s, s->acct[j], t);
    return value;
}

/* Queue order: higher priority first, ties in job order. */
static inline int ahead(double pa, int64_t a, double pb, int64_t b) { return pa > pb || (pa == pb && a < b); }

/* Keep the jobs still queued, in order (the sorted part shrinks with them). */
static void compact(SState *s, int64_t p) {
    int64_t *q = s->qbuf + s->qbase[p], *u = s->qunits + s->qbase[p], n = 0, sorted = 0;
    double *pr = s->qprio + s->qbase[p];
    for (int64_t k = 0; k < s->qlen[p]; k++) {
        if (s->status[q[k]] == QUEUED && !(s->hq[q[k]] && hide_held(s))) {
            u[n] = u[k];
            pr[n] = pr[k];
            q[n++] = q[k];
            if (k < s->sorted_len[p]) sorted++;
        } else {
            s->inq[q[k]] = 0;
        }
    }
    s->qlen[p] = n;
    s->sorted_len[p] = sorted;
}

/* Bring the pool's queue into priority order. At a priority calculation (every pass, or once per
 * calc_period_s as Slurm's PriorityCalcPeriod) every queued job's priority is recomputed and the queue
 * re-sorted (insertion sort: the order changes little); otherwise only jobs queued since the last pass
 * get a priority and are inserted in place, and jobs that left are dropped when they pile up. */
static void order_queue(SState *s, int64_t p, double t) {
    int64_t *q = s->qbuf + s->qbase[p], *u = s->qunits + s->qbase[p];
    double *pr = s->qprio + s->qbase[p];
    int recalc = s->priority != PRIO_FIFO && (s->calc_period_s <= 0.0 || t >= s->last_calc[p] + s->calc_period_s);
    if (recalc) { /* drop the jobs that left, compute the others' priorities, re-sort */
        int64_t n = 0;
        for (int64_t k = 0; k < s->qlen[p]; k++) {
            int64_t j = q[k];
            if (s->status[j] != QUEUED || (s->hq[j] && hide_held(s))) { s->inq[j] = 0; continue; }
            pr[n] = priority_of(s, j, t);
            u[n] = u[k];
            q[n++] = j;
        }
        for (int64_t k = 1; k < n; k++) {
            int64_t j = q[k], units = u[k], m = k;
            double prio = pr[k];
            while (m > 0 && ahead(prio, j, pr[m - 1], q[m - 1])) {
                q[m] = q[m - 1];
                u[m] = u[m - 1];
                pr[m] = pr[m - 1];
                m--;
            }
            q[m] = j;
            u[m] = units;
            pr[m] = prio;
        }
        s->qlen[p] = n;
        s->sorted_len[p] = n;
        s->last_calc[p] = t;
        s->bf_dirty[p] = 1; /* the order may have changed */
        return;
    }
    if (s->qlen[p] > 2 * s->nqueued[p] + 64) compact(s, p);
    int64_t w = s->sorted_len[p];
    for (int64_t k = s->sorted_len[p]; k < s->qlen[p]; k++) {
        int64_t j = q[k], units = u[k];
        if (s->status[j] != QUEUED || (s->hq[j] && hide_held(s))) { s->inq[j] = 0; continue; }
        double prio = s->priority == PRIO_FIFO ? 0.0 : priority_of(s, j, t);
        int64_t lo = 0, hi = w; /* the first entry j goes ahead of */
        while (lo < hi) {
            int64_t mid = (lo + hi) >> 1;
            if (ahead(prio, j, pr[mid], q[mid])) hi = mid; else lo = mid + 1;
        }
        memmove(q + lo + 1, q + lo, (size_t)(w - lo) * sizeof(int64_t));
        memmove(u + lo + 1, u + lo, (size_t)(w - lo) * sizeof(int64_t));
        memmove(pr + lo + 1, pr + lo, (size_t)(w - lo) * sizeof(double));
        q[lo] = j;
        u[lo] = units;
        pr[lo] = prio;
        w++;
    }
    s->qlen[p] = w;
    s->sorted_len[p] = w;
}

/* ------------------------------------------------------------ availability profile */

/* The index of the step starting at time x (>= the first step's time), splitting a step if needed. */
static int64_t split(double *pt, int64_t *pf, int64_t *n, double x) {
    int64_t lo = 0, hi = *n;
    while (lo < hi) {
        int64_t mid = (lo + hi) >> 1;
        if (pt[mid] < x) lo = mid + 1; else hi = mid;
    }
    if (lo < *n && pt[lo] == x) return lo;
    memmove(pt + lo + 1, pt + lo, (size_t)(*n - lo) * sizeof(double));
    memmove(pf + lo + 1, pf + lo, (size_t)(*n - lo) * sizeof(int64_t));
    pt[lo] = x;
    pf[lo] = pf[lo - 1];
    (*n)++;
    return lo;
}

static void block(double *pt, int64_t *pf, int64_t *n, double from, double to, int64_t units) {
    int64_t a = split(pt, pf, n, from), b = split(pt, pf, n, to);
    for (int64_t k = a; k < b; k++) pf[k] -= units;
}

/* The least free units over [from, to). */
static int64_t least(const double *pt, const int64_t *pf, int64_t n, double from, double to) {
    int64_t lo = 0, hi = n;
    while (lo < hi) { /* the step holding `from` */
        int64_t mid = (lo + hi) >> 1;
        if (pt[mid] <= from) lo = mid + 1; else hi = mid;
    }
    int64_t low = pf[lo - 1];
    for (int64_t k = lo; k < n && pt[k] < to; k++) if (pf[k] < low) low = pf[k];
    return low;
}

/* When the pool's next reservation not yet begun starts (inf: none). */
static double next_reservation(const SState *s, int64_t p) {
    for (int64_t x = s->pool_res_ptr[p]; x < s->pool_res_off[p + 1]; x++)
        if (s->res_held[s->pool_res[x]] == -2) return s->res_start[s->pool_res[x]];
    return INFINITY;
}

/* Free nodes over time from t: running entries' estimated ends, minus reservations not yet begun. */
static int64_t build_profile(SState *s, int64_t p, double t) {
    double *pt = s->prof_t;
    int64_t *pf = s->prof_free, n = 1;
    pt[0] = t;
    pf[0] = s->free[p];
    for (int64_t k = s->run_lo[p]; k < s->run_hi[p]; k++) {
        double e = est(s->run_key[k], t);
        int64_t units = entry_size(s, s->run_id[k]);
        if (e == pt[n - 1]) pf[n - 1] += units; else { pt[n] = e; pf[n] = pf[n - 1] + units; n++; }
    }
    for (int64_t x = s->pool_res_ptr[p]; x < s->pool_res_off[p + 1]; x++) {
        int64_t r = s->pool_res[x];
        if (s->res_held[r] == -2) block(pt, pf, &n, s->res_start[r], s->res_end[r], s->res_nodes[r]);
    }
    return n;
}

/* ------------------------------------------------------------ placing jobs in a pass */

typedef struct {
    int profile;      /* plan with the profile (reservations ahead, or conservative) */
    int64_t n;        /* profile steps */
    double shadow;    /* EASY without profile: the blocked job's shadow time (inf: no reservation) */
    int64_t extra;    /* and its extra nodes */
    int guarded;      /* a blocked job's reservation must be kept */
} Plan;

/* Can shared job j go on shared node `slot` now under the plan? Applies the plan's bookkeeping if so. */
static int shared_node_ok(SState *s, Plan *pl, int64_t slot, int64_t j, double t) {
    double busy = est(s->node_busy[slot], t), end = t + s->req_s[j];
    if (end <= busy) return 1;
    if (pl->profile) {
        if (least(s->prof_t, s->prof_free, pl->n, busy, end) < 1) return 0;
        block(s->prof_t, s->prof_free, &pl->n, busy, end, 1);
        return 1;
    }
    if (!pl->guarded || busy > pl->shadow || end <= pl->shadow) return 1;
    if (pl->extra < 1) return 0;
    pl->extra--;
    return 1;
}

/* A run of `units` nodes until `end` cannot fit beside a reservation starting before `end` that leaves
 * fewer nodes than that (the quick answer for whole-system maintenance). */
static int blocked_by_reservation(const SState *s, int64_t p, int64_t units, double end) {
    for (int64_t x = s->pool_res_ptr[p]; x < s->pool_res_off[p + 1]; x++) {
        int64_t r = s->pool_res[x];
        if (s->res_start[r] >= end) break; /* sorted by start: the rest begin later */
        if (s->res_held[r] == -2 && s->res_nodes[r] + units > s->capacity[p]) return 1;
    }
    return 0;
}

/* Can j take `units` fresh nodes now under the plan? Applies the plan's bookkeeping if so. */
static int fresh_ok(SState *s, Plan *pl, int64_t units, int64_t j, double t) {
    if (units > s->free[s->pool[j]]) return 0;
    double end = t + s->req_s[j];
    if (pl->profile) {
        if (blocked_by_reservation(s, s->pool[j], units, end)) return 0;
        if (least(s->prof_t, s->prof_free, pl->n, t, end) < units) return 0;
        block(s->prof_t, s->prof_free, &pl->n, t, end, units);
        return 1;
    }
    if (!pl->guarded || end <= pl->shadow) return 1;
    if (units > pl->extra) return 0;
    pl->extra -= units;
    return 1;
}

/* Start j now if the plan allows; 1 if started. A shared job's placement is the best-fit shared node,
 * else a fresh node; only that placement is tried. */
static int try_start(SState *s, Plan *pl, int64_t j, double t) {
    if (!s->shared[j]) {
        if (!fresh_ok(s, pl, s->size[j], j, t)) return 0;
        start_job(s, j, t, NONE);
        return 1;
    }
    int64_t slot = best_shared(s, s->pool[j], j);
    if (slot != NONE ? !shared_node_ok(s, pl, slot, j, t) : !fresh_ok(s, pl, 1, j, t)) return 0;
    start_job(s, j, t, slot);
    return 1;
}

static int64_t units_of(const SState *s, int64_t j) { return s->shared[j] ? 1 : s->size[j]; }

/* EASY without reservations ahead: the blocked job h's shadow time and extra nodes (semantics doc). */
static void shadow_of(SState *s, Plan *pl, int64_t p, int64_t h, double t) {
    int64_t need = units_of(s, h) - s->free[p], acc = 0, k = s->run_lo[p], hi = s->run_hi[p];
    for (; k < hi; k++) {
        acc += entry_size(s, s->run_id[k]);
        if (acc >= need) break;
    }
    double shadow = est(s->run_key[k], t);
    for (k++; k < hi && est(s->run_key[k], t) == shadow; k++) acc += entry_size(s, s->run_id[k]);
    pl->shadow = shadow;
    pl->extra = s->free[p] + acc - units_of(s, h);
}

/* Reserve h in the plan, unless its reservation would lie beyond the backfill window (then no guard).
 * Without the profile, the shadow time ignores reservations not yet begun; when h's planned run would
 * reach the next one (`ahead`), the plan switches to the profile, which counts them. */
static void guard(SState *s, Plan *pl, int64_t p, int64_t h, double t, double ahead) {
    double limit = s->bf_window_s > 0.0 ? t + s->bf_window_s : INFINITY;
    if (!pl->profile) {
        shadow_of(s, pl, p, h, t);
        if (pl->shadow + s->req_s[h] <= ahead) {
            pl->guarded = pl->shadow <= limit;
            return;
        }
        pl->profile = 1;
        pl->n = build_profile(s, p, t);
    }
    int64_t k = pm_earliest_fit(s->prof_t, s->prof_free, pl->n, units_of(s, h), s->req_s[h]);
    if (s->prof_t[k] > limit) return;
    block(s->prof_t, s->prof_free, &pl->n, s->prof_t[k], s->prof_t[k] + s->req_s[h], units_of(s, h));
    pl->guarded = 1;
}

/* ------------------------------------------------------------ preemption */

/* h (blocked, first in its pool's queue) may preempt: signal the most recently started preemptible
 * jobs it may preempt until enough nodes free up (with no grace time they end at once); returns 1 when
 * it signalled any. */
static int preempt_for(SState *s, int64_t p, int64_t h, double t) {
    int64_t mask = s->preempt_mask[s->qos[h]];
    if (mask == 0 || s->preemptible_running[p] == 0) return 0;
    int64_t need = units_of(s, h), settled = s->free[p] + s->signalled_nodes[p];
    if (settled >= need || settled + s->preemptible_nodes[p] < need) return 0; /* no need, or no way */
    int64_t avail = s->free[p], *cand = s->scratch, n = 0;
    for (int64_t k = s->run_lo[p]; k < s->run_hi[p]; k++) {
        int64_t j = s->run_id[k];
        if (j >= s->n_jobs) continue;
        if (s->signalled[j]) avail += s->size[j];
        else if ((mask >> s->qos[j]) & 1) cand[n++] = j;
    }
    if (avail >= need) return 0;
    /* most recently started first; ties: higher index first (insertion sort: candidates are few) */
    for (int64_t a = 1; a < n; a++) {
        int64_t j = cand[a], m = a;
        while (m > 0 && (s->start_s[j] > s->start_s[cand[m - 1]] ||
                         (s->start_s[j] == s->start_s[cand[m - 1]] && j > cand[m - 1]))) {
            cand[m] = cand[m - 1];
            m--;
        }
        cand[m] = j;
    }
    int64_t chosen = 0;
    while (chosen < n && avail < need) avail += s->size[cand[chosen++]];
    if (avail < need) return 0;
    s->preemptor[p] = h;
    for (int64_t c = 0; c < chosen; c++) {
        int64_t j = cand[c];
        double stop = t + s->grace_s;
        s->signalled[j] = 1;
        s->signalled_nodes[p] += s->size[j];
        if (stop < s->est_end[j]) {
            run_remove(s, p, s->est_end[j], j);
            s->est_end[j] = stop;
            run_insert(s, p, stop, j);
        }
        if (stop < s->end_s[j]) {
            s->end_s[j] = stop;
            if (s->grace_s > 0.0) end_push(s, stop, j);
        }
    }
    if (s->grace_s <= 0.0)
        for (int64_t c = 0; c < chosen; c++) end_job(s, cand[c], t);
    return chosen > 0;
}

/* ------------------------------------------------------------ one pass in a pool */

/* Quick EASY test: can a job needing `units` fresh nodes (0: shared) start now under the plan? A job
 * that passes may still be refused by try_start (reservations ahead, shared nodes). */
static inline int easy_may_start(const SState *s, const Plan *pl, int64_t j, int64_t units, double t) {
    if (units > s->free[s->pool[j]]) return 0;
    return units == 0 || !pl->guarded || pl->profile || units <= pl->extra || t + s->req_s[j] <= pl->shadow;
}

static void pass(SState *s, int64_t p, double t, int backfill) {
    int tries = 0;
again:
    if (s->free[p] == 0 && s->shopen[p] == 0 &&
        !(s->preemptor_queued[p] > 0 && s->preemptible_running[p] > 0)) {
        /* nothing could start; with a calculation period, priorities still follow this pass (a due
         * calculation, jobs that joined the queue get theirs now) */
        if (s->priority != PRIO_FIFO && s->calc_period_s > 0.0) order_queue(s, p, t);
        return;
    }
    order_queue(s, p, t);
    int64_t *q = s->qbuf + s->qbase[p], nq = s->qlen[p], k = 0, h = NONE;
    Plan pl = {0, 0, INFINITY, 0, 0};
    /* Reservations ahead matter to planning only if a job starting now could reach the next one (the
     * longest requested time of the pool decides), or the blocked job's planned run could (guard). */
    double ahead = next_reservation(s, p);
    pl.profile = t + s->max_req[p] > ahead || (backfill && s->policy == POL_CONSERVATIVE);
    if (pl.profile) pl.n = build_profile(s, p, t);
    int64_t first = s->preemptor[p]; /* a preemptor takes its victims' nodes before anyone else */
    if (first != NONE && (s->status[first] != QUEUED ||
                          (!s->hq[first] && !hold_if_limited(s, first) && try_start(s, &pl, first, t))))
        s->preemptor[p] = NONE;
    for (; k < nq; k++) { /* main step: in priority order while jobs fit */
        int64_t j = q[k];
        if (s->status[j] != QUEUED || s->hq[j] || hold_if_limited(s, j)) continue;
        if (!try_start(s, &pl, j, t)) { h = j; break; }
    }
    if (h == NONE) return;
    if (tries++ == 0 && preempt_for(s, p, h, t)) goto again;
    if (!backfill || s->policy == POL_FCFS) return;
    guard(s, &pl, p, h, t, ahead);
    double limit = s->bf_window_s > 0.0 ? t + s->bf_window_s : INFINITY;
    int64_t tested = 0, counting = s->bf_max_jobs > 0;
    for (k++; k < nq; k++) {
        if (counting && tested >= s->bf_max_jobs) break;
        if (s->free[p] == 0 && s->shopen[p] == 0) break;
        int64_t j = q[k], units = s->qunits[s->qbase[p] + k];
        /* EASY passes over a job that cannot start now (conservative reserves it); the quick checks
         * come first unless the jobs looked at are being counted (held ones are not) */
        int easy = s->policy != POL_CONSERVATIVE;
        if (easy && !counting && !easy_may_start(s, &pl, j, units, t)) continue;
        if (s->status[j] != QUEUED || s->hq[j] || hold_if_limited(s, j)) continue;
        tested++;
        if (easy && counting && !easy_may_start(s, &pl, j, units, t)) continue;
        if (s->policy == POL_CONSERVATIVE) {
            int64_t f = pm_earliest_fit(s->prof_t, s->prof_free, pl.n, s->size[j], s->req_s[j]);
            if (f == 0) {
                block(s->prof_t, s->prof_free, &pl.n, t, t + s->req_s[j], s->size[j]);
                start_job(s, j, t, NONE);
            } else if (s->prof_t[f] <= limit) {
                block(s->prof_t, s->prof_free, &pl.n, s->prof_t[f], s->prof_t[f] + s->req_s[j], s->size[j]);
            }
        } else {
            try_start(s, &pl, j, t);
        }
    }
}

/* ------------------------------------------------------------ the event loop */

static int valid_end(const SState *s) {
    int64_t j = s->heap_j[0];
    return s->status[j] == RUNNING && s->end_s[j] == s->heap_t[0];
}

/* Run events up to and including time `until_s`; returns FINISHED when no event is left. */
int pm_slurm_advance(SState *s, double until_s) {
    for (;;) {
        while (*s->heap_len > 0 && !valid_end(s)) end_pop(s);
        int64_t i = *s->next_submit, rs = s->res_ptrs[0], re = s->res_ptrs[1];
        double t = INFINITY;
        if (i < s->n_jobs) t = s->submit_s[i];
        if (*s->heap_len > 0 && s->heap_t[0] < t) t = s->heap_t[0];
        if (rs < s->n_res && s->res_start[s->res_by_start[rs]] < t) t = s->res_start[s->res_by_start[rs]];
        if (re < s->n_res && s->res_end[s->res_by_end[re]] < t) t = s->res_end[s->res_by_end[re]];
        int tick = 0;
        if (s->bf_interval_s > 0.0) {
            int64_t queued = 0;
            for (int64_t p = 0; p < s->n_pools; p++) queued += s->qlen[p];
            /* ticks while jobs wait (once nothing else is left, one more at most); an event that falls
             * on a multiple of the interval is a tick too */
            double next = (floor(*s->clock_s / s->bf_interval_s) + 1.0) * s->bf_interval_s;
            if (queued > 0 && next < t && (t < INFINITY || *s->last_tick_final == 0)) t = next;
            tick = t < INFINITY && fmod(t, s->bf_interval_s) == 0.0;
        }
        if (t == INFINITY) return FINISHED;
        if (t > until_s) return STOPPED_AT_LIMIT;
        *s->clock_s = t;
        if (s->bf_interval_s > 0.0) *s->last_tick_final = tick && *s->heap_len == 0 && i == s->n_jobs;
        /* 1. ends */
        while (*s->heap_len > 0 && s->heap_t[0] == t) {
            if (valid_end(s)) {
                int64_t j = s->heap_j[0];
                end_pop(s);
                end_job(s, j, t);
            } else {
                end_pop(s);
            }
        }
        /* 2. submissions, in canonical order */
        for (; i < s->n_jobs && s->submit_s[i] == t; i++) submit(s, i, t);
        *s->next_submit = i;
        /* 3. reservations ending, then beginning */
        for (; re < s->n_res && s->res_end[s->res_by_end[re]] == t; re++) reservation_end(s, s->res_by_end[re]);
        for (; rs < s->n_res && s->res_start[s->res_by_start[rs]] == t; rs++)
            reservation_begin(s, s->res_by_start[rs]);
        s->res_ptrs[0] = rs;
        s->res_ptrs[1] = re;
        for (int64_t p = 0; p < s->n_pools; p++) /* reservations over no longer matter to planning */
            while (s->pool_res_ptr[p] < s->pool_res_off[p + 1] && s->res_held[s->pool_res[s->pool_res_ptr[p]]] != -2 &&
                   s->res_end[s->pool_res[s->pool_res_ptr[p]]] <= t)
                s->pool_res_ptr[p]++;
        /* 4. one pass per pool in which something happened; at a tick, also in every pool where
         * something happened since its last backfill step or whose priorities are due */
        int backfill = s->bf_interval_s <= 0.0 || tick;
        for (int64_t p = 0; p < s->n_pools; p++) {
            if (s->dirty[p]) s->bf_dirty[p] = 1;
            int due = s->priority != PRIO_FIFO && t >= s->last_calc[p] + s->calc_period_s;
            if (!s->dirty[p] && !(tick && s->qlen[p] > 0 && (s->bf_dirty[p] || due))) continue;
            s->dirty[p] = 0;
            pass(s, p, t, backfill);
            if (backfill) s->bf_dirty[p] = 0;
        }
    }
}
