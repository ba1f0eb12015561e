/* Compaction: everything committed becomes one sealed segment sorted by
 * (user, time, insertion), then a fresh log generation is published. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runs.h"
#include "store_internal.h"

pd_status pd__writer_check_idle(const pd_writer *w);
void pd__writer_reset_mark(pd_writer *w);

pd_status pd__compact_locked(pd_store *s) {
  pd__runs runs;
  pd_status st = pd__runs_prepare(s, &runs);
  if (st != PD_OK) return st;
  uint32_t n_users = runs.n_users;
  uint64_t n_events = 0, n_merges = 0;
  for (uint32_t u = 0; u < n_users; u++) {
    n_events += pd__runs_count(&runs, u);
    n_merges += runs.canon[u] != u;
  }
  pd__buf dict = {0};
  pd__segment_writer w;
  uint64_t gen = s->generation + 1;
  st = pd__dict_encode(&s->dict, &dict);
  if (st == PD_OK) st = pd__segment_create(s->dir, gen, n_events, n_users, &dict, &w);
  pd__buf_free(&dict);
  if (st != PD_OK) {
    pd__runs_free(&runs);
    return st;
  }
  pd__run_buf buf = {0};
  uint64_t k = 0;
  for (uint32_t u = 0; u < n_users && st == PD_OK; u++) {
    w.user_off[u] = k;
    pd_user_events ev;
    st = pd__runs_get(&runs, &buf, u, &ev);
    if (st != PD_OK || !ev.n) continue;
    memcpy(w.time + k, ev.time, ev.n * sizeof *ev.time);
    memcpy(w.type + k, ev.type, ev.n * sizeof *ev.type);
    memcpy(w.tp + k, ev.touchpoint, ev.n * sizeof *ev.touchpoint);
    memcpy(w.ref + k, ev.referrer, ev.n * sizeof *ev.referrer);
    memcpy(w.amount + k, ev.amount, ev.n * sizeof *ev.amount);
    k += ev.n;
  }
  w.user_off[n_users] = k;
  pd__run_buf_free(&buf);
  pd__runs_free(&runs);
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
    st = pd__compact_locked(s);
    if (st != PD_OK) return st;
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
  if (st == PD_OK) st = pd__compact_locked(s);
  pd__lock_release(lock);
  return st;
}
