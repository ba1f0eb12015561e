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

int64_t pd__pcursor_slow(pd__pcursor *c, int64_t t) {
  int64_t idx = pd__period_index(c->tz, c->period, t);
  int64_t lo = pd__period_start_utc(c->tz, c->period, idx);
  int64_t hi = pd__period_start_utc(c->tz, c->period, idx + 1);
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
