/* Compaction: everything committed becomes one sealed segment sorted by
 * (user, time, insertion), then a fresh log generation is published.
 *
 * Building the columns: count the events of every
 * canonical user (segment runs of its members plus its log events), lay
 * the users out by prefix sums, copy the old segment's runs (members in
 * ascending id order, referrers remapped when merges happened since), then
 * scatter the log events in insertion order, and finally sort by time,
 * stably, the few users whose events arrived out of order. The result is
 * exactly what pd__runs_get() yields for each user (see lib/scan/runs.c):
 * time order, ties in (segment, then log) insertion order. A block of
 * users is built in a staging area that stays in cache (its old rows read
 * from the old file) and written out with pwrite; only when merges must be
 * applied to the old rows are the columns filled in place, in the mapping. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "format.h"
#include "store_internal.h"

pd_status pd__writer_check_idle(const pd_writer *w);
void pd__writer_reset_mark(pd_writer *w);

typedef struct rec {
  int64_t time, amount;
  uint32_t tp, ref;
  uint16_t type;
} rec;

/* Stable sort by time of r[0..n) (tmp has room for n / 2 + 1). */
static void sort_recs(rec *r, rec *tmp, size_t n) {
  if (n < 32) {
    for (size_t i = 1; i < n; i++) {
      rec v = r[i];
      size_t j = i;
      while (j > 0 && r[j - 1].time > v.time) {
        r[j] = r[j - 1];
        j--;
      }
      r[j] = v;
    }
    return;
  }
  size_t h = n / 2;
  sort_recs(r, tmp, h);
  sort_recs(r + h, tmp, n - h);
  if (r[h - 1].time <= r[h].time) return;
  memcpy(tmp, r, h * sizeof *r);
  size_t a = 0, b = h, k = 0;
  while (a < h && b < n) r[k++] = r[b].time < tmp[a].time ? r[b++] : tmp[a++];
  while (a < h) r[k++] = tmp[a++];
}

static bool time_sorted(const int64_t *t, size_t n) {
  for (size_t i = 1; i < n; i++)
    if (t[i] < t[i - 1]) return false;
  return true;
}

/* Large scratch arrays: huge pages where the kernel offers them on request. */
static void *big_alloc(size_t size) {
  void *p = malloc(size ? size : 1);
  if (p && size >= (8u << 20)) {
    const uintptr_t huge = 2u << 20;
    uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1), e = ((uintptr_t)p + size) & ~(huge - 1);
    if (e > a) madvise((void *)a, e - a, MADV_HUGEPAGE);
  }
  return p;
}

/* The log is moved in two passes so that no pass writes at random over
 * the whole segment: first into blocks of BLOCK users (one sequential
 * stream per block, in insertion order), then block by block into the
 * columns, where a block's share of each column stays in cache. Each pass
 * runs on two threads (halves of the log, then halves of the blocks). */
#define BLOCK_SHIFT PD__BULK_SHIFT
#define THREADS 2

typedef struct brec {
  int64_t time, amount;
  uint32_t tp, ref; /* ref canonical */
  uint16_t type, lu; /* lu: the user's index within its block */
  uint32_t pad;
} brec;

typedef struct fill_ctx {
  const pd_store *s;
  pd__segment_writer *w;
  const uint32_t *canon;
  const pd__bulk *extra;   /* may be NULL */
  uint32_t n_users, n_blocks;
  size_t nt;
  uint32_t *cnt[THREADS];  /* per thread: log events of each canonical user in its half */
  uint64_t *cur[THREADS];  /* per thread: next record slot of each block */
  uint64_t *rb;            /* records of block b: [rb[b], rb[b + 1]) */
  brec *recs;
  uint64_t *fill;          /* next column row of each user */
  uint32_t *xcnt;          /* events of each user in the bulk batch */
  uint32_t split;          /* blocks [0, split) to thread 0 in pass 2 */
  bool by_group;           /* pass 2 faults in the segment a bulk group at a time and releases the group */
  pd__bulk *release;       /* ... from this batch */
  unsigned char *stage[THREADS]; /* per thread: a block's rows of every column, or NULL */
  uint64_t stage_rows;     /* rows the staging areas hold: the largest block's */
  int old_fd;              /* staged with an old segment: its file, read block by block */
  unsigned char *old_stage[THREADS]; /* ... into these (old_stage_rows rows) */
  uint64_t old_stage_rows;
  pd_status st[THREADS];
  char msg[THREADS][PATH_MAX + 200]; /* what failed, for st[t] */
} fill_ctx;

