/* A bulk batch (internal): events appended by a writer in bulk mode, kept
 * in memory already grouped into blocks of 2^PD__BULK_SHIFT users, so that
 * compaction places them into the new segment's columns block by block
 * (see compact.c) without a log and without a scattered pass. Each block
 * is a list of chunks of 16-byte records in insertion order; the few events
 * with an amount or a referrer carry a flag and find those, in the same
 * order, in the block's second list of chunks ("extras"). Half the memory
 * of full records, so half the pages to fault in and the bytes to move. */
#ifndef PD_BULK_H
#define PD_BULK_H

#include "pd_internal.h"

#define PD__BULK_SHIFT 9
#define PD__BULK_LU_MASK ((1u << PD__BULK_SHIFT) - 1)
#define PD__BULK_EXTRA 0x8000u  /* lu flag: the next extra of the block is this event's */
#define PD__BULK_CHUNK 255      /* entries a chunk: 8 + 255 * 16 = 4088 bytes */
#define PD__BULK_SLAB_SHIFT 14  /* 2^14 chunks a slab (about 64 MiB) */

typedef struct pd__bulk_rec {
  int64_t time;
  uint32_t tp;
  uint16_t type, lu; /* lu: the user's index within its block, | PD__BULK_EXTRA */
} pd__bulk_rec;

typedef struct pd__bulk_extra {
  int64_t amount;
  uint32_t ref;
  uint32_t pad;
} pd__bulk_extra;

typedef struct pd__bulk_chunk {
  uint32_t next; /* chunk id + 1 of the next chunk of the list, 0: last */
  uint32_t pad;
  union {
    pd__bulk_rec r[PD__BULK_CHUNK];
    pd__bulk_extra x[PD__BULK_CHUNK];
  } u;
} pd__bulk_chunk;

/* A list of chunks: first and last chunk id + 1 (0: empty); entries in the
 * last chunk (the others are full). */
typedef struct pd__bulk_list {
  uint32_t first, last, n_last;
} pd__bulk_list;

typedef struct pd__bulk_block {
  pd__bulk_list recs, extras;
} pd__bulk_block;

typedef struct pd__bulk {
  pd__bulk_block *block;
  size_t n_blocks, cap_blocks;
  pd__bulk_chunk **slab; /* chunks live in slabs of 2^PD__BULK_SLAB_SHIFT chunks */
  size_t n_slabs, cap_slabs;
  uint32_t n_chunks;
  uint64_t n; /* events */
} pd__bulk;

void pd__bulk_init(pd__bulk *b);
void pd__bulk_free(pd__bulk *b);
/* Appends an event; its user and referrer must be canonical. */
pd_status pd__bulk_push(pd__bulk *b, int64_t time, uint32_t user, uint32_t type, uint32_t tp, uint32_t ref, int64_t amount);

static inline pd__bulk_chunk *pd__bulk_chunk_at(const pd__bulk *b, uint32_t id1) {
  uint32_t id = id1 - 1;
  return &b->slab[id >> PD__BULK_SLAB_SHIFT][id & ((1u << PD__BULK_SLAB_SHIFT) - 1)];
}

/* Entries in chunk id1 of list l. */
static inline uint32_t pd__bulk_chunk_n(const pd__bulk_list *l, uint32_t id1) {
  return id1 == l->last ? l->n_last : PD__BULK_CHUNK;
}

#endif
