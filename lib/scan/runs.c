/* Per-user runs: zero-copy from the sealed segment when a user's events
 * live in one place; otherwise gathered, merged and time-sorted. */
#include <stdlib.h>
#include <string.h>

#include "runs.h"

void pd__runs_free(pd__runs *r) {
  free(r->canon);
  free(r->member_start);
  free(r->member_list);
  free(r->tail_start);
  free(r->t_time);
  free(r->t_type);
  free(r->t_tp);
  free(r->t_ref);
  free(r->t_amount);
  memset(r, 0, sizeof *r);
}

/* Stable sort of idx[0..n) by key[idx[i]]: insertion sort for the short
 * runs typical of one user, merge sort beyond. tmp has room for n. */
static void sort_by_time(uint32_t *idx, uint32_t *tmp, size_t n, const int64_t *key) {
  if (n < 32) {
    for (size_t i = 1; i < n; i++) {
      uint32_t v = idx[i];
      size_t j = i;
      while (j > 0 && key[idx[j - 1]] > key[v]) {
        idx[j] = idx[j - 1];
        j--;
      }
      idx[j] = v;
    }
    return;
  }
  size_t h = n / 2;
  sort_by_time(idx, tmp, h, key);
  sort_by_time(idx + h, tmp, n - h, key);
  if (key[idx[h - 1]] <= key[idx[h]]) return; /* already in order */
  memcpy(tmp, idx, h * sizeof *idx);
  size_t i = 0, j = h, k = 0;
  while (i < h && j < n) idx[k++] = key[idx[j]] < key[tmp[i]] ? idx[j++] : tmp[i++];
  while (i < h) idx[k++] = tmp[i++];
}

typedef struct tail_rec {
  int64_t time, amount;
  uint32_t tp, ref;
  uint16_t type;
} tail_rec;

/* Stable time sort of one user's records (tmp has room for n). */
static void sort_records(tail_rec *r, tail_rec *tmp, size_t n) {
  size_t i = 1;
  while (i < n && r[i - 1].time <= r[i].time) i++;
  if (i == n) return; /* the common case: ingested in time order */
  if (n < 32) {
    for (; i < n; i++) {
      tail_rec v = r[i];
      size_t j = i;
      while (j > 0 && r[j - 1].time > v.time) {
        r[j] = r[j - 1];
        j--;
      }
      r[j] = v;
    }
    return;
  }
  size_t h = n / 2;
  sort_records(r, tmp, h);
  sort_records(r + h, tmp, n - h);
  memcpy(tmp, r, h * sizeof *r);
  size_t a = 0, b = h, k = 0;
  while (a < h && b < n) r[k++] = r[b].time < tmp[a].time ? r[b++] : tmp[a++];
  while (a < h) r[k++] = tmp[a++];
}

static bool sorted(const int64_t *t, size_t n) {
  for (size_t i = 1; i < n; i++)
    if (t[i] < t[i - 1]) return false;
  return true;
}

