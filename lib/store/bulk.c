/* Bulk batches: events grouped by block of users as they arrive. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bulk.h"

#define SLAB_CHUNKS (1u << PD__BULK_SLAB_SHIFT)

void pd__bulk_init(pd__bulk *b) { memset(b, 0, sizeof *b); }

void pd__bulk_free(pd__bulk *b) {
  for (size_t i = 0; i < b->n_slabs; i++) munmap(b->slab[i], SLAB_CHUNKS * sizeof(pd__bulk_chunk));
  free(b->slab);
  free(b->block);
  memset(b, 0, sizeof *b);
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return true;
  size_t c = *cap ? *cap : 1024;
  while (c < need) c *= 2;
  void *q = realloc(*p, c * elem);
  if (!q) return false;
  memset((char *)q + *cap * elem, 0, (c - *cap) * elem);
  *p = q;
  *cap = c;
  return true;
}

static pd_status new_chunk(pd__bulk *b, uint32_t *id1) {
  if (b->n_chunks == UINT32_MAX - 1) return pd__error(PD_ERR_RANGE, "bulk batch too large");
  if (b->n_chunks == b->n_slabs * SLAB_CHUNKS) {
    if (!grow((void **)&b->slab, &b->cap_slabs, b->n_slabs + 1, sizeof *b->slab))
      return pd__error(PD_ERR_NOMEM, "out of memory");
    void *p = mmap(NULL, SLAB_CHUNKS * sizeof(pd__bulk_chunk), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return pd__error(PD_ERR_NOMEM, "out of memory");
    madvise(p, SLAB_CHUNKS * sizeof(pd__bulk_chunk), MADV_HUGEPAGE);
    b->slab[b->n_slabs++] = p;
  }
  *id1 = ++b->n_chunks;
  return PD_OK; /* fresh anonymous memory: next is 0 */
}

/* The slot for the next entry of list l. */
static inline pd_status next_slot(pd__bulk *b, pd__bulk_list *l, pd__bulk_chunk **c, uint32_t *i) {
  if (!l->last || l->n_last == PD__BULK_CHUNK) {
    uint32_t id1 = 0;
    pd_status st = new_chunk(b, &id1);
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
  pd_status st = next_slot(b, &k->recs, &c, &i);
  if (st != PD_OK) return st;
  if (extra && (st = next_slot(b, &k->extras, &xc, &xi)) != PD_OK) {
    k->recs.n_last--; /* no record without its extra */
    return st;
  }
  c->u.r[i] = (pd__bulk_rec){time, tp, (uint16_t)type, (uint16_t)((user & PD__BULK_LU_MASK) | (extra ? PD__BULK_EXTRA : 0))};
  if (extra) xc->u.x[xi] = (pd__bulk_extra){amount, ref, 0};
  b->n++;
  return PD_OK;
}
