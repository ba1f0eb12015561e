/* Bulk batches: events grouped by block of users as they arrive. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bulk.h"

#define PIECE_CHUNKS (1u << PD__BULK_PIECE_SHIFT)
#define SLAB_PIECES (1u << PD__BULK_SLAB_SHIFT)
#define SLAB_BYTES (SLAB_PIECES * PD__BULK_PIECE_BYTES)
#define MAP_BYTES (SLAB_BYTES + PD__BULK_PIECE_BYTES) /* room to start on a 2 MiB boundary */

void pd__bulk_init(pd__bulk *b) { memset(b, 0, sizeof *b); }

void pd__bulk_free(pd__bulk *b) {
  for (size_t i = 0; i < b->n_slabs; i++) munmap(b->slab_map[i], MAP_BYTES);
  if (b->next_map) munmap(b->next_map, MAP_BYTES);
  for (size_t g = 0; g < b->n_groups; g++) free(b->group[g].piece);
  free(b->slab);
  free(b->slab_map);
  free(b->group);
  free(b->block);
  memset(b, 0, sizeof *b);
}

static unsigned char *piece_at(const pd__bulk *b, uint32_t p) {
  return b->slab[p >> PD__BULK_SLAB_SHIFT] + (size_t)(p & (SLAB_PIECES - 1)) * PD__BULK_PIECE_BYTES;
}

