/* pd_writer: batches of records into the log, commit and rollback. */
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "store_internal.h"

struct pd_writer {
  pd_store *s;
  int lock_fd;
  pd__buf pending;        /* encoded records not yet in the log */
  size_t events_rec;      /* offset of the open EVENTS record in pending, or SIZE_MAX */
  pd__dict_mark mark;     /* the dictionary as of the last commit */
  uint64_t batch_events;  /* events appended since the last commit */
  bool batch_dirty;       /* anything (records or events) since the last commit */
  bool bulk;              /* the batch bypasses the log: committed by compaction */
  pd__bulk bulk_events;   /* its events */
};

#define BATCH_SYNC_BYTES (64u << 20)

pd_status pd_writer_open(pd_writer **out, pd_store *s) {
  if (!out || !s) return pd__error(PD_ERR_INVALID, "pd_writer_open: NULL argument");
  *out = NULL;
  if (s->read_only) return pd__error(PD_ERR_READONLY, "store %s was opened read-only", s->dir);
  if (s->writer) return pd__error(PD_ERR_LOCKED, "store %s already has a writer on this handle", s->dir);
  if (s->stale) return pd__stale_error(s);
  pd_writer *w = calloc(1, sizeof *w);
  if (!w) return pd__error(PD_ERR_NOMEM, "out of memory");
  w->s = s;
  w->events_rec = SIZE_MAX;
  pd_status st = pd__lock_acquire(s->dir, &w->lock_fd);
  if (st != PD_OK) {
    free(w);
    return st;
  }
  /* Under the lock: catch up with what other writers committed, then
   * reopen the log for writing and drop any torn or uncommitted tail. */
  st = pd_store_refresh(s);
  pd__wal rw;
  if (st == PD_OK) st = pd__wal_open(s->dir, s->generation, true, &rw);
  if (st == PD_OK) {
    rw.committed_end = rw.end = s->wal.committed_end;
    rw.committed_crc = rw.crc = s->wal.committed_crc;
    rw.commits = s->wal.commits;
    pd__wal_close(&s->wal);
    s->wal = rw;
    st = pd__wal_truncate_uncommitted(&s->wal);
  }
  if (st != PD_OK) {
    pd__lock_release(w->lock_fd);
    free(w);
    return st;
  }
  w->mark = pd__dict_mark_now(&s->dict);
  s->writer = w;
  *out = w;
  return PD_OK;
}

void pd_writer_close(pd_writer *w) {
  if (!w) return;
  pd_writer_rollback(w);
  if (w->s->durability == PD_DURABILITY_BATCH && w->s->wal.unsynced_bytes) pd__wal_sync(&w->s->wal);
  pd__lock_release(w->lock_fd);
  w->s->writer = NULL;
  pd__buf_free(&w->pending);
  free(w);
}

static pd_status flush(pd_writer *w) {
  if (!w->pending.len) return PD_OK;
  pd_status st = pd__wal_append_block(&w->s->wal, PD_BLOCK_DATA, w->pending.p, w->pending.len);
  w->pending.len = 0;
  w->events_rec = SIZE_MAX;
  return st;
}

pd_status pd__writer_after_record(pd_writer *w) {
  w->batch_dirty = true;
  if (w->bulk) { /* the segment's dictionary will hold it: no log record */
    w->pending.len = 0;
    return PD_OK;
  }
  w->events_rec = SIZE_MAX; /* the next event starts a new EVENTS record */
  return w->pending.len >= PD_WAL_FLUSH_BYTES ? flush(w) : PD_OK;
}

pd_status pd_writer_user(pd_writer *w, const char *external_id, uint32_t *out) {
  if (!w || !external_id || !out) return pd__error(PD_ERR_INVALID, "pd_writer_user: NULL argument");
  size_t len = strlen(external_id);
  return pd__writer_user_h(w, external_id, len, pd__dict_hash(external_id, len), out);
}

pd_status pd__writer_user_h(pd_writer *w, const char *name, size_t len, uint32_t h, uint32_t *out) {
  pd__dict *d = &w->s->dict;
  if (pd__dict_find_user_h(d, name, len, h, out) == PD_OK) return PD_OK;
  pd_status st = pd__dict_add_new_user(d, name, len, h, out);
  if (st == PD_OK) st = pd__rec_user(&w->pending, PD_REC_USER, *out, name, len);
  return st == PD_OK ? pd__writer_after_record(w) : st;
}

pd__dict *pd__writer_dict(pd_writer *w) { return &w->s->dict; }

pd_status pd_writer_alias(pd_writer *w, uint32_t user, const char *external_id) {
  if (!w || !external_id) return pd__error(PD_ERR_INVALID, "pd_writer_alias: NULL argument");
  size_t len = strlen(external_id), before = w->s->dict.aliases.n;
  pd_status st = pd__dict_add_alias(&w->s->dict, user, external_id, len);
  if (st != PD_OK || w->s->dict.aliases.n == before) return st; /* an existing alias: nothing to log */
  st = pd__rec_user(&w->pending, PD_REC_ALIAS, user, external_id, len);
  return st == PD_OK ? pd__writer_after_record(w) : st;
}