pd_status pd__runs_prepare(const pd_store *s, pd__runs *r) {
  memset(r, 0, sizeof *r);
  r->s = s;
  r->n_users = pd__dict_n_users(&s->dict);
  uint32_t n = r->n_users;
  size_t nt = s->tail.n_committed;
  /* A compacted store with no merges and no log events (the common case of
   * a scan) needs neither table: runs come straight from the segment. */
  r->plain = s->dict.n_merges == 0 && nt == 0;
  if (r->plain) return PD_OK;
  r->canon = malloc(((size_t)n + 1) * sizeof *r->canon);
  r->tail_start = calloc((size_t)n + 2, sizeof *r->tail_start);
  if (!r->canon || !r->tail_start) goto nomem;
  for (uint32_t u = 0; u < n; u++) r->canon[u] = pd__dict_canonical(&s->dict, u);

  r->remap_seg = s->seg.n_events && s->dict.n_merges > s->seg.n_merges;
  if (r->remap_seg) {
    r->member_start = calloc((size_t)n + 2, sizeof *r->member_start);
    r->member_list = malloc(((size_t)n + 1) * sizeof *r->member_list);
    if (!r->member_start || !r->member_list) goto nomem;
    for (uint32_t u = 0; u < n; u++) r->member_start[r->canon[u] + 1]++;
    for (uint32_t u = 0; u < n; u++) r->member_start[u + 1] += r->member_start[u];
    uint32_t *fill = malloc(((size_t)n + 1) * sizeof *fill);
    if (!fill) goto nomem;
    memcpy(fill, r->member_start, ((size_t)n + 1) * sizeof *fill);
    for (uint32_t u = 0; u < n; u++) r->member_list[fill[r->canon[u]]++] = u; /* u itself comes first: ids ascend */
    free(fill);
  }

  if (nt) {
    /* Counting sort of the tail by canonical user into packed records (one
     * random write an event, instead of six random reads), a stable time
     * sort within users where ingest was out of order, then columns. */
    for (size_t i = 0; i < nt; i++) r->tail_start[r->canon[s->tail.user[i]] + 1]++;
    for (uint32_t u = 0; u < n; u++) r->tail_start[u + 1] += r->tail_start[u];
    uint64_t largest = 0; /* the merge sort needs scratch for half the largest user */
    for (uint32_t u = 0; u < n; u++)
      if (r->tail_start[u + 1] - r->tail_start[u] > largest) largest = r->tail_start[u + 1] - r->tail_start[u];
    tail_rec *rec = malloc(nt * sizeof *rec), *tmp = malloc((largest / 2 + 1) * sizeof *tmp);
    uint64_t *fill = malloc(((size_t)n + 1) * sizeof *fill);
    r->t_time = malloc(nt * sizeof *r->t_time);
    r->t_type = malloc(nt * sizeof *r->t_type);
    r->t_tp = malloc(nt * sizeof *r->t_tp);
    r->t_ref = malloc(nt * sizeof *r->t_ref);
    r->t_amount = malloc(nt * sizeof *r->t_amount);
    if (!rec || !tmp || !fill || !r->t_time || !r->t_type || !r->t_tp || !r->t_ref || !r->t_amount) {
      free(rec);
      free(tmp);
      free(fill);
      goto nomem;
    }
    memcpy(fill, r->tail_start, ((size_t)n + 1) * sizeof *fill);
    for (size_t i = 0; i < nt; i++) {
      uint32_t ref = s->tail.ref[i];
      rec[fill[r->canon[s->tail.user[i]]]++] =
          (tail_rec){s->tail.time[i], s->tail.amount[i], s->tail.tp[i], ref == PD_NONE ? PD_NONE : r->canon[ref], s->tail.type[i]};
    }
    free(fill);
    for (uint32_t u = 0; u < n; u++) {
      uint64_t a = r->tail_start[u], b = r->tail_start[u + 1];
      if (b - a > 1) sort_records(rec + a, tmp, b - a);
    }
    free(tmp);
    for (size_t k = 0; k < nt; k++) {
      r->t_time[k] = rec[k].time;
      r->t_type[k] = rec[k].type;
      r->t_tp[k] = rec[k].tp;
      r->t_ref[k] = rec[k].ref;
      r->t_amount[k] = rec[k].amount;
    }
    free(rec);
  }
  return PD_OK;
nomem:
  pd__runs_free(r);
  return pd__error(PD_ERR_NOMEM, "out of memory preparing a scan");
}

static uint64_t seg_count(const pd__runs *r, uint32_t u) {
  const pd__segment *g = &r->s->seg;
  return u < g->n_users ? g->user_off[u + 1] - g->user_off[u] : 0;
}

uint64_t pd__runs_count(const pd__runs *r, uint32_t u) {
  if (u >= r->n_users) return 0;
  if (r->plain) return seg_count(r, u);
  if (r->canon[u] != u) return 0;
  uint64_t n = r->tail_start[u + 1] - r->tail_start[u];
  if (r->remap_seg)
    for (uint32_t k = r->member_start[u]; k < r->member_start[u + 1]; k++) n += seg_count(r, r->member_list[k]);
  else
    n += seg_count(r, u);
  return n;
}

static bool buf_reserve(pd__run_buf *b, size_t n) {
  if (n <= b->cap) return true;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < n) cap *= 2;
  pd__run_buf_free(b);
  b->time = malloc(cap * sizeof *b->time);
  b->type = malloc(cap * sizeof *b->type);
  b->tp = malloc(cap * sizeof *b->tp);
  b->ref = malloc(cap * sizeof *b->ref);
  b->amount = malloc(cap * sizeof *b->amount);
  b->order = malloc(cap * sizeof *b->order);
  b->tmp = malloc(cap * sizeof *b->tmp);
  b->time2 = malloc(cap * sizeof *b->time2);
  b->type2 = malloc(cap * sizeof *b->type2);
  b->tp2 = malloc(cap * sizeof *b->tp2);
  b->ref2 = malloc(cap * sizeof *b->ref2);
  b->amount2 = malloc(cap * sizeof *b->amount2);
  if (!b->time || !b->type || !b->tp || !b->ref || !b->amount || !b->order || !b->tmp || !b->time2 || !b->type2 ||
      !b->tp2 || !b->ref2 || !b->amount2) {
    pd__run_buf_free(b);
    return false;
  }
  b->cap = cap;
  return true;
}

