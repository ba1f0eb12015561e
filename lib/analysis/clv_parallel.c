/* Row loops of the CLV code on a few threads: the rows are cut into
 * chunks whose number depends on the row count only, so per-chunk partial
 * sums combined in chunk order give the same result on any machine. */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "clv_internal.h"

size_t pd__clv_chunks(size_t n) {
  size_t c = n / PD__CLV_CHUNK_ROWS;
  if (c < 1) c = 1;
  return c > PD__CLV_MAX_CHUNKS ? PD__CLV_MAX_CHUNKS : c;
}

unsigned pd__clv_threads(unsigned requested) {
  if (requested == 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    requested = n > 0 ? (unsigned)n : 1;
  }
  return requested > PD__CLV_MAX_CHUNKS ? PD__CLV_MAX_CHUNKS : requested;
}

typedef struct par_job {
  size_t n, nchunks;
  pd__clv_chunk_fn fn;
  void *ctx;
  atomic_size_t next;
} par_job;

static void *par_worker(void *arg) {
  par_job *j = arg;
  for (;;) {
    size_t c = atomic_fetch_add(&j->next, 1);
    if (c >= j->nchunks) break;
    j->fn(j->ctx, c, j->n * c / j->nchunks, j->n * (c + 1) / j->nchunks);
  }
  return NULL;
}

void pd__clv_parallel(size_t n, unsigned threads, pd__clv_chunk_fn fn, void *ctx) {
  par_job j = {n, pd__clv_chunks(n), fn, ctx, 0};
  atomic_init(&j.next, 0);
  unsigned nt = pd__clv_threads(threads);
  if (nt > j.nchunks) nt = (unsigned)j.nchunks;
  pthread_t th[PD__CLV_MAX_CHUNKS];
  unsigned started = 0;
  /* a thread that fails to start only means fewer workers */
  for (unsigned i = 1; i < nt; i++)
    if (pthread_create(&th[started], NULL, par_worker, &j) == 0) started++;
  par_worker(&j);
  for (unsigned i = 0; i < started; i++) pthread_join(th[i], NULL);
}
