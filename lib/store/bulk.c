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
  free(b->count);
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
  return PD_OK; /* fresh anonymous memory: next and n are 0 */
}

pd_status pd__bulk_push(pd__bulk *b, const pd_event *e) {
  size_t blk = e->user >> PD__BULK_SHIFT;
  if (!grow((void **)&b->block, &b->cap_blocks, blk + 1, sizeof *b->block) ||
      !grow((void **)&b->count, &b->cap_count, (size_t)e->user + 1, sizeof *b->count))
    return pd__error(PD_ERR_NOMEM, "out of memory");
  if (blk >= b->n_blocks) b->n_blocks = blk + 1;
  pd__bulk_block *k = &b->block[blk];
  pd__bulk_chunk *c = k->last ? pd__bulk_chunk_at(b, k->last) : NULL;
  if (!c || c->n == PD__BULK_CHUNK) {
    uint32_t id1 = 0;
    pd_status st = new_chunk(b, &id1);
    if (st != PD_OK) return st;
    if (c) c->next = id1;
    else k->first = id1;
    k->last = id1;
    c = pd__bulk_chunk_at(b, id1);
  }
  pd__bulk_rec *r = &c->r[c->n++];
  r->time = e->time_ms;
  r->amount = e->amount;
  r->tp = e->touchpoint;
  r->ref = e->referrer;
  r->type = (uint16_t)e->type;
  r->lu = (uint16_t)(e->user & ((1u << PD__BULK_SHIFT) - 1));
  b->count[e->user]++;
  b->n++;
  return PD_OK;
}