pd_status pd_writer_merge_users(pd_writer *w, uint32_t keep, uint32_t merged) {
  if (!w) return pd__error(PD_ERR_INVALID, "pd_writer_merge_users: NULL writer");
  pd_status st = pd__dict_merge(&w->s->dict, keep, merged);
  if (st == PD_OK) st = pd__rec_merge(&w->pending, keep, merged);
  return st == PD_OK ? pd__writer_after_record(w) : st;
}

pd_status pd_writer_touchpoint(pd_writer *w, const pd_touchpoint_def *def, uint32_t *out) {
  if (!w || !def || !def->name || !out || def->size < sizeof(size_t))
    return pd__error(PD_ERR_INVALID, "pd_writer_touchpoint: bad argument");
  pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
  memcpy(&d, def, def->size < sizeof d ? def->size : sizeof d);
  if ((unsigned)d.domain > PD_DOMAIN_SEMI) return pd__error(PD_ERR_INVALID, "touchpoint %s: bad domain %d", d.name, (int)d.domain);
  if ((unsigned)d.carrier >= PD_CARRIER_COUNT) return pd__error(PD_ERR_INVALID, "touchpoint %s: bad carrier %d", d.name, (int)d.carrier);
  if (d.daily_spend < -1) return pd__error(PD_ERR_INVALID, "touchpoint %s: negative daily spend", d.name);
  pd__touchpoint tp;
  memset(&tp, 0, sizeof tp);
  tp.domain = (uint8_t)d.domain;
  tp.carrier = (uint8_t)d.carrier;
  tp.daily_spend = d.daily_spend;
  size_t len = strlen(d.name), n_before = w->s->dict.tp_names.n, undo_before = w->s->dict.n_tp_undo;
  pd_status st = pd__dict_set_tp(&w->s->dict, d.name, len, &tp, out);
  if (st != PD_OK) return st;
  if (w->s->dict.tp_names.n == n_before && w->s->dict.n_tp_undo == undo_before) return PD_OK; /* unchanged */
  st = pd__rec_touchpoint(&w->pending, *out, &tp, d.name, len);
  return st == PD_OK ? pd__writer_after_record(w) : st;
}

pd_status pd_writer_touchpoint_name(pd_writer *w, const char *name, uint32_t *out) {
  if (!w || !name || !out) return pd__error(PD_ERR_INVALID, "pd_writer_touchpoint_name: NULL argument");
  if (pd__dict_find_tp(&w->s->dict, name, strlen(name), out) == PD_OK) return PD_OK;
  pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
  d.name = name;
  return pd_writer_touchpoint(w, &d, out);
}

pd_status pd_writer_event_type(pd_writer *w, const char *name, uint32_t *out) {
  if (!w || !name || !out) return pd__error(PD_ERR_INVALID, "pd_writer_event_type: NULL argument");
  size_t len = strlen(name);
  if (pd__dict_find_type(&w->s->dict, name, len, out) == PD_OK) return PD_OK;
  pd_status st = pd__dict_add_type(&w->s->dict, name, len, out);
  if (st == PD_OK) st = pd__rec_user(&w->pending, PD_REC_TYPE, *out, name, len);
  return st == PD_OK ? pd__writer_after_record(w) : st;
}

pd_status pd_writer_append(pd_writer *w, const pd_event *e) {
  if (!w || !e) return pd__error(PD_ERR_INVALID, "pd_writer_append: NULL argument");
  const pd__dict *d = &w->s->dict;
  if (e->user >= pd__dict_n_users(d)) return pd__error(PD_ERR_NOT_FOUND, "event for unknown user %u", e->user);
  if (e->type >= pd__dict_n_types(d)) return pd__error(PD_ERR_NOT_FOUND, "unknown event type %u", e->type);
  if (e->touchpoint != PD_NONE && e->touchpoint >= pd__dict_n_tps(d))
    return pd__error(PD_ERR_NOT_FOUND, "unknown touchpoint %u", e->touchpoint);
  if (e->referrer != PD_NONE && e->referrer >= pd__dict_n_users(d))
    return pd__error(PD_ERR_NOT_FOUND, "unknown referrer %u", e->referrer);
  if (w->bulk) {
    /* Field by field, not a copy of *e: the caller has just stored its
     * fields one by one, and a wide load across them stalls. */
    uint32_t ref = e->referrer;
    pd_status st = pd__bulk_push(&w->bulk_events, e->time_ms, pd__dict_canonical(d, e->user), e->type, e->touchpoint,
                                 ref == PD_NONE ? PD_NONE : pd__dict_canonical(d, ref), e->amount);
    if (st != PD_OK) return st;
    w->batch_events++;
    w->batch_dirty = true;
    return PD_OK;
  }
  pd_status st = pd__buf_reserve(&w->pending, 5 + PD_EVENT_RECORD_SIZE);
  if (st != PD_OK) return st;
  if ((st = pd__tail_push(&w->s->tail, e)) != PD_OK) return st;
  /* Consecutive events share one EVENTS record: 32 bytes an event. */
  if (w->events_rec == SIZE_MAX) {
    w->events_rec = w->pending.len;
    w->pending.p[w->pending.len] = PD_REC_EVENTS;
    pd__put_u32(w->pending.p + w->pending.len + 1, 0);
    w->pending.len += 5;
  }
  unsigned char *count = w->pending.p + w->events_rec + 1;
  pd__put_u32(count, pd__get_u32(count) + 1);
  pd__event_encode(w->pending.p + w->pending.len, e);
  w->pending.len += PD_EVENT_RECORD_SIZE;
  w->batch_events++;
  w->batch_dirty = true;
  return w->pending.len >= PD_WAL_FLUSH_BYTES ? flush(w) : PD_OK;
}

