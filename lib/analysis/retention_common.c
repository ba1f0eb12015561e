/* Helpers shared by retention, lifecycle and stickiness: type sets, the
 * period cursor, growable arrays and the scan-with-partials driver. */
#include <stdlib.h>
#include <string.h>

#include "retention_internal.h"

void pd__typeset_fill(pd__typeset *s, const uint32_t *types, size_t n) {
  memset(s->bits, n ? 0 : 0xff, sizeof s->bits);
  for (size_t i = 0; i < n; i++) pd__typeset_add(s, types[i]);
}

bool pd__period_valid(pd_period p) {
  return p == PD_PERIOD_DAY || p == PD_PERIOD_WEEK || p == PD_PERIOD_WEEK_SUNDAY || p == PD_PERIOD_MONTH;
}

void pd__pcursor_free(pd__pcursor *c) {
  free(c->memo);
  c->memo = NULL;
  c->mn = 0;
}

/* Start of period i, memoised in a window that grows to cover what is
 * asked (without memory it is simply computed). */
static int64_t memo_start(pd__pcursor *c, int64_t i) {
  if (c->mn == 0 || i < c->mbase || i >= c->mbase + (int64_t)c->mn) {
    int64_t lo = c->mn ? (i < c->mbase ? i - 64 : c->mbase) : i - 64;
    int64_t hi = c->mn ? (i >= c->mbase + (int64_t)c->mn ? i + 64 : c->mbase + (int64_t)c->mn) : i + 192;
    size_t n = (size_t)(hi - lo);
    int64_t *m = n <= (1u << 20) ? malloc(n * sizeof *m) : NULL;
    if (!m) return pd__period_start_utc(c->tz, c->period, i);
    for (size_t j = 0; j < n; j++) m[j] = INT64_MIN;
    if (c->mn) memcpy(m + (c->mbase - lo), c->memo, c->mn * sizeof *m);
    free(c->memo);
    c->memo = m;
    c->mbase = lo;
    c->mn = n;
  }
  int64_t *slot = &c->memo[i - c->mbase];
  if (*slot == INT64_MIN) *slot = pd__period_start_utc(c->tz, c->period, i);
  return *slot;
}

int64_t pd__pcursor_slow(pd__pcursor *c, int64_t t) {
  if (c->lo < c->hi && t >= c->hi) { /* the next period, most likely */
    int64_t next = memo_start(c, c->idx + 2);
    if (t < next) {
      c->idx++;
      c->lo = c->hi;
      c->hi = next;
      return c->idx;
    }
  }
  int64_t idx = pd__period_index(c->tz, c->period, t);
  int64_t lo = memo_start(c, idx);
  int64_t hi = memo_start(c, idx + 1);
  c->idx = idx;
  if (t >= lo && t < hi) {
    c->lo = lo;
    c->hi = hi;
  } else { /* a zone whose clock jumps back over a period boundary: no caching */
    c->lo = 1;
    c->hi = 0;
  }
  return idx;
}

bool pd__grow_i64(int64_t **a, size_t *cap, size_t need) {
  if (need <= *cap) return true;
  size_t nc = *cap ? *cap : 16;
  while (nc < need) nc *= 2;
  int64_t *p = realloc(*a, nc * sizeof *p);
  if (!p) return false;
  memset(p + *cap, 0, (nc - *cap) * sizeof *p);
  *a = p;
  *cap = nc;
  return true;
}

typedef struct scan_ctx {
  void **parts;
  pd__add_fn add;
  pd_status *status;
} scan_ctx;

static int scan_user(void *vctx, unsigned worker, const pd_user_events *ev) {
  scan_ctx *c = vctx;
  pd_status rc = c->add(c->parts[worker], ev);
  if (rc) {
    c->status[worker] = rc;
    return 1;
  }
  return 0;
}

pd_status pd__scan_partials(pd_store *store, const pd_scan_options *scan, void **parts, unsigned nw, pd__add_fn add,
                            pd__merge_fn merge) {
  pd_status *status = calloc(nw, sizeof *status);
  if (!status) return pd__error(PD_ERR_NOMEM, "out of memory");
  scan_ctx ctx = {parts, add, status};
  pd_status rc = pd_scan(store, scan, scan_user, &ctx);
  for (unsigned w = 0; w < nw; w++)
    if (status[w]) rc = status[w];
  for (unsigned w = 1; rc == PD_OK && w < nw; w++) rc = merge(parts[0], parts[w]);
  free(status);
  return rc;
}
