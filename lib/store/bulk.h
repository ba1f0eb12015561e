/* A bulk batch (internal): events appended by a writer in bulk mode, kept
 * in memory already grouped into blocks of 2^PD__BULK_SHIFT users, so that
 * compaction places them into the new segment's columns block by block
 * (see compact.c) without a log and without a scattered pass. Each block
 * is a list of chunks of 16-byte records in insertion order; the few events
 * with an amount or a referrer carry a flag and find those, in the same
 * order, in the block's second list of chunks ("extras"). Half the memory
 * of full records, so half the pages to fault in and the bytes to move.
 *
 * Chunks come in 2 MiB pieces (one huge page each), and a piece holds the
 * chunks of one group of 2^PD__BULK_GROUP_SHIFT blocks only: once
 * compaction has placed a group, pd__bulk_release_group() hands its memory
 * back, and the segment's next pages are made of it rather than of memory
 * the system has to find (in a VM, often memory the host took back). */
#ifndef PD_BULK_H
#define PD_BULK_H

#include <stdatomic.h>

#include "pd_internal.h"

#define PD__BULK_SHIFT 9
#define PD__BULK_LU_MASK ((1u << PD__BULK_SHIFT) - 1)
#define PD__BULK_EXTRA 0x8000u  /* lu flag: the next extra of the block is this event's */
#define PD__BULK_CHUNK 255      /* entries a chunk: 8 + 255 * 16 = 4088 bytes */
#define PD__BULK_PIECE_SHIFT 9  /* 2^9 chunks a piece: 2,093,056 bytes in a 2 MiB page */
#define PD__BULK_PIECE_BYTES ((size_t)2 << 20)
#define PD__BULK_SLAB_SHIFT 5   /* 2^5 pieces a slab (64 MiB of address space, one mapping) */
#define PD__BULK_GROUP_SHIFT 7  /* blocks a group: 2^16 users */

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

/* The pieces of a group's chunks: the last one is being filled. */
typedef struct pd__bulk_group {
  uint32_t *piece;
  uint32_t n_pieces, cap_pieces;
  uint32_t used; /* chunks taken from the last piece */
} pd__bulk_group;

typedef struct pd__bulk {
  pd__bulk_block *block;
  size_t n_blocks, cap_blocks;
  pd__bulk_group *group;
  size_t n_groups, cap_groups;
  unsigned char **slab; /* slab i: pieces 32i.. at 2 MiB steps (aligned) */
  void **slab_map;      /* the mapping behind slab i, for munmap */
  size_t n_slabs, cap_slabs;
  uint32_t n_pieces;
  uint64_t n; /* events */
  /* The next slab, mapped before it is needed, so that another thread
   * can fault it in while it has nothing else to do: */
  void *next_map;
  _Atomic(unsigned char *) next_slab; /* published for pd__bulk_prefault_step() */
  atomic_size_t next_done;            /* bytes of it faulted in */
} pd__bulk;

void pd__bulk_init(pd__bulk *b);
void pd__bulk_free(pd__bulk *b);
/* Appends an event; its user and referrer must be canonical. */
pd_status pd__bulk_push(pd__bulk *b, int64_t time, uint32_t user, uint32_t type, uint32_t tp, uint32_t ref, int64_t amount);

/* Faults in 2 MiB more of the next slab; false when it is all in. Safe
 * to call from a thread other than the one pushing (it only asks the
 * kernel), as long as the batch is not freed meanwhile. */
bool pd__bulk_prefault_step(pd__bulk *b);

/* Gives the memory of group g's chunks back (they must not be read again). */
void pd__bulk_release_group(pd__bulk *b, size_t g);

/* Chunk id1 (id + 1): chunk id & 511 of piece id >> 9. */
static inline pd__bulk_chunk *pd__bulk_chunk_at(const pd__bulk *b, uint32_t id1) {
  uint32_t id = id1 - 1, piece = id >> PD__BULK_PIECE_SHIFT;
  unsigned char *base = b->slab[piece >> PD__BULK_SLAB_SHIFT] + (size_t)(piece & ((1u << PD__BULK_SLAB_SHIFT) - 1)) * PD__BULK_PIECE_BYTES;
  return (pd__bulk_chunk *)(void *)base + (id & ((1u << PD__BULK_PIECE_SHIFT) - 1));
}

/* Entries in chunk id1 of list l. */
static inline uint32_t pd__bulk_chunk_n(const pd__bulk_list *l, uint32_t id1) {
  return id1 == l->last ? l->n_last : PD__BULK_CHUNK;
}

#endif
