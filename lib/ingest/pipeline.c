/* CSV/TSV event ingest on two threads: a parser thread reads, tokenizes
 * and parses rows into batches (nothing of the writer); the calling thread
 * interns names and appends, in file order. Each batch owns the read
 * buffer its rows point into (the source switches to a recycled one), so
 * nothing is copied; three batches circulate between two queues (plain
 * pthreads, which ThreadSanitizer understands, unlike GLib's futexes).
 * Into a bulk batch the calling thread only interns (the dictionary is
 * the part that cannot be shared) and the parser thread, when a batch
 * comes back to it, files its rows into the bulk batch by their ids:
 * batches come back in file order, so the events keep it. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_internal.h"

#define BATCHES 3
#define BATCH_ROWS 32768

/* Bump allocator for unescaped field text and messages of one batch. */
typedef struct block {
  struct block *next;
  size_t used, cap;
  char data[];
} block;

typedef struct batch {
  char *buf; /* the read buffer the rows point into */
  size_t cap;
  pd__row *rows;
  size_t n;
  block *arena;
  pd_status fatal; /* after the rows, the file fails with this */
  const char *fatal_msg;
  uint64_t disk_done;
  size_t interned; /* bulk: rows [0, interned) were seen by the interning side (id[0] != PD_NONE: appended) */
  bool last;
} batch;

/* A blocking FIFO of at most BATCHES batches. */
typedef struct queue {
  pthread_mutex_t lock;
  pthread_cond_t ready;
  batch *item[BATCHES];
  size_t head, n;
} queue;

typedef struct pipeline {
  pd__ing *g;
  queue full, empty;
  atomic_int stop;
  pd__bulk *bulk;      /* the writer's bulk batch, or NULL */
  pd_status fill_st;   /* the first error filling it (parser side until joined) */
  char fill_msg[256];
  batch b[BATCHES];
} pipeline;

static void q_push(queue *q, batch *b) {
  pthread_mutex_lock(&q->lock);
  q->item[(q->head + q->n++) % BATCHES] = b;
  pthread_cond_signal(&q->ready);
  pthread_mutex_unlock(&q->lock);
}

/* Pops the next batch. While there is none, idle(ctx) (when not NULL)
 * does a step of spare work, until it returns false. */
static batch *q_pop_idle(queue *q, bool (*idle)(pd__bulk *), pd__bulk *ctx) {
  pthread_mutex_lock(&q->lock);
  while (q->n == 0) {
    if (!idle) {
      pthread_cond_wait(&q->ready, &q->lock);
      continue;
    }
    pthread_mutex_unlock(&q->lock);
    if (!idle(ctx)) idle = NULL;
    pthread_mutex_lock(&q->lock);
  }
  batch *b = q->item[q->head];
  q->head = (q->head + 1) % BATCHES;
  q->n--;
  pthread_mutex_unlock(&q->lock);
  return b;
}

static batch *q_pop(queue *q) { return q_pop_idle(q, NULL, NULL); }

static const char *arena_copy(batch *b, const char *p, size_t len) {
  if (!b->arena || b->arena->cap - b->arena->used < len + 1) {
    size_t cap = len + 1 > 65536 ? len + 1 : 65536;
    block *k = malloc(sizeof *k + cap);
    if (!k) return NULL;
    k->next = b->arena;
    k->used = 0;
    k->cap = cap;
    b->arena = k;
  }
  char *o = b->arena->data + b->arena->used;
  memcpy(o, p, len);
  o[len] = '\0';
  b->arena->used += len + 1;
  return o;
}

static void arena_free(batch *b) {
  while (b->arena) {
    block *k = b->arena->next;
    free(b->arena);
    b->arena = k;
  }
}

/* Files the interned rows of b into the bulk batch, in order. */
static void fill_bulk(pipeline *pp, batch *b) {
  for (size_t i = 0; i < b->interned && pp->fill_st == PD_OK; i++) {
    const pd__row *r = &b->rows[i];
    if (r->id[0] == PD_NONE) continue;
    pd_status st = pd__bulk_push(pp->bulk, r->time, r->id[0], r->id[1], r->id[2], r->id[3], r->amount);
    if (st != PD_OK) {
      pp->fill_st = st;
      snprintf(pp->fill_msg, sizeof pp->fill_msg, "%s", pd_last_error());
      atomic_store(&pp->stop, 1);
    }
  }
  b->interned = 0;
}

static batch *take(pipeline *pp) {
  batch *b = q_pop(&pp->empty);
  if (b->interned) fill_bulk(pp, b);
  b->n = 0;
  arena_free(b);
  b->fatal = PD_OK;
  b->fatal_msg = NULL;
  b->last = false;
  b->disk_done = pd__source_disk_done(&pp->g->src);
  return b;
}

/* Sends the batch with the current buffer; the source continues in the
 * next batch's buffer. */