pd_status pd_writer_commit(pd_writer *w) {
  if (!w) return pd__error(PD_ERR_INVALID, "pd_writer_commit: NULL writer");
  if (w->s->stale) return pd__stale_error(w->s);
  if (!w->batch_dirty) return PD_OK;
  pd_store *s = w->s;
  bool sync = s->durability == PD_DURABILITY_FULL || s->wal.unsynced_bytes + w->pending.len >= BATCH_SYNC_BYTES;
  pd_status st = flush(w);
  if (st == PD_OK) st = pd__wal_commit(&s->wal, sync);
  if (st != PD_OK) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", pd_last_error());
    pd_writer_rollback(w); /* nothing of the batch may survive a failed commit */
    return pd__error(st, "commit failed, batch rolled back: %s", msg);
  }
  s->tail.n_committed = s->tail.n;
  s->n_committed_merges = s->dict.n_merges;
  w->mark = pd__dict_mark_now(&s->dict);
  w->batch_events = 0;
  w->batch_dirty = false;
  return PD_OK;
}

pd_status pd_writer_rollback(pd_writer *w) {
  if (!w) return pd__error(PD_ERR_INVALID, "pd_writer_rollback: NULL writer");
  pd_store *s = w->s;
  w->bulk = false;
  pd__bulk_free(&w->bulk_events);
  w->pending.len = 0;
  w->events_rec = SIZE_MAX;
  s->tail.n = s->tail.n_committed;
  pd__dict_rollback(&s->dict, &w->mark);
  w->batch_events = 0;
  w->batch_dirty = false;
  return s->wal.end != s->wal.committed_end ? pd__wal_truncate_uncommitted(&s->wal) : PD_OK;
}

uint64_t pd_writer_pending(const pd_writer *w) { return w ? w->batch_events : 0; }

pd_status pd__writer_bulk_begin(pd_writer *w) {
  if (w->batch_dirty) return PD_ERR_INVALID;
  w->bulk = true;
  return PD_OK;
}

pd_status pd__writer_bulk_commit(pd_writer *w) {
  if (!w->bulk) return pd_writer_commit(w);
  pd_store *s = w->s;
  if (s->stale) return pd__stale_error(s);
  uint64_t before = s->generation;
  pd_status st = pd__compact_locked(s, true, &w->bulk_events);
  if (st == PD_OK && s->generation != before) {
    /* Reloaded from the new generation: the writer continues in its log. */
    pd__wal rw;
    st = pd__wal_open(s->dir, s->generation, true, &rw);
    if (st == PD_OK) {
      rw.committed_end = rw.end = s->wal.committed_end;
      rw.committed_crc = rw.crc = s->wal.committed_crc;
      pd__wal_close(&s->wal);
      s->wal = rw;
    }
  }
  if (st != PD_OK && s->generation == before && !s->stale) { /* stale: published, not rolled back */
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", pd_last_error());
    pd_writer_rollback(w); /* nothing of the batch may survive a failed commit */
    return pd__error(st, "commit failed, batch rolled back: %s", msg);
  }
  w->bulk = false;
  pd__bulk_free(&w->bulk_events);
  w->pending.len = 0;
  w->events_rec = SIZE_MAX;
  w->batch_events = 0;
  w->batch_dirty = false;
  w->mark = pd__dict_mark_now(&s->dict);
  return st;
}

pd__bulk *pd__writer_bulk_events(pd_writer *w) { return w->bulk ? &w->bulk_events : NULL; }

void pd__writer_bulk_added(pd_writer *w, uint64_t n) {
  w->batch_events += n;
  if (n) w->batch_dirty = true;
}

/* Compaction needs the lock this writer holds and an empty batch. */
pd_status pd__writer_check_idle(const pd_writer *w) {
  if (w->batch_dirty) return pd__error(PD_ERR_INVALID, "compact: the open writer has an uncommitted batch; commit or roll back first");
  return PD_OK;
}

/* After compaction reloaded the dictionary, the batch baseline is new. */
void pd__writer_reset_mark(pd_writer *w) { w->mark = pd__dict_mark_now(&w->s->dict); }

pd_store *pd__writer_store(pd_writer *w) { return w->s; }
pd__buf *pd__writer_pending(pd_writer *w) { return &w->pending; }