void pd__bulk_release_group(pd__bulk *b, size_t g) {
  if (g >= b->n_groups) return;
  pd__bulk_group *k = &b->group[g];
  for (uint32_t i = 0; i < k->n_pieces; i++) madvise(piece_at(b, k->piece[i]), PD__BULK_PIECE_BYTES, MADV_DONTNEED);
  k->n_pieces = 0;
  k->used = 0;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* A slab's mapping and its 2 MiB-aligned start (huge pages advised). */
static unsigned char *map_slab(void **map) {
  void *m = mmap(NULL, MAP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return NULL;
  uintptr_t a = ((uintptr_t)m + PD__BULK_PIECE_BYTES - 1) & ~(uintptr_t)(PD__BULK_PIECE_BYTES - 1);
  madvise((void *)a, SLAB_BYTES, MADV_HUGEPAGE); /* a piece: one huge page */
  *map = m;
  return (unsigned char *)a;
}

bool pd__bulk_prefault_step(pd__bulk *b) {
  unsigned char *s = atomic_load(&b->next_slab);
  if (!s) return false;
  size_t done = atomic_fetch_add(&b->next_done, PD__BULK_PIECE_BYTES);
  if (done >= SLAB_BYTES) return false;
  madvise(s + done, PD__BULK_PIECE_BYTES, MADV_POPULATE_WRITE); /* a hint: pages not yet in fault in when written */
  return true;
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return true;
  size_t c = *cap ? *cap : 16;
  while (c < need) c *= 2;
  void *q = realloc(*p, c * elem);
  if (!q) return false;
  memset((char *)q + *cap * elem, 0, (c - *cap) * elem);
  *p = q;
  *cap = c;
  return true;
}

/* Starts a fresh piece for group k (a new slab when the last is used up). */
static pd_status new_piece(pd__bulk *b, pd__bulk_group *k) {
  if (b->n_pieces >= UINT32_MAX >> PD__BULK_PIECE_SHIFT) return pd__error(PD_ERR_RANGE, "bulk batch too large");
  if (k->n_pieces == k->cap_pieces) {
    uint32_t cap = k->cap_pieces ? 2 * k->cap_pieces : 8;
    uint32_t *q = realloc(k->piece, cap * sizeof *q);
    if (!q) return pd__error(PD_ERR_NOMEM, "out of memory");
    k->piece = q;
    k->cap_pieces = cap;
  }
  uint32_t p = b->n_pieces;
  if ((p >> PD__BULK_SLAB_SHIFT) >= b->n_slabs) {
    size_t cap = b->cap_slabs;
    if (!grow((void **)&b->slab, &cap, b->n_slabs + 1, sizeof *b->slab)) return pd__error(PD_ERR_NOMEM, "out of memory");
    if (!grow((void **)&b->slab_map, &b->cap_slabs, b->n_slabs + 1, sizeof *b->slab_map))
      return pd__error(PD_ERR_NOMEM, "out of memory");
    /* The slab mapped ahead (perhaps faulted in by now), then the next. */
    unsigned char *a = atomic_load(&b->next_slab);
    void *m = b->next_map;
    if (!a && !(a = map_slab(&m))) return pd__error(PD_ERR_NOMEM, "out of memory");
    b->slab_map[b->n_slabs] = m;
    b->slab[b->n_slabs++] = a;
    void *nm = NULL;
    unsigned char *na = map_slab(&nm); /* none: no prefaulting, not an error */
    b->next_map = nm;
    atomic_store(&b->next_done, 0);
    atomic_store(&b->next_slab, na);
  }
  b->n_pieces++;
  k->piece[k->n_pieces++] = p;
  k->used = 0;
  return PD_OK;
}

/* A fresh chunk of block blk's group (fresh anonymous memory: next is 0). */
static pd_status new_chunk(pd__bulk *b, size_t blk, uint32_t *id1) {
  size_t g = blk >> PD__BULK_GROUP_SHIFT;
  if (g >= b->n_groups) {
    if (!grow((void **)&b->group, &b->cap_groups, g + 1, sizeof *b->group)) return pd__error(PD_ERR_NOMEM, "out of memory");
    b->n_groups = g + 1;
  }
  pd__bulk_group *k = &b->group[g];
  if (!k->n_pieces || k->used == PIECE_CHUNKS) {
    pd_status st = new_piece(b, k);
    if (st != PD_OK) return st;
  }
  *id1 = (k->piece[k->n_pieces - 1] << PD__BULK_PIECE_SHIFT) + k->used++ + 1;
  return PD_OK;
}

/* The slot for the next entry of list l (of block blk). */
static inline pd_status next_slot(pd__bulk *b, size_t blk, pd__bulk_list *l, pd__bulk_chunk **c, uint32_t *i) {
  if (!l->last || l->n_last == PD__BULK_CHUNK) {
    uint32_t id1 = 0;
    pd_status st = new_chunk(b, blk, &id1);
    if (st != PD_OK) return st;
    if (l->last) pd__bulk_chunk_at(b, l->last)->next = id1;
    else l->first = id1;
    l->last = id1;
    l->n_last = 0;
  }
  *c = pd__bulk_chunk_at(b, l->last);
  *i = l->n_last++;
  return PD_OK;
}

pd_status pd__bulk_push(pd__bulk *b, int64_t time, uint32_t user, uint32_t type, uint32_t tp, uint32_t ref, int64_t amount) {
  size_t blk = user >> PD__BULK_SHIFT;
  if (blk >= b->n_blocks) {
    if (!grow((void **)&b->block, &b->cap_blocks, blk + 1, sizeof *b->block)) return pd__error(PD_ERR_NOMEM, "out of memory");
    b->n_blocks = blk + 1;
  }
  pd__bulk_block *k = &b->block[blk];
  bool extra = amount != 0 || ref != PD_NONE;
  pd__bulk_chunk *c, *xc = NULL;
  uint32_t i, xi = 0;
  pd_status st = next_slot(b, blk, &k->recs, &c, &i);
  if (st != PD_OK) return st;
  if (extra && (st = next_slot(b, blk, &k->extras, &xc, &xi)) != PD_OK) {
    k->recs.n_last--; /* no record without its extra */
    return st;
  }
  c->u.r[i] = (pd__bulk_rec){time, tp, (uint16_t)type, (uint16_t)((user & PD__BULK_LU_MASK) | (extra ? PD__BULK_EXTRA : 0))};
  if (extra) xc->u.x[xi] = (pd__bulk_extra){amount, ref, 0};
  b->n++;
  return PD_OK;
}