static batch *hand_off(pipeline *pp, batch *b, pd_status *st) {
  batch *next = take(pp);
  *st = pd__source_swap(&pp->g->src, &next->buf, &next->cap);
  /* After the swap next->buf holds the old buffer: it belongs to b's rows. */
  char *buf = next->buf;
  size_t cap = next->cap;
  next->buf = b->buf;
  next->cap = b->cap;
  b->buf = buf;
  b->cap = cap;
  q_push(&pp->full, b);
  return next;
}

static void fail(batch *b, pd_status st) {
  const char *m = pd_last_error();
  b->fatal = st;
  b->fatal_msg = arena_copy(b, m, strlen(m));
  if (!b->fatal_msg) b->fatal_msg = "out of memory";
}

/* A bad row: its message (with position) and its text, in order. */
static bool add_bad(batch *b, pd__ing *g) {
  pd__row *r = &b->rows[b->n];
  const char *m = pd_last_error();
  r->msg = arena_copy(b, m, strlen(m));
  r->rec = g->rec;
  r->rec_len = g->rec_len;
  r->line = g->line;
  r->hash[0] = r->hash[1] = 0;
  r->ts = NULL; /* no stale fast-row fields */
  if (!r->msg) return false;
  b->n++;
  return true;
}

/* Fields unescaped into the tokenizer's scratch live only until the next
 * record: keep a copy with the batch. */
static bool keep_scratch(batch *b, pd__ing *g, pd__row *r) {
  uintptr_t lo = (uintptr_t)g->dsv.scratch, hi = lo + g->dsv.scratch_len;
  for (int k = 0; k < S_N; k++) {
    uintptr_t a = (uintptr_t)r->text[k];
    if (!r->text[k] || !g->dsv.scratch || a < lo || a >= hi) continue;
    if (!(r->text[k] = arena_copy(b, r->text[k], r->len[k]))) return false;
  }
  return true;
}

static void *produce(void *data) {
  pipeline *pp = data;
  pd__ing *g = pp->g;
  pd__source *s = &g->src;
  batch *b = take(pp);
  pd_status st = PD_OK;
  const bool fast = pd__ing_fast_possible(g);
  while (!atomic_load(&pp->stop)) {
    size_t avail = s->end - s->start;
    if (avail == 0 && s->eof) break;
    if (b->n == BATCH_ROWS) {
      b = hand_off(pp, b, &st);
      if (st != PD_OK) break;
      continue;
    }
    size_t used = 0, k = fast ? pd__ing_fast_rows(g, s->buf + s->start, avail, b->rows + b->n, BATCH_ROWS - b->n, &used) : 0;
    if (k) {
      b->n += k;
      g->rows_read += k;
      g->line += k;
      s->start += used;
      continue;
    }
    pd__rec r = avail ? pd__dsv_next(&g->dsv, s->buf + s->start, avail, s->eof) : PD__REC_MORE;
    if (r == PD__REC_MORE) {
      if (b->n > 0) {
        b = hand_off(pp, b, &st);
        if (st != PD_OK) break;
      }
      if ((st = pd__source_fill(s)) != PD_OK) {
        if (st != PD_ERR_IO && st != PD_ERR_NOMEM) pd__ing_locate(g, s->buf + s->start, 0, g->line, 0);
        break;
      }
      b->disk_done = pd__source_disk_done(s);
      continue;
    }
    if (r == PD__REC_NOMEM) {
      st = pd__error(PD_ERR_NOMEM, "%s: out of memory", g->path);
      break;
    }
    const char *rec = s->buf + s->start;
    size_t len = g->dsv.used;
    if (len && rec[len - 1] == '\n') len--;
    if (len && rec[len - 1] == '\r') len--;
    g->rec = rec;
    g->rec_len = len;
    if (r == PD__REC_ERROR) {
      g->rows_read++;
      pd__error(PD_ERR_PARSE, "%s", g->dsv.err);
      pd__ing_locate(g, g->rec, g->rec_len, g->line, g->dsv.err_off);
      if (!add_bad(b, g)) {
        st = pd__error(PD_ERR_NOMEM, "out of memory");
        break;
      }
    } else if (r == PD__REC_OK) {
      g->rows_read++;
      pd__row *row = &b->rows[b->n];
      row->rec = rec;
      row->rec_len = len;
      row->line = g->line;
      pd_status rs = pd__ing_map_fields(g);
      if (rs == PD_OK) rs = pd__ing_parse_event(g, row);
      if (rs == PD_OK) {
        if (g->dsv.scratch_len && !keep_scratch(b, g, row)) rs = pd__error(PD_ERR_NOMEM, "out of memory");
        else b->n++;
      } else if (rs == PD__ROW_BAD) {
        rs = add_bad(b, g) ? PD_OK : pd__error(PD_ERR_NOMEM, "out of memory");
      }
      if (rs != PD_OK) {
        st = rs;
        break;
      }
    }
    g->line += g->dsv.lines;
    s->start += g->dsv.used;
  }
  if (st != PD_OK) fail(b, st);
  b->last = true;
  q_push(&pp->full, b);
  return NULL;
}

