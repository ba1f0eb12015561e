/* pd_scan: every user's run, on a pool of threads pulling chunks of
 * consecutive users from a shared counter. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runs.h"

#define CHUNK_USERS 2048
#define MAX_WORKERS 256

typedef struct scan_job {
  const pd__runs *runs;
  pd_scan_fn fn;
  void *ctx;
  const pd_userset *users;
  uint32_t begin, end;
  atomic_uint_fast64_t next; /* next chunk start, relative to begin */
  atomic_int stop;           /* 1: callback asked to stop, 2: error */
  pthread_mutex_t err_lock;
  pd_status err;
  char err_msg[1024];
} scan_job;

typedef struct worker {
  scan_job *job;
  unsigned index;
} worker;

unsigned pd_scan_workers(const pd_scan_options *opts) {
  unsigned t = opts && opts->size >= offsetof(pd_scan_options, threads) + sizeof opts->threads ? opts->threads : 0;
  if (t == 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    t = n > 0 ? (unsigned)n : 1;
  }
  return t > MAX_WORKERS ? MAX_WORKERS : t;
}

static void *run_worker(void *arg) {
  worker *w = arg;
  scan_job *job = w->job;
  pd__run_buf buf = {0};
  pd_user_events ev;
  while (!atomic_load(&job->stop)) {
    uint64_t start = (uint64_t)job->begin + atomic_fetch_add(&job->next, CHUNK_USERS);
    if (start >= job->end) break;
    uint32_t stop_at = start + CHUNK_USERS < job->end ? (uint32_t)(start + CHUNK_USERS) : job->end;
    if (job->runs->plain && !job->users) {
      /* Straight from the segment's columns: no per-user call. */
      const pd__segment *g = &job->runs->s->seg;
      uint32_t last = stop_at < g->n_users ? stop_at : g->n_users;
      for (uint32_t u = (uint32_t)start; u < last; u++) {
        pd__runs_segment_events(g, u, &ev);
        if (!ev.n) continue;
        if (job->fn(job->ctx, w->index, &ev) != 0) {
          atomic_store(&job->stop, 1);
          break;
        }
      }
      continue;
    }
    for (uint32_t u = (uint32_t)start; u < stop_at; u++) {
      if (!pd__userset_pass(job->users, u)) continue;
      pd_status st = pd__runs_get(job->runs, &buf, u, &ev);
      if (st != PD_OK) {
        pthread_mutex_lock(&job->err_lock);
        if (job->err == PD_OK) {
          job->err = st;
          snprintf(job->err_msg, sizeof job->err_msg, "%s", pd_last_error());
        }
        pthread_mutex_unlock(&job->err_lock);
        atomic_store(&job->stop, 2);
        break;
      }
      if (ev.n && job->fn(job->ctx, w->index, &ev) != 0) {
        atomic_store(&job->stop, 1);
        break;
      }
    }
  }
  pd__run_buf_free(&buf);
  return NULL;
}

pd_status pd_scan(pd_store *s, const pd_scan_options *opts, pd_scan_fn fn, void *ctx) {
  if (!s || !fn) return pd__error(PD_ERR_INVALID, "pd_scan: NULL argument");
  pd_scan_options o = PD_SCAN_OPTIONS_INIT;
  if (opts) {
    if (opts->size < sizeof(size_t)) return pd__error(PD_ERR_INVALID, "pd_scan: options size not set");
    memcpy(&o, opts, opts->size < sizeof o ? opts->size : sizeof o);
  }
  pd__runs runs;
  pd_status st = pd__runs_prepare(s, &runs);
  if (st != PD_OK) return st;
  scan_job job = {.runs = &runs, .fn = fn, .ctx = ctx, .begin = o.user_begin, .users = o.users};
  job.end = o.user_end > runs.n_users ? runs.n_users : o.user_end;
  atomic_init(&job.next, 0);
  atomic_init(&job.stop, 0);
  pthread_mutex_init(&job.err_lock, NULL);
  unsigned n = pd_scan_workers(&o);
  worker workers[MAX_WORKERS];
  pthread_t threads[MAX_WORKERS];
  unsigned started = 1;
  for (unsigned i = 0; i < n; i++) workers[i] = (worker){&job, i};
  /* Worker 0 is the calling thread; a failed thread start just means
   * fewer workers, never a wrong result. */
  for (unsigned i = 1; i < n && job.begin < job.end; i++) {
    if (pthread_create(&threads[i], NULL, run_worker, &workers[i]) != 0) break;
    started++;
  }
  if (job.begin < job.end) run_worker(&workers[0]);
  for (unsigned i = 1; i < started; i++) pthread_join(threads[i], NULL);
  pthread_mutex_destroy(&job.err_lock);
  pd__runs_free(&runs);
  if (job.err != PD_OK) return pd__error(job.err, "%s", job.err_msg);
  if (atomic_load(&job.stop) == 1) return pd__error(PD_ERR_CANCELLED, "scan stopped by the callback");
  return PD_OK;
}
