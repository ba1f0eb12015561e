/* Funnels over a store: touchpoint domains and names from the store, one
 * partial per pd_scan() worker, merged and finished. */
#include <stdio.h>
#include <stdlib.h>

#include "privdomain/funnel.h"
#include "funnel_internal.h"

static void store_tp_name(void *ctx, uint32_t tp, char *buf, size_t size) {
  pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
  if (ctx && pd_store_touchpoint(ctx, tp, &d) == PD_OK && d.name)
    snprintf(buf, size, "%s", d.name);
  else
    snprintf(buf, size, "#%u", (unsigned)tp);
}

pd_status pd_funnel_partial_finish(const pd_funnel_partial *p, pd_store *store, pd_table **out) {
  return pd__funnel_finish(p, store ? store_tp_name : NULL, store, out);
}

/* Touchpoint domains of the store, indexed by touchpoint id. */
pd_status pd__store_domains(pd_store *store, uint8_t **out, size_t *n) {
  size_t nt = pd_store_n_touchpoints(store);
  uint8_t *d = calloc(nt ? nt : 1, 1);
  if (!d) return pd__error(PD_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < nt; i++) {
    pd_touchpoint_def def = PD_TOUCHPOINT_DEF_INIT;
    if (pd_store_touchpoint(store, (uint32_t)i, &def) == PD_OK) d[i] = (uint8_t)def.domain;
  }
  *out = d;
  *n = nt;
  return PD_OK;
}

typedef struct run_ctx {
  pd_funnel_partial **parts;
  pd_status *status; /* per worker */
} run_ctx;

static int run_user(void *vctx, unsigned worker, const pd_user_events *ev) {
  run_ctx *c = vctx;
  pd_status rc = pd_funnel_partial_add(c->parts[worker], ev);
  if (rc) {
    c->status[worker] = rc;
    return 1;
  }
  return 0;
}

pd_status pd_funnel_run(pd_store *store, const pd_funnel_spec *spec, const pd_scan_options *opts, pd_table **out) {
  if (!store || !spec || !out) return pd__error(PD_ERR_INVALID, "pd_funnel_run: NULL argument");
  uint8_t *domains = NULL;
  size_t nd = 0;
  pd_status rc = pd__store_domains(store, &domains, &nd);
  if (rc) return rc;
  unsigned nw = pd_scan_workers(opts);
  pd_funnel_partial **parts = calloc(nw, sizeof *parts);
  pd_status *status = calloc(nw, sizeof *status);
  if (!parts || !status) {
    rc = pd__error(PD_ERR_NOMEM, "funnel: out of memory");
    goto done;
  }
  for (unsigned w = 0; w < nw; w++)
    if ((rc = pd__funnel_partial_new_ex(spec, domains, nd, &parts[w]))) goto done;
  run_ctx ctx = {parts, status};
  rc = pd_scan(store, opts, run_user, &ctx);
  for (unsigned w = 0; w < nw; w++)
    if (status[w]) rc = status[w];
  if (rc) goto done;
  for (unsigned w = 1; w < nw; w++)
    if ((rc = pd_funnel_partial_merge(parts[0], parts[w]))) goto done;
  rc = pd_funnel_partial_finish(parts[0], store, out);
done:
  if (parts)
    for (unsigned w = 0; w < nw; w++) pd_funnel_partial_free(parts[w]);
  free(parts);
  free(status);
  free(domains);
  return rc;
}
