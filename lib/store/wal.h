/* The write-ahead log: a header, then blocks whose CRCs chain from the
 * header's salt, so a torn, stale or flipped block ends the valid prefix.
 * A COMMIT block makes every DATA block before it durable and visible. */
#ifndef PD_WAL_H
#define PD_WAL_H

#include "dict.h"

typedef struct pd__wal {
  int fd;                 /* read-only for readers, read-write for the writer */
  char *path;
  uint64_t generation;
  uint32_t salt;
  /* The committed prefix: everything up to committed_end is applied. */
  uint64_t committed_end;
  uint32_t committed_crc;
  uint64_t commits;
  uint64_t dropped_bytes;  /* beyond committed_end when last read */
  /* Writer position (== committed_end outside a batch). */
  uint64_t end;
  uint32_t crc;
  uint64_t unsynced_bytes;
} pd__wal;

/* Creates wal-<generation>.log in dir (fails if it exists), synced. */
pd_status pd__wal_create(const char *dir, uint64_t generation, pd__wal *out);
/* Opens an existing log read-only (writable = false) or for the writer. */
pd_status pd__wal_open(const char *dir, uint64_t generation, bool writable, pd__wal *out);
void pd__wal_close(pd__wal *w);

/* Reads committed blocks after committed_end and applies their records
 * (dictionary records to d, events to fn). Stops at the first invalid or
 * incomplete block, or at the end of the last complete commit. */
pd_status pd__wal_replay(pd__wal *w, pd__dict *d, pd__events_fn fn, void *ctx);

/* Writer side. */
pd_status pd__wal_append_block(pd__wal *w, uint32_t kind, const unsigned char *payload, size_t len);
pd_status pd__wal_commit(pd__wal *w, bool sync);
pd_status pd__wal_truncate_uncommitted(pd__wal *w); /* recovery and rollback */
pd_status pd__wal_sync(pd__wal *w);

/* Filesystem helpers shared by the store. */
pd_status pd__fsync_dir(const char *dir);
char *pd__path_join(const char *dir, const char *name); /* malloc'd or NULL */

#endif