#define CANON(c, u) ((c)->canon ? (c)->canon[u] : (u))

static void log_half(const fill_ctx *c, int t, size_t *a, size_t *b) {
  *a = c->nt * (size_t)t / THREADS;
  *b = c->nt * (size_t)(t + 1) / THREADS;
}

static void count_pass(fill_ctx *c, int t) {
  size_t a, b;
  log_half(c, t, &a, &b);
  const uint32_t *user = c->s->tail.user;
  uint32_t *cnt = c->cnt[t];
  for (size_t i = a; i < b; i++) cnt[CANON(c, user[i])]++;
}

static void block_pass(fill_ctx *c, int t) {
  size_t a, b;
  log_half(c, t, &a, &b);
  const pd__tail *tl = &c->s->tail;
  uint64_t *cur = c->cur[t];
  brec *recs = c->recs;
  for (size_t i = a; i < b; i++) {
    uint32_t u = CANON(c, tl->user[i]), ref = tl->ref[i];
    brec *r = &recs[cur[u >> BLOCK_SHIFT]++];
    r->time = tl->time[i];
    r->amount = tl->amount[i];
    r->tp = tl->tp[i];
    r->ref = ref == PD_NONE ? PD_NONE : CANON(c, ref);
    r->type = tl->type[i];
    r->lu = (uint16_t)(u & ((1u << BLOCK_SHIFT) - 1));
  }
}

/* Stable time sort of the rows of users whose events arrived out of order.
 * c holds rows from row base on: the segment's columns themselves (base
 * 0), or a block's staging area whose element 0 is row base. */
static pd_status sort_users(const pd__seg_cols *c, uint64_t base, const uint64_t *off, uint32_t from, uint32_t to) {
  rec *r = NULL, *tmp = NULL;
  size_t cap = 0;
  for (uint32_t u = from; u < to; u++) {
    uint64_t a = off[u] - base, n = off[u + 1] - off[u];
    if (n < 2 || time_sorted(c->time + a, n)) continue;
    if (n > cap) {
      free(r);
      free(tmp);
      cap = n;
      r = malloc(cap * sizeof *r);
      tmp = malloc((cap / 2 + 1) * sizeof *tmp);
      if (!r || !tmp) {
        free(r);
        free(tmp);
        return pd__error(PD_ERR_NOMEM, "out of memory sorting user %u", u);
      }
    }
    for (uint64_t i = 0; i < n; i++)
      r[i] = (rec){c->time[a + i], c->amount[a + i], c->tp[a + i], c->ref[a + i], c->type[a + i]};
    sort_recs(r, tmp, n);
    for (uint64_t i = 0; i < n; i++) {
      c->time[a + i] = r[i].time;
      c->amount[a + i] = r[i].amount;
      c->tp[a + i] = r[i].tp;
      c->ref[a + i] = r[i].ref;
      c->type[a + i] = r[i].type;
    }
  }
  free(r);
  free(tmp);
  return PD_OK;
}

/* Events of each user of the bulk batch, counted from its records (two
 * threads, halves of the blocks) rather than on the ingest path, where a
 * per-user counter is one more cache miss an event. */
static void bulk_count_pass(fill_ctx *c, int t) {
  const pd__bulk *x = c->extra;
  size_t nb = x->n_blocks < c->n_blocks ? x->n_blocks : c->n_blocks;
  size_t b0 = nb * (size_t)t / THREADS, b1 = nb * (size_t)(t + 1) / THREADS;
  for (size_t b = b0; b < b1; b++) {
    uint32_t *cnt = c->xcnt + (b << BLOCK_SHIFT);
    const pd__bulk_list *l = &x->block[b].recs;
    for (uint32_t id = l->first; id;) {
      const pd__bulk_chunk *ch = pd__bulk_chunk_at(x, id);
      const uint32_t n = pd__bulk_chunk_n(l, id);
      for (uint32_t i = 0; i < n; i++) cnt[ch->u.r[i].lu & PD__BULK_LU_MASK]++;
      id = ch->next;
    }
  }
}