pd_status pd__ing_pipeline(pd__ing *g) {
  pipeline *pp = calloc(1, sizeof *pp);
  if (!pp) return pd__error(PD_ERR_NOMEM, "out of memory");
  pp->g = g;
  pp->bulk = pd__writer_bulk_events(g->w);
  pthread_mutex_init(&pp->full.lock, NULL);
  pthread_cond_init(&pp->full.ready, NULL);
  pthread_mutex_init(&pp->empty.lock, NULL);
  pthread_cond_init(&pp->empty.ready, NULL);
  atomic_init(&pp->stop, 0);
  pd_status result = PD_OK;
  for (int i = 0; i < BATCHES; i++) {
    pp->b[i].rows = malloc(BATCH_ROWS * sizeof(pd__row));
    if (!pp->b[i].rows) result = pd__error(PD_ERR_NOMEM, "out of memory for ingest batches");
    q_push(&pp->empty, &pp->b[i]);
  }
  pthread_t t;
  bool started = false;
  if (result == PD_OK) {
    int e = pthread_create(&t, NULL, produce, pp);
    if (e) result = pd__error(PD_ERR_NOMEM, "cannot start the parser thread: %s", strerror(e));
    started = e == 0;
  }
  bool stopping = false;
  while (started) {
    /* Waiting for rows, fault in the bulk batch's next memory: the parser
     * thread, which writes it, is the busier one. */
    batch *b = q_pop_idle(&pp->full, pp->bulk ? pd__bulk_prefault_step : NULL, pp->bulk);
    uint64_t appended_before = g->appended;
    if (!stopping && pd__ing_progress(g, b->disk_done)) {
      result = pd__error(PD_ERR_CANCELLED, "%s: cancelled by the progress callback", g->path);
      stopping = true;
    }
    /* Rows and their text were written on the parser's core, and user
     * lookups miss the cache: fetch rows far ahead, then, a few rows
     * ahead, the user's text and dictionary slot (the row is here by then). */
    const pd__dict *dict = pd__writer_dict(g->w);
    enum { AHEAD = 12 };
    for (size_t i = 0; i < b->n && i < 2 * AHEAD; i++) __builtin_prefetch(&b->rows[i]);
    for (size_t i = 0; i < b->n && i < AHEAD; i++) pd__dict_prefetch_user(dict, b->rows[i].hash[0]);
    for (size_t i = 0; i < b->n && !stopping; i++) {
      if (i + 2 * AHEAD < b->n) {
        __builtin_prefetch(&b->rows[i + 2 * AHEAD]);
        __builtin_prefetch((const char *)&b->rows[i + 2 * AHEAD] + 64);
      }
      if (i + AHEAD < b->n) {
        pd__dict_prefetch_user(dict, b->rows[i + AHEAD].hash[0]);
        if (!b->rows[i + AHEAD].msg) __builtin_prefetch(b->rows[i + AHEAD].text[S_USER]);
      }
      pd_status st;
      if (pp->bulk) {
        b->rows[i].id[0] = PD_NONE;
        st = pd__ing_intern_event(g, &b->rows[i]);
        b->interned = i + 1;
      } else {
        st = pd__ing_commit_event(g, &b->rows[i]);
      }
      if (st < 0) {
        result = st;
        stopping = true;
      }
    }
    if (pp->bulk) pd__writer_bulk_added(g->w, g->appended - appended_before);
    if (!stopping && b->fatal != PD_OK) {
      result = pd__error(b->fatal, "%s", b->fatal_msg);
      stopping = true;
    }
    if (stopping) atomic_store(&pp->stop, 1);
    bool last = b->last;
    q_push(&pp->empty, b);
    if (last) break;
  }
  if (started) pthread_join(t, NULL);
  /* The batches the parser did not take back, oldest first. */
  while (pp->bulk && pp->empty.n) {
    batch *b = q_pop(&pp->empty);
    if (b->interned) fill_bulk(pp, b);
  }
  if (result == PD_OK && pp->fill_st != PD_OK) result = pd__error(pp->fill_st, "%s", pp->fill_msg);
  for (int i = 0; i < BATCHES; i++) {
    free(pp->b[i].rows);
    free(pp->b[i].buf);
    arena_free(&pp->b[i]);
  }
  pthread_mutex_destroy(&pp->full.lock);
  pthread_cond_destroy(&pp->full.ready);
  pthread_mutex_destroy(&pp->empty.lock);
  pthread_cond_destroy(&pp->empty.ready);
  free(pp);
  return result;
}
