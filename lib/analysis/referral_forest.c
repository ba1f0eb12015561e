/* The referral forest: parents from first attributions, bad input found and
 * broken deterministically (self-referrals, cycles), depths and roots by
 * iterative parent walks, subtree aggregates by a pass in decreasing depth.
 * Everything is O(nodes) time and memory, with no recursion, so a chain of
 * millions of users is as safe as a bush. */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privdomain/referral.h"
#include "referral_internal.h"

#define UNSET UINT32_MAX
#define ON_PATH (UINT32_MAX - 1)
#define CYCLE_DETAIL_MEMBERS 12

pd_status pd__referral_issue(pd_referral *r, pd__ref_issue_kind kind, uint32_t user, uint32_t referrer,
                             int64_t time, char *detail) {
  r->issue_count[kind]++;
  size_t cap = r->opts.max_examples;
  if (r->n_issues[kind] >= cap) {
    free(detail);
    return PD_OK;
  }
  if (r->n_issues[kind] == 0) {
    r->issues[kind] = calloc(cap, sizeof *r->issues[kind]);
    if (!r->issues[kind]) {
      free(detail);
      return pd__error(PD_ERR_NOMEM, "out of memory");
    }
  }
  pd__ref_issue *x = &r->issues[kind][r->n_issues[kind]++];
  x->user = user;
  x->referrer = referrer;
  x->time = time;
  x->detail = detail;
  return PD_OK;
}

static void label(const pd_referral *r, uint32_t u, char *buf, size_t size) {
  const char *name = pd__referral_name(r, u);
  if (name) snprintf(buf, size, "%s", name);
  else snprintf(buf, size, "%" PRIu32, u);
}

/* "a -> b -> c -> a": the cycle from `start` along the attributed
 * referrers (each arrow points at the referrer). */
static char *cycle_detail(const pd_referral *r, uint32_t start, uint64_t members) {
  GString *s = g_string_new(NULL);
  char buf[96];
  uint32_t v = start;
  for (uint64_t i = 0; i <= members && i <= CYCLE_DETAIL_MEMBERS; i++) {
    label(r, v, buf, sizeof buf);
    g_string_append_printf(s, "%s%s", i ? " -> " : "", buf);
    v = r->attributed[v];
  }
  if (members > CYCLE_DETAIL_MEMBERS) g_string_append_printf(s, " -> ... (%" PRIu64 " members)", members);
  else g_string_append_printf(s, " (%" PRIu64 " members)", members);
  return g_string_free(s, FALSE);
}

/* Cuts the cycle formed by path[from..len): the member acquired first
 * (ties: smallest id) loses its referral edge. */
static pd_status break_cycle(pd_referral *r, const uint32_t *path, size_t from, size_t len) {
  uint32_t cut = path[from];
  for (size_t i = from + 1; i < len; i++) {
    uint32_t m = path[i];
    if (r->acq[m] < r->acq[cut] || (r->acq[m] == r->acq[cut] && m < cut)) cut = m;
  }
  uint64_t members = len - from;
  r->cycle_members += members;
  char *detail = cycle_detail(r, cut, members);
  pd_status st = pd__referral_issue(r, PD__ISSUE_CYCLE, cut, r->parent[cut], r->signup[cut], detail);
  r->parent[cut] = PD_NONE;
  r->flags[cut] |= PD__REF_CYCLE_CUT;
  return st;
}

/* Depth and root of every node; cuts cycles on the way. Each node is put
 * on a path at most twice (once more after a cut), so this is O(n). */
static pd_status walk(pd_referral *r, uint32_t *path) {
  uint32_t *depth = r->depth;
  for (uint32_t u = 0; u < r->n; u++) depth[u] = UNSET;
  for (uint32_t u = 0; u < r->n; u++) {
    if (!(r->flags[u] & PD__REF_NODE) || depth[u] != UNSET) continue;
  restart:;
    size_t len = 0;
    uint32_t v = u, base_depth = 0, base_root = PD_NONE;
    for (;;) {
      if (depth[v] == ON_PATH) { /* back on this path: a cycle */
        size_t from = len;
        while (path[from - 1] != v) from--;
        pd_status st = break_cycle(r, path, from - 1, len);
        if (st != PD_OK) return st;
        for (size_t i = 0; i < len; i++) depth[path[i]] = UNSET;
        goto restart;
      }
      if (depth[v] != UNSET) { /* reached a node already placed */
        base_depth = depth[v] + 1;
        base_root = r->root[v];
        break;
      }
      depth[v] = ON_PATH;
      path[len++] = v;
      if (r->parent[v] == PD_NONE) { /* a root ends the path */
        base_root = v;
        break;
      }
      v = r->parent[v];
    }
    /* Assign from the top of the path (nearest the root) downwards. */
    uint32_t d = base_depth;
    for (size_t i = len; i-- > 0;) {
      if (d >= ON_PATH) return pd__error(PD_ERR_RANGE, "referral: chain deeper than 2^32 - 2");
      depth[path[i]] = d++;
      r->root[path[i]] = base_root;
    }
  }
  return PD_OK;
}

/* Children counts, descendants and their revenue: children before parents
 * by visiting nodes in decreasing depth (a counting sort by depth). */
