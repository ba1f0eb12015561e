/* A bulk batch (internal): events appended by a writer in bulk mode, kept
 * in memory already grouped into blocks of 2^PD__BULK_SHIFT users, so that
 * compaction places them into the new segment's columns block by block
 * (see compact.c) without a log and without a scattered pass. Each block
 * is a list of chunks of records in insertion order. */
#ifndef PD_BULK_H
#define PD_BULK_H

#include "pd_internal.h"

#define PD__BULK_SHIFT 9
#define PD__BULK_CHUNK 126 /* records a chunk: 126 * 32 + 8 bytes = 4040 */
#define PD__BULK_SLAB_SHIFT 14 /* 2^14 chunks a slab (about 64 MiB) */

typedef struct pd__bulk_rec {
  int64_t time, amount;
  uint32_t tp, ref;
  uint16_t type, lu; /* lu: the user's index within its block */
  uint32_t pad;
} pd__bulk_rec;

typedef struct pd__bulk_chunk {
  uint32_t next; /* chunk id + 1 of the next chunk of the block, 0: last */
  uint32_t n;
  pd__bulk_rec r[PD__BULK_CHUNK];
} pd__bulk_chunk;

typedef struct pd__bulk_block {
  uint32_t first, last; /* chunk id + 1, 0: none */
} pd__bulk_block;

typedef struct pd__bulk {
  pd__bulk_block *block;
  size_t n_blocks, cap_blocks;
  uint32_t *count; /* events of each user id */
  size_t cap_count;
  pd__bulk_chunk **slab; /* chunks live in slabs of 2^PD__BULK_SLAB_SHIFT chunks */
  size_t n_slabs, cap_slabs;
  uint32_t n_chunks;
  uint64_t n; /* events */
} pd__bulk;

void pd__bulk_init(pd__bulk *b);
void pd__bulk_free(pd__bulk *b);
/* Appends an event; its user and referrer must be canonical. */
pd_status pd__bulk_push(pd__bulk *b, const pd_event *e);

static inline pd__bulk_chunk *pd__bulk_chunk_at(const pd__bulk *b, uint32_t id1) {
  uint32_t id = id1 - 1;
  return &b->slab[id >> PD__BULK_SLAB_SHIFT][id & ((1u << PD__BULK_SLAB_SHIFT) - 1)];
}

#endif