/* Rows a staging area may hold (64 MiB); a block usually has ~20,000. */
#define STAGE_MAX_ROWS (((size_t)64 << 20) / PD__SEG_ROW_BYTES)

/* Blocks filled between two starts of writeback (about 10 MB of columns). */
#define FLUSH_BLOCKS 32

/* The first row of block b (the end of the rows when b is past the last). */
static uint64_t block_row(const fill_ctx *c, uint32_t b) {
  uint64_t u = (uint64_t)b << BLOCK_SHIFT;
  return c->w->user_off[u < c->n_users ? u : c->n_users];
}

/* A worker's failure, reported by the thread that ran the pass. */
__attribute__((format(printf, 4, 5))) static void fail(fill_ctx *c, int t, pd_status st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->msg[t], sizeof c->msg[t], fmt, ap);
  va_end(ap);
  c->st[t] = st;
}

/* The old segment's rows of block b's users, first in each user's rows:
 * read from its file (the columns of a block are contiguous there) and
 * placed user by user. Without merges to apply, its users are canonical
 * (segment open refuses rows of a merged user). */
static void stage_old_rows(fill_ctx *c, int t, uint32_t b, const pd__seg_cols *o, uint64_t base, uint64_t *fill) {
  const pd__segment *g = &c->s->seg;
  uint32_t u0 = b << BLOCK_SHIFT;
  if (u0 >= g->n_users) return;
  uint32_t u1 = g->n_users - u0 > (1u << BLOCK_SHIFT) ? u0 + (1u << BLOCK_SHIFT) : g->n_users;
  uint64_t a = g->user_off[u0];
  pd__seg_cols in;
  int e = pd__segment_read_rows(g, c->old_fd, a, g->user_off[u1] - a, c->old_stage[t], &in);
  if (e) {
    fail(c, t, PD_ERR_IO, "read %s: %s", g->path, strerror(e));
    return;
  }
  for (uint32_t u = u0; u < u1; u++) {
    uint64_t from = g->user_off[u] - a, n = g->user_off[u + 1] - g->user_off[u], k = fill[u - u0] - base;
    fill[u - u0] += n;
    memcpy(o->time + k, in.time + from, n * sizeof *o->time);
    memcpy(o->type + k, in.type + from, n * sizeof *o->type);
    memcpy(o->tp + k, in.tp + from, n * sizeof *o->tp);
    memcpy(o->ref + k, in.ref + from, n * sizeof *o->ref);
    memcpy(o->amount + k, in.amount + from, n * sizeof *o->amount);
  }
}

