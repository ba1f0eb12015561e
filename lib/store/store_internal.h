/* The pd_store handle and what the writer, compaction and scan share. */
#ifndef PD_STORE_INTERNAL_H
#define PD_STORE_INTERNAL_H

#include "bulk.h"
#include "dict.h"
#include "segment.h"
#include "wal.h"

/* Events not yet sealed, in insertion order, as columns. The first
 * n_committed are visible; the rest belong to the writer's open batch. */
typedef struct pd__tail {
  int64_t *time;
  uint32_t *user;
  uint16_t *type;
  uint32_t *tp, *ref;
  int64_t *amount;
  size_t n, n_committed, cap;
} pd__tail;

struct pd_store {
  char *dir;
  bool read_only;
  pd_durability durability;
  uint64_t generation;     /* of the current log */
  uint64_t seg_generation; /* 0 = no sealed segment */
  pd__dict dict;
  pd__segment seg;
  pd__wal wal;
  pd__tail tail;
  uint64_t recovered_bytes;
  pd_writer *writer;       /* the open writer on this handle, if any */
  uint64_t n_committed_merges; /* dict.n_merges at the last commit */
  bool stale;              /* this handle's compaction was published but the handle could not load it */
};

pd_status pd__tail_push(pd__tail *t, const pd_event *e);
/* Earliest and latest committed event times (INT64_MAX / INT64_MIN when
 * the store has no event). The data's observation end does not depend on
 * which users an analysis looks at: filtered analyses take it from here. */
void pd__store_time_range(const pd_store *s, int64_t *lo, int64_t *hi);
/* Latest committed purchase or refund time, INT64_MIN when none. */
int64_t pd__store_latest_transaction(const pd_store *s);
/* Rebuilds the in-memory state from disk (open, and refresh across a
 * compaction by another process). */
pd_status pd__store_load(pd_store *s);
void pd__store_unload(pd_store *s);
/* After this handle's compaction published `generation`: maps the new
 * segment and log, keeps the dictionary in memory (it is what the segment
 * holds), drops the tail. Only when the dictionary has no tags (a reload
 * moves merged users' tags to the survivor). */
pd_status pd__store_adopt(pd_store *s, uint64_t generation);
/* Writes MANIFEST atomically (tmp, fsync, rename, fsync dir). */
pd_status pd__manifest_write(const char *dir, uint64_t generation, uint64_t seg_generation);
/* Takes the writer lock; *fd_out receives the locked descriptor. */
pd_status pd__lock_acquire(const char *dir, int *fd_out);
void pd__lock_release(int fd);
/* Writer internals used by tags.c: records go to the open batch. */
pd_store *pd__writer_store(pd_writer *w);
pd__buf *pd__writer_pending(pd_writer *w);
pd_status pd__writer_after_record(pd_writer *w);
int pd__userset_pass(const pd_userset *set, uint32_t u);
/* pd_writer_user() for name[0..len) (no NUL needed) with h = pd__dict_hash(name, len). */
pd_status pd__writer_user_h(pd_writer *w, const char *name, size_t len, uint32_t h, uint32_t *out);
pd__dict *pd__writer_dict(pd_writer *w);
/* Compaction under a lock the caller holds. Without `force` it does
 * nothing when nothing was committed since the last compaction. `extra`
 * (may be NULL): a bulk batch sealed with it, after the log's events; its
 * memory may be released as it is placed (free it after the call). */
pd_status pd__compact_locked(pd_store *s, bool force, pd__bulk *extra);
extern bool pd__compact_staged; /* tests: whether the last compaction built its blocks in staging areas */
extern bool pd__compact_fail_reload; /* tests: loading the new generation after publishing it fails */
/* The error for writing through a stale handle (PD_ERR_INVALID). */
pd_status pd__stale_error(const pd_store *s);
/* Bulk batches: the writer (idle, else PD_ERR_INVALID, no message) stops
 * logging records and events; the batch lives in memory (dictionary and a
 * pd__bulk, not the tail) until pd__writer_bulk_commit() compacts it with
 * everything committed into a new segment, or a rollback drops it. */
pd_status pd__writer_bulk_begin(pd_writer *w);
pd_status pd__writer_bulk_commit(pd_writer *w);
/* The open bulk batch's events (NULL when not in bulk mode), for an ingest
 * that interns on one thread and fills them, with canonical ids, on
 * another (the writer is not touched there); the interning thread then
 * counts what it handed over with pd__writer_bulk_added(). */
pd__bulk *pd__writer_bulk_events(pd_writer *w);
void pd__writer_bulk_added(pd_writer *w, uint64_t n);

#endif
