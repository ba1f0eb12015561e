/* Compaction: everything committed becomes one sealed segment sorted by
 * (user, time, insertion), then a fresh log generation is published.
 *
 * The new columns are filled in place: count the events of every
 * canonical user (segment runs of its members plus its log events), lay
 * the users out by prefix sums, copy the old segment's runs (members in
 * ascending id order, referrers remapped when merges happened since), then
 * scatter the log events in insertion order, and finally sort by time,
 * stably, the few users whose events arrived out of order. The result is
 * exactly what pd__runs_get() yields for each user (see lib/scan/runs.c):
 * time order, ties in (segment, then log) insertion order. */
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

/* Fills the columns of w (already sized for every committed event). */
static pd_status fill_columns(const pd_store *s, pd__segment_writer *w, const uint32_t *canon) {
  const pd__segment *g = &s->seg;
  const pd__tail *t = &s->tail;
  uint32_t n_users = w->n_users;
  size_t nt = t->n_committed;
  bool remap_seg = g->n_events && s->dict.n_merges > g->n_merges;
#define CANON(u) (canon ? canon[u] : (u))
  uint64_t *off = w->user_off;
  memset(off, 0, ((size_t)n_users + 1) * sizeof *off);
  for (uint32_t v = 0; v < g->n_users && v < n_users; v++) off[CANON(v) + 1] += g->user_off[v + 1] - g->user_off[v];
  for (size_t i = 0; i < nt; i++) off[CANON(t->user[i]) + 1]++;
  for (uint32_t u = 0; u < n_users; u++) off[u + 1] += off[u];
  uint64_t *fill = big_alloc((size_t)n_users * sizeof *fill);
  if (!fill && n_users) return pd__error(PD_ERR_NOMEM, "out of memory compacting");
  if (n_users) memcpy(fill, off, (size_t)n_users * sizeof *fill);

  /* The old segment's runs, member by member in ascending id order. */
  for (uint32_t v = 0; v < g->n_users && v < n_users; v++) {
    uint64_t a = g->user_off[v], n = g->user_off[v + 1] - a;
    if (!n) continue;
    uint64_t k = fill[CANON(v)];
    fill[CANON(v)] += n;
    memcpy(w->time + k, g->time + a, n * sizeof *w->time);
    memcpy(w->type + k, g->type + a, n * sizeof *w->type);
    memcpy(w->tp + k, g->tp + a, n * sizeof *w->tp);
    memcpy(w->amount + k, g->amount + a, n * sizeof *w->amount);
    if (remap_seg)
      for (uint64_t i = 0; i < n; i++) w->ref[k + i] = g->ref[a + i] == PD_NONE ? PD_NONE : CANON(g->ref[a + i]);
    else
      memcpy(w->ref + k, g->ref + a, n * sizeof *w->ref);
  }
  /* The log in insertion order: one scattered write per column. */
  const int64_t *tt = t->time, *ta = t->amount;
  const uint32_t *tu = t->user, *ttp = t->tp, *tr = t->ref;
  const uint16_t *ty = t->type;
  for (size_t i = 0; i < nt; i++) {
    uint64_t k = fill[CANON(tu[i])]++;
    w->time[k] = tt[i];
    w->type[k] = ty[i];
    w->tp[k] = ttp[i];
    w->ref[k] = tr[i] == PD_NONE ? PD_NONE : CANON(tr[i]);
    w->amount[k] = ta[i];
  }
#undef CANON
  free(fill);

  /* Users whose events arrived out of time order: a stable sort. */
  rec *r = NULL, *tmp = NULL;
  size_t cap = 0;
  for (uint32_t u = 0; u < n_users; u++) {
    uint64_t a = off[u], n = off[u + 1] - a;
    if (n < 2 || time_sorted(w->time + a, n)) continue;
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
      r[i] = (rec){w->time[a + i], w->amount[a + i], w->tp[a + i], w->ref[a + i], w->type[a + i]};
    sort_recs(r, tmp, n);
    for (uint64_t i = 0; i < n; i++) {
      w->time[a + i] = r[i].time;
      w->amount[a + i] = r[i].amount;
      w->tp[a + i] = r[i].tp;
      w->ref[a + i] = r[i].ref;
      w->type[a + i] = r[i].type;
    }
  }
  free(r);
  free(tmp);
  return PD_OK;
}

/* Nothing new since the last compaction: its segment is current and the
 * log it started holds no committed block. */
static bool nothing_to_do(const pd_store *s) {
  return s->seg_generation != 0 && s->seg_generation == s->generation && s->tail.n_committed == 0 &&
         s->wal.committed_end <= PD_WAL_HEADER_SIZE;
}

pd_status pd__compact_locked(pd_store *s, bool force) {
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
  uint64_t n_events = s->seg.n_events + s->tail.n_committed;
  pd__buf dict = {0};
  pd__segment_writer w;
  uint64_t gen = s->generation + 1;
  pd_status st = pd__dict_encode(&s->dict, &dict);
  if (st == PD_OK) st = pd__segment_create(s->dir, gen, n_events, n_users, &dict, &w);
  pd__buf_free(&dict);
  if (st != PD_OK) {
    free(canon);
    return st;
  }
  st = fill_columns(s, &w, canon);
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
  st = pd__store_load(&fresh_state);
  if (st == PD_OK) {
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
  if (old_wal && *old_wal) unlink(old_wal);
  if (old_seg) unlink(old_seg);
  free(old_wal);
  free(old_seg);
  return st;
}

pd_status pd_store_compact(pd_store *s) {
  if (!s) return pd__error(PD_ERR_INVALID, "pd_store_compact: NULL store");
  if (s->read_only) return pd__error(PD_ERR_READONLY, "store %s was opened read-only", s->dir);
  if (s->writer) {
    pd_status st = pd__writer_check_idle(s->writer);
    if (st != PD_OK) return st;
    uint64_t before = s->generation;
    st = pd__compact_locked(s, false);
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
  if (st == PD_OK) st = pd__compact_locked(s, false);
  pd__lock_release(lock);
  return st;
}