static void column_pass(fill_ctx *c, int t) {
  pd__segment_writer *w = c->w;
  uint32_t b0 = t ? c->split : 0, b1 = t ? c->n_blocks : c->split, flushed = b0;
  const uint32_t group = 1u << PD__BULK_GROUP_SHIFT;
  for (uint32_t b = b0; b < b1; b++) {
    uint64_t r0 = block_row(c, b), r1 = block_row(c, b + 1);
    bool staged = c->stage[t] != NULL;
    pd__seg_cols o = staged ? pd__seg_cols_in(c->stage[t], c->stage_rows) : (pd__seg_cols){w->time, w->type, w->tp, w->ref, w->amount};
    uint64_t base = staged ? r0 : 0;
    /* By group: the group's rows are faulted in just before they are
     * filled, mostly into the memory of the groups released before. */
    if (!staged && c->by_group && (b == b0 || b % group == 0)) {
      uint32_t e = (b / group + 1) * group;
      pd__segment_populate_rows(w, r0, block_row(c, e < b1 ? e : b1));
    }
    if (b - flushed == FLUSH_BLOCKS) {
      pd__segment_flush_rows(w, w->user_off[(size_t)flushed << BLOCK_SHIFT], w->user_off[(size_t)b << BLOCK_SHIFT]);
      flushed = b;
    }
    uint64_t *fill = c->fill + ((size_t)b << BLOCK_SHIFT);
    if (staged && c->old_fd >= 0 && c->st[t] == PD_OK) stage_old_rows(c, t, b, &o, base, fill);
    for (uint64_t i = c->rb[b]; i < c->rb[b + 1]; i++) {
      const brec *r = &c->recs[i];
      uint64_t k = fill[r->lu]++ - base;
      o.time[k] = r->time;
      o.amount[k] = r->amount;
      o.tp[k] = r->tp;
      o.ref[k] = r->ref;
      o.type[k] = r->type;
    }
    const pd__bulk *x = c->extra;
    if (x && b < x->n_blocks) {
      const pd__bulk_block *kb = &x->block[b];
      uint32_t xid = kb->extras.first, xi = 0;
      const pd__bulk_chunk *xc = xid ? pd__bulk_chunk_at(x, xid) : NULL;
      for (uint32_t id = kb->recs.first; id;) {
        const pd__bulk_chunk *ch = pd__bulk_chunk_at(x, id);
        const uint32_t n = pd__bulk_chunk_n(&kb->recs, id);
        for (uint32_t i = 0; i < n; i++) {
          const pd__bulk_rec *r = &ch->u.r[i];
          uint64_t k = fill[r->lu & PD__BULK_LU_MASK]++ - base;
          o.time[k] = r->time;
          o.tp[k] = r->tp;
          o.type[k] = r->type;
          int64_t amount = 0;
          uint32_t ref = PD_NONE;
          if (r->lu & PD__BULK_EXTRA) { /* the extras are in the records' order */
            if (xi == PD__BULK_CHUNK) {
              xc = pd__bulk_chunk_at(x, xc->next);
              xi = 0;
            }
            amount = xc->u.x[xi].amount;
            ref = xc->u.x[xi].ref;
            xi++;
          }
          o.amount[k] = amount;
          o.ref[k] = ref;
        }
        id = ch->next;
      }
    }
    uint32_t u0 = b << BLOCK_SHIFT, u1 = u0 + (1u << BLOCK_SHIFT) < c->n_users ? u0 + (1u << BLOCK_SHIFT) : c->n_users;
    if (c->st[t] == PD_OK && sort_users(&o, base, w->user_off, u0, u1) != PD_OK)
      fail(c, t, PD_ERR_NOMEM, "out of memory sorting users while compacting");
    if (staged && c->st[t] == PD_OK && r1 > r0) {
      int e = pd__segment_write_rows(w, r0, r1 - r0, &o);
      if (e) fail(c, t, PD_ERR_IO, "write %s: %s", w->tmp_path, strerror(e));
    }
    if (c->by_group && (b + 1) % group == 0) pd__bulk_release_group(c->release, b / group); /* the split is a group boundary */
  }
}

typedef struct pass_arg {
  fill_ctx *c;
  int t;
  void (*fn)(fill_ctx *, int);
} pass_arg;

static void *pass_thread(void *arg) {
  pass_arg *p = arg;
  p->fn(p->c, p->t);
  return NULL;
}

/* Runs fn(c, 0) here and fn(c, 1) on a second thread (here too if none). */
static void run_pass(fill_ctx *c, void (*fn)(fill_ctx *, int)) {
  pass_arg args[THREADS];
  pthread_t th[THREADS];
  bool started[THREADS] = {false};
  for (int t = 1; t < THREADS; t++) {
    args[t] = (pass_arg){c, t, fn};
    started[t] = pthread_create(&th[t], NULL, pass_thread, &args[t]) == 0;
  }
  fn(c, 0);
  for (int t = 1; t < THREADS; t++) {
    if (started[t]) pthread_join(th[t], NULL);
    else fn(c, t);
  }
}

bool pd__compact_staged;
bool pd__compact_fail_reload;

/* Fills the columns of w (already sized for every committed event).
 * by_group: w is not faulted in yet, and extra holds every event. */