static pd_status aggregate(pd_referral *r, uint32_t *order) {
  uint32_t maxd = 0;
  for (uint32_t u = 0; u < r->n; u++)
    if ((r->flags[u] & PD__REF_NODE) && r->depth[u] > maxd) maxd = r->depth[u];
  r->max_depth = maxd;
  size_t *start = calloc((size_t)maxd + 2, sizeof *start);
  if (!start) return pd__error(PD_ERR_NOMEM, "out of memory");
  for (uint32_t u = 0; u < r->n; u++)
    if (r->flags[u] & PD__REF_NODE) start[r->depth[u] + 1]++;
  for (uint32_t d = 0; d <= maxd; d++) start[d + 1] += start[d];
  for (uint32_t u = 0; u < r->n; u++)
    if (r->flags[u] & PD__REF_NODE) order[start[r->depth[u]]++] = u;
  free(start);
  /* order is now by increasing depth; walk it backwards. */
  for (size_t i = r->n_nodes; i-- > 0;) {
    uint32_t v = order[i], p = r->parent[v];
    if (p == PD_NONE) continue;
    r->children[p]++;
    r->desc[p] += r->desc[v] + 1;
    r->desc_revenue[p] += r->desc_revenue[v] + r->revenue[v];
  }
  return PD_OK;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static pd_status cycle_times(pd_referral *r) {
  size_t n = 0;
  for (uint32_t u = 0; u < r->n; u++)
    if (r->parent[u] != PD_NONE && (r->flags[r->parent[u]] & PD__REF_EVENTS) && pd__referral_counted(r, r->parent[u])) n++;
  r->cycle_times = malloc((n ? n : 1) * sizeof *r->cycle_times);
  if (!r->cycle_times) return pd__error(PD_ERR_NOMEM, "out of memory");
  for (uint32_t u = 0; u < r->n; u++) {
    uint32_t p = r->parent[u];
    if (p == PD_NONE || !(r->flags[p] & PD__REF_EVENTS) || !pd__referral_counted(r, p)) continue;
    int64_t dt = r->signup[u] - r->acq[p];
    if (dt < 0) r->negative_cycle_times++;
    else r->cycle_times[r->n_cycle_times++] = dt;
  }
  qsort(r->cycle_times, r->n_cycle_times, sizeof *r->cycle_times, cmp_i64);
  return PD_OK;
}

static char *strprintf(const char *fmt, ...) PD_PRINTF(1, 2);
static char *strprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  return s;
}

pd_status pd__referral_build_forest(pd_referral *r) {
  pd_status st = PD_OK;
  r->n_nodes = 0;
  for (uint32_t u = 0; u < r->n; u++) {
    r->parent[u] = r->attributed[u];
    if (r->flags[u] & PD__REF_NODE) r->n_nodes++;
  }
  /* Self-referrals first: the user becomes a root. */
  for (uint32_t u = 0; st == PD_OK && u < r->n; u++) {
    if (r->attributed[u] != u) continue;
    r->parent[u] = PD_NONE;
    r->flags[u] |= PD__REF_SELF;
    st = pd__referral_issue(r, PD__ISSUE_SELF, u, u, r->signup[u], NULL);
  }
  uint32_t *scratch = malloc((r->n ? r->n : 1) * sizeof *scratch);
  if (!scratch) return pd__error(PD_ERR_NOMEM, "out of memory for a referral forest of %u users", r->n);
  if (st == PD_OK) st = walk(r, scratch);
  if (st == PD_OK) st = aggregate(r, scratch);
  free(scratch);
  if (st == PD_OK) st = cycle_times(r);
  /* Reported, kept: conflicts, early sign-ups, referrers without events. */
  char when[40], who[96];
  for (uint32_t u = 0; st == PD_OK && u < r->n; u++) {
    if (r->conflicts[u]) {
      label(r, r->attributed[u], who, sizeof who);
      r->issue_count[PD__ISSUE_CONFLICT] += r->conflicts[u] - 1; /* one more is counted just below */
      st = pd__referral_issue(r, PD__ISSUE_CONFLICT, u, r->conflict_referrer[u], r->conflict_time[u],
                              strprintf("%" PRIu32 " later attribution(s) to another referrer; first referrer %s kept",
                                        r->conflicts[u], who));
    }
    uint32_t p = r->parent[u];
    if (st == PD_OK && p != PD_NONE && (r->flags[p] & PD__REF_EVENTS) && r->signup[u] < r->first[p]) {
      pd__format_time_iso(r->first[p], when, sizeof when);
      st = pd__referral_issue(r, PD__ISSUE_EARLY, u, p, r->signup[u],
                              strprintf("signed up %.1f h before the referrer's first event (%s)",
                                        (double)(r->first[p] - r->signup[u]) / 3600000.0, when));
    }
    if (st == PD_OK && (r->flags[u] & PD__REF_NODE) && !(r->flags[u] & PD__REF_EVENTS))
      st = pd__referral_issue(r, PD__ISSUE_NO_EVENTS, u, PD_NONE, PD__REF_UNKNOWN_TIME,
                              strprintf("referrer of %" PRIu32 " user(s) has no events", r->children[u]));
  }
  return st;
}