void pd__run_buf_free(pd__run_buf *b) {
  free(b->time); free(b->type); free(b->tp); free(b->ref); free(b->amount); free(b->order); free(b->tmp);
  free(b->time2); free(b->type2); free(b->tp2); free(b->ref2); free(b->amount2);
  memset(b, 0, sizeof *b);
}

pd_status pd__runs_get(const pd__runs *r, pd__run_buf *b, uint32_t u, pd_user_events *ev) {
  memset(ev, 0, sizeof *ev);
  ev->user = u;
  const pd__segment *g = &r->s->seg;
  if (r->plain) {
    if (u < r->n_users && seg_count(r, u)) pd__runs_segment_events(g, u, ev);
    return PD_OK;
  }
  if (u >= r->n_users || r->canon[u] != u) return PD_OK;
  uint64_t ta = r->tail_start[u], tn = r->tail_start[u + 1] - ta;
  if (!r->remap_seg) {
    uint64_t sn = seg_count(r, u);
    if (!sn || !tn) { /* one place: borrow the columns directly */
      if (sn) {
        uint64_t a = g->user_off[u];
        *ev = (pd_user_events){u, sn, g->time + a, g->type + a, g->tp + a, g->ref + a, g->amount + a};
      } else if (tn) {
        *ev = (pd_user_events){u, tn, r->t_time + ta, r->t_type + ta, r->t_tp + ta, r->t_ref + ta, r->t_amount + ta};
      }
      return PD_OK;
    }
  }
  /* Gather: segment runs of u and of users merged into it (remapping
   * referrers), then the tail; sort by time if more than one run. */
  uint64_t total = pd__runs_count(r, u);
  if (!total) return PD_OK;
  if (total > UINT32_MAX || !buf_reserve(b, total)) return pd__error(PD_ERR_NOMEM, "out of memory gathering user %u", u);
  size_t k = 0, runs = 0;
  uint32_t one = u;
  const uint32_t *members = r->remap_seg ? r->member_list + r->member_start[u] : &one;
  size_t n_members = r->remap_seg ? r->member_start[u + 1] - r->member_start[u] : 1;
  for (size_t m = 0; m < n_members; m++) {
    uint32_t id = members[m];
    uint64_t a = id < g->n_users ? g->user_off[id] : 0, n = seg_count(r, id);
    if (!n) continue;
    runs++;
    memcpy(b->time + k, g->time + a, n * sizeof *b->time);
    memcpy(b->type + k, g->type + a, n * sizeof *b->type);
    memcpy(b->tp + k, g->tp + a, n * sizeof *b->tp);
    memcpy(b->amount + k, g->amount + a, n * sizeof *b->amount);
    for (uint64_t i = 0; i < n; i++) b->ref[k + i] = g->ref[a + i] == PD_NONE ? PD_NONE : r->canon[g->ref[a + i]];
    k += n;
  }
  if (tn) {
    runs++;
    memcpy(b->time + k, r->t_time + ta, tn * sizeof *b->time);
    memcpy(b->type + k, r->t_type + ta, tn * sizeof *b->type);
    memcpy(b->tp + k, r->t_tp + ta, tn * sizeof *b->tp);
    memcpy(b->ref + k, r->t_ref + ta, tn * sizeof *b->ref);
    memcpy(b->amount + k, r->t_amount + ta, tn * sizeof *b->amount);
    k += tn;
  }
  if (runs > 1 && !sorted(b->time, k)) {
    for (size_t i = 0; i < k; i++) b->order[i] = (uint32_t)i;
    sort_by_time(b->order, b->tmp, k, b->time);
    for (size_t i = 0; i < k; i++) {
      uint32_t o = b->order[i];
      b->time2[i] = b->time[o];
      b->type2[i] = b->type[o];
      b->tp2[i] = b->tp[o];
      b->ref2[i] = b->ref[o];
      b->amount2[i] = b->amount[o];
    }
    *ev = (pd_user_events){u, k, b->time2, b->type2, b->tp2, b->ref2, b->amount2};
  } else {
    *ev = (pd_user_events){u, k, b->time, b->type, b->tp, b->ref, b->amount};
  }
  return PD_OK;
}