static pd_status fill_columns(const pd_store *s, pd__segment_writer *w, const uint32_t *canon, pd__bulk *extra, bool by_group) {
  const pd__segment *g = &s->seg;
  fill_ctx c = {.s = s, .w = w, .canon = canon, .extra = extra, .n_users = w->n_users, .nt = s->tail.n_committed, .old_fd = -1};
  c.by_group = by_group;
  c.release = extra;
  c.n_blocks = (uint32_t)(((uint64_t)c.n_users + (1u << BLOCK_SHIFT) - 1) >> BLOCK_SHIFT);
  size_t nu = (size_t)c.n_blocks << BLOCK_SHIFT; /* whole blocks: no bounds checks */
  pd_status st = PD_OK;
  for (int t = 0; t < THREADS; t++) {
    c.cnt[t] = calloc(nu + 1, sizeof *c.cnt[t]);
    c.cur[t] = malloc(((size_t)c.n_blocks + 1) * sizeof *c.cur[t]);
  }
  c.rb = malloc(((size_t)c.n_blocks + 1) * sizeof *c.rb);
  c.fill = big_alloc((nu + 1) * sizeof *c.fill);
  c.recs = big_alloc(c.nt * sizeof *c.recs);
  bool ok = c.rb && c.fill && c.recs;
  for (int t = 0; t < THREADS; t++) ok = ok && c.cnt[t] && c.cur[t];
  if (!ok) {
    st = pd__error(PD_ERR_NOMEM, "out of memory compacting");
    goto out;
  }
  bool remap_seg = g->n_events && s->dict.n_merges > g->n_merges;
  /* Counts, then the users' rows by prefix sums. */
  run_pass(&c, count_pass);
  uint64_t *off = w->user_off;
  memset(off, 0, ((size_t)c.n_users + 1) * sizeof *off);
  for (uint32_t v = 0; v < g->n_users && v < c.n_users; v++) off[CANON(&c, v) + 1] += g->user_off[v + 1] - g->user_off[v];
  for (uint32_t u = 0; u < c.n_users; u++) off[u + 1] += off[u] + c.cnt[0][u] + c.cnt[1][u];
  if (extra) { /* the bulk batch's events (of canonical users) */
    if (!(c.xcnt = calloc(nu + 1, sizeof *c.xcnt))) {
      st = pd__error(PD_ERR_NOMEM, "out of memory compacting");
      goto out;
    }
    run_pass(&c, bulk_count_pass);
    uint64_t extra_n = 0;
    for (uint32_t u = 0; u < c.n_users; u++) {
      extra_n += c.xcnt[u];
      off[u + 1] += extra_n;
    }
  }
  /* Blocks of records: thread 0's events of a block before thread 1's. */
  uint64_t pos = 0;
  for (uint32_t b = 0; b < c.n_blocks; b++) {
    c.rb[b] = pos;
    for (int t = 0; t < THREADS; t++) {
      c.cur[t][b] = pos;
      for (size_t u = (size_t)b << BLOCK_SHIFT; u < ((size_t)b + 1) << BLOCK_SHIFT; u++) pos += c.cnt[t][u];
    }
  }
  c.rb[c.n_blocks] = pos;
  run_pass(&c, block_pass);
  /* Each block is built in a staging area that stays in cache (scattered
   * stores, the sort) and then written out in order, instead of storing at
   * random into fresh pages of the file (where the stores miss and every
   * page faults). The old segment's rows of a block are read from its file
   * into a second area; with merges to apply to them, everything is built
   * in place instead. */
  if (!remap_seg) {
    for (uint32_t b = 0; b < c.n_blocks; b++) {
      if (block_row(&c, b + 1) - block_row(&c, b) > c.stage_rows) c.stage_rows = block_row(&c, b + 1) - block_row(&c, b);
      size_t u0 = (size_t)b << BLOCK_SHIFT, u1 = u0 + (1u << BLOCK_SHIFT);
      uint64_t old = g->n_events ? g->user_off[u1 < g->n_users ? u1 : g->n_users] - g->user_off[u0 < g->n_users ? u0 : g->n_users] : 0;
      if (old > c.old_stage_rows) c.old_stage_rows = old;
    }
    if (g->n_events) c.old_fd = open(g->path, O_RDONLY | O_CLOEXEC);
    /* A block of a few very heavy users would want more than a cache's
     * worth: past STAGE_MAX_ROWS, in place. */
    bool have = c.stage_rows && c.stage_rows <= STAGE_MAX_ROWS && c.old_stage_rows <= STAGE_MAX_ROWS &&
                (!g->n_events || c.old_fd >= 0);
    for (int t = 0; t < THREADS && have; t++) {
      have = (c.stage[t] = malloc(c.stage_rows * PD__SEG_ROW_BYTES)) != NULL;
      if (have && c.old_fd >= 0) have = (c.old_stage[t] = malloc((c.old_stage_rows ? c.old_stage_rows : 1) * PD__SEG_ROW_BYTES)) != NULL;
    }
    if (!have) { /* without: in place */
      for (int t = 0; t < THREADS; t++) {
        free(c.stage[t]);
        free(c.old_stage[t]);
        c.stage[t] = c.old_stage[t] = NULL;
      }
      if (c.old_fd >= 0) close(c.old_fd);
      c.old_fd = -1;
    }
  }
  /* Unless staged, the columns are filled through the mapping: fault it
   * in at once (by group: a group at a time, in column_pass), then the old
   * segment's runs first, member by member in ascending id order. */
  if (!c.stage[0] && !by_group) pd__segment_populate(w);
  memcpy(c.fill, off, (size_t)c.n_users * sizeof *c.fill);
  for (uint32_t v = 0; !c.stage[0] && v < g->n_users && v < c.n_users; v++) {
    uint64_t a = g->user_off[v], n = g->user_off[v + 1] - a;
    if (!n) continue;
    uint32_t u = CANON(&c, v);
    uint64_t k = c.fill[u];
    c.fill[u] += n;
    memcpy(w->time + k, g->time + a, n * sizeof *w->time);
    memcpy(w->type + k, g->type + a, n * sizeof *w->type);
    memcpy(w->tp + k, g->tp + a, n * sizeof *w->tp);
    memcpy(w->amount + k, g->amount + a, n * sizeof *w->amount);
    if (remap_seg)
      for (uint64_t i = 0; i < n; i++) w->ref[k + i] = g->ref[a + i] == PD_NONE ? PD_NONE : CANON(&c, g->ref[a + i]);
    else
      memcpy(w->ref + k, g->ref + a, n * sizeof *w->ref);
  }
  /* Then the log and the bulk batch, block by block; the two halves carry
   * about as many events. */
  c.split = 0;
  for (uint64_t end = 0; c.split < c.n_blocks; c.split++) {
    size_t next = ((size_t)c.split + 1) << BLOCK_SHIFT;
    end = off[next < c.n_users ? next : c.n_users];
    if (end > off[c.n_users] / 2) break;
  }
  if (by_group) { /* each group's blocks on one thread, which then releases it */
    const uint32_t group = 1u << PD__BULK_GROUP_SHIFT;
    c.split = (c.split + group / 2) / group * group;
    if (c.split > c.n_blocks) c.split = c.n_blocks;
  }
  pd__compact_staged = c.stage[0] != NULL;
  run_pass(&c, column_pass);
  for (int t = 0; t < THREADS; t++)
    if (c.st[t] != PD_OK) st = pd__error(c.st[t], "%s", c.msg[t]);
out:
  for (int t = 0; t < THREADS; t++) {
    free(c.cnt[t]);
    free(c.cur[t]);
    free(c.stage[t]);
    free(c.old_stage[t]);
  }
  if (c.old_fd >= 0) close(c.old_fd);
  free(c.rb);
  free(c.xcnt);
  free(c.fill);
  free(c.recs);
  return st;
}
#undef CANON

/* Nothing new since the last compaction: its segment is current and the
 * log it started holds no committed block. */
static bool nothing_to_do(const pd_store *s) {
  return s->seg_generation != 0 && s->seg_generation == s->generation && s->tail.n_committed == 0 &&
         s->wal.committed_end <= PD_WAL_HEADER_SIZE;
}

pd_status pd__compact_locked(pd_store *s, bool force, pd__bulk *extra) {
  if (!force && nothing_to_do(s)) return PD_OK;
  uint32_t n_users = pd__dict_n_users(&s->dict);
  uint32_t *canon = NULL;
  uint64_t n_merges = 0;
  if (s->dict.n_merges) {
    canon = big_alloc(((size_t)n_users + 1) * sizeof *canon);
    if (!canon) return pd__error(PD_ERR_NOMEM, "out of memory compacting");
    for (uint32_t u = 0; u < n_users; u++) {
      canon[u] = pd__dict_canonical(&s->dict, u);
      n_merges += canon[u] != u;
    }
  }
  uint64_t n_events = s->seg.n_events + s->tail.n_committed + (extra ? extra->n : 0);
  pd__buf dict = {0};
  pd__segment_writer w;
  uint64_t gen = s->generation + 1;
  /* Names the log added since the segment: the name map finds one defined
   * twice (a corrupt log), which must not be sealed into the new segment. */
  bool names_added = s->dict.user_names.n + s->dict.aliases.n > s->seg.n_names;
  pd_status st = names_added || s->dict.user_map_error ? pd__dict_user_map(&s->dict) : PD_OK;
  if (st == PD_OK) st = pd__dict_encode(&s->dict, &dict);
  /* A bulk batch into an empty store is placed a group of users at a time,
   * each group's memory released for the segment's next pages. */
  bool by_group = extra && s->seg.n_events == 0 && s->tail.n_committed == 0;
  if (st == PD_OK) st = pd__segment_create(s->dir, gen, n_events, n_users, &dict, &w);
  pd__buf_free(&dict);
  if (st != PD_OK) {
    free(canon);
    return st;
  }
  st = fill_columns(s, &w, canon, extra, by_group);
  free(canon);
  if (st != PD_OK) {
    pd__segment_abort(&w);
    return st;
  }
  /* Order makes it crash-safe: the sealed segment and the new empty log
   * are durable before the manifest that names them is renamed in place;
   * only then are the old files removed. */
  st = pd__segment_seal(&w, n_merges);
  pd__wal fresh;
  if (st == PD_OK) st = pd__wal_create(s->dir, gen, &fresh);
  if (st == PD_OK) {
    pd__wal_close(&fresh);
    st = pd__manifest_write(s->dir, gen, gen);
  }
  if (st != PD_OK) return st; /* the old manifest still names the old files */
  char *old_wal = strdup(s->wal.path ? s->wal.path : ""), *old_seg = s->seg.path ? strdup(s->seg.path) : NULL;
  pd_store fresh_state = {.dir = s->dir, .read_only = s->read_only, .durability = s->durability};
  fresh_state.wal.fd = -1;
  /* The dictionary in memory is the segment's: keep it and map the new
   * files, rather than read back and verify what was just written. */
  bool adopted = !pd__compact_fail_reload && pd__dict_n_tags(&s->dict) == 0 && pd__store_adopt(s, gen) == PD_OK;
  st = adopted ? PD_OK : pd__compact_fail_reload ? pd__error(PD_ERR_IO, "test: reload fails") : pd__store_load(&fresh_state);
  if (st == PD_OK && !adopted) {
    pd__store_unload(s);
    s->generation = fresh_state.generation;
    s->seg_generation = fresh_state.seg_generation;
    s->dict = fresh_state.dict;
    s->seg = fresh_state.seg;
    s->wal = fresh_state.wal;
    s->tail = fresh_state.tail;
    s->n_committed_merges = fresh_state.n_committed_merges;
    s->recovered_bytes = 0;
  }
  if (st != PD_OK) {
    /* Published, but this handle still maps the old files: keep them (the
     * manifest no longer names them) and refuse further writes through it,
     * which would go to a log nobody reads. */
    s->stale = true;
    free(old_wal);
    free(old_seg);
    pd__error_prefix("compacted into generation %llu (committed), but this handle could not load it; close and reopen "
                     "the store", (unsigned long long)gen);
    return st;
  }
  if (old_wal && *old_wal) unlink(old_wal);
  if (old_seg) unlink(old_seg);
  free(old_wal);
  free(old_seg);
  return PD_OK;
}

pd_status pd_store_compact(pd_store *s) {
  if (!s) return pd__error(PD_ERR_INVALID, "pd_store_compact: NULL store");
  if (s->read_only) return pd__error(PD_ERR_READONLY, "store %s was opened read-only", s->dir);
  if (s->stale) return pd__stale_error(s);
  if (s->writer) {
    pd_status st = pd__writer_check_idle(s->writer);
    if (st != PD_OK) return st;
    uint64_t before = s->generation;
    st = pd__compact_locked(s, false, NULL);
    if (st != PD_OK || s->generation == before) return st;
    /* The writer keeps writing, now into the new log. */
    pd__wal rw;
    st = pd__wal_open(s->dir, s->generation, true, &rw);
    if (st != PD_OK) return st;
    rw.committed_end = rw.end = s->wal.committed_end;
    rw.committed_crc = rw.crc = s->wal.committed_crc;
    pd__wal_close(&s->wal);
    s->wal = rw;
    pd__writer_reset_mark(s->writer);
    return PD_OK;
  }
  int lock;
  pd_status st = pd__lock_acquire(s->dir, &lock);
  if (st != PD_OK) return st;
  st = pd_store_refresh(s);
  if (st == PD_OK) st = pd__compact_locked(s, false, NULL);
  pd__lock_release(lock);
  return st;
}
