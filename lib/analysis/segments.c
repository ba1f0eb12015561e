/* Segment expressions: parser (grammar in include/privdomain/segments.h),
 * evaluation into a pd_userset (one pd_scan() for the metrics when the
 * expression has a comparison), and the segment breakdown of analyses. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privdomain/segments.h"
#include "segdefs.h"
#include "timeparse.h"
#include "store_internal.h"

#define MAX_DEPTH 200

enum { K_END, K_LP, K_RP, K_OP, K_WORD, K_STR, K_AND, K_OR, K_NOT };
enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };
enum { N_OR, N_AND, N_NOT, N_TAG, N_CMP };
enum { M_REVENUE, M_PURCHASES, M_EVENTS, M_INVITES, M_LAST_DAYS, M_FIRST_DAYS, M_ACQ_VIA, M_DOMAIN, M_COUNT };

static const char *const metric_names[M_COUNT] = {"revenue", "purchases", "events", "invites",
                                                   "last_event_days", "first_event_days", "acquired_via", "domain"};

typedef struct tok {
  int kind, op;
  size_t off, len; /* bytes of the token in the source */
} tok;

typedef struct node {
  int kind, a, b; /* children (node indexes) */
  int metric, op;
  int64_t num;
  char *text; /* tag name, touchpoint name */
  size_t off; /* of the node's first token, for evaluation errors */
} node;

typedef struct parser {
  const char *src;
  size_t len, pos; /* pos: just past the current token */
  tok cur;
  node *nodes;
  size_t n, cap;
  int depth;
  bool failed;
  pd_status status; /* of the first failure: PD_ERR_PARSE or PD_ERR_NOMEM */
} parser;

static bool word_byte(unsigned char c) {
  return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c && strchr("_-.:/@#", c));
}

static size_t column_of(const char *s, size_t off) {
  size_t col = 1;
  for (size_t i = 0; i < off; i++) col += ((unsigned char)s[i] & 0xC0) != 0x80;
  return col;
}

static bool word_is(const char *p, size_t len, const char *kw) {
  return strlen(kw) == len && g_ascii_strncasecmp(p, kw, len) == 0;
}

/* Reads the token starting at or after byte `from`. */
static tok lex(const parser *ps, size_t from) {
  const char *s = ps->src;
  size_t i = from;
  while (i < ps->len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
  tok t = {K_END, 0, i, 0};
  if (i >= ps->len) return t;
  char c = s[i], d = i + 1 < ps->len ? s[i + 1] : '\0';
  t.len = 1;
  if (c == '(') t.kind = K_LP;
  else if (c == ')') t.kind = K_RP;
  else if (c == '&' && d == '&') t.kind = K_AND, t.len = 2;
  else if (c == '|' && d == '|') t.kind = K_OR, t.len = 2;
  else if (c == '!' && d == '=') t.kind = K_OP, t.op = OP_NE, t.len = 2;
  else if (c == '!') t.kind = K_NOT;
  else if (c == '=') t.kind = K_OP, t.op = OP_EQ, t.len = d == '=' ? 2 : 1;
  else if (c == '<') t.kind = K_OP, t.op = d == '=' ? OP_LE : OP_LT, t.len = d == '=' ? 2 : 1;
  else if (c == '>') t.kind = K_OP, t.op = d == '=' ? OP_GE : OP_GT, t.len = d == '=' ? 2 : 1;
  else if (c == '"') {
    size_t j = i + 1;
    while (j < ps->len && s[j] != '"') j += s[j] == '\\' && j + 1 < ps->len ? 2 : 1;
    t.kind = K_STR;
    t.len = (j < ps->len ? j + 1 : ps->len) - i; /* unterminated: to the end (checked by the parser) */
  } else if (word_byte((unsigned char)c)) {
    size_t j = i;
    while (j < ps->len && word_byte((unsigned char)s[j])) j++;
    t.kind = K_WORD;
    t.len = j - i;
    if (word_is(s + i, t.len, "and")) t.kind = K_AND;
    else if (word_is(s + i, t.len, "or")) t.kind = K_OR;
    else if (word_is(s + i, t.len, "not")) t.kind = K_NOT;
  } else {
    t.kind = -1; /* a character that starts no token */
    while (i + t.len < ps->len && ((unsigned char)s[i + t.len] & 0xC0) == 0x80) t.len++;
  }
  return t;
}

static void advance(parser *ps) {
  ps->cur = lex(ps, ps->pos);
  ps->pos = ps->cur.off + ps->cur.len;
}

/* Sets the message "column C: expected WHAT, got TOKEN" once. */
static int fail(parser *ps, const tok *t, const char *what) {
  if (ps->failed) return -1;
  ps->failed = true;
  ps->status = PD_ERR_PARSE;
  char got[120];
  if (t->kind == K_END) snprintf(got, sizeof got, "end of expression");
  else pd__quote_text(got, sizeof got, ps->src + t->off, t->len, 40);
  pd__error(PD_ERR_PARSE, "column %zu: expected %s, got %s", column_of(ps->src, t->off), what, got);
  return -1;
}

static int new_node(parser *ps, int kind, size_t off) {
  if (ps->n == ps->cap) {
    size_t cap = ps->cap ? ps->cap * 2 : 16;
    node *nn = realloc(ps->nodes, cap * sizeof *nn);
    if (!nn) {
      if (!ps->failed) ps->status = pd__error(PD_ERR_NOMEM, "out of memory");
      ps->failed = true;
      return -1;
    }
    ps->nodes = nn;
    ps->cap = cap;
  }
  ps->nodes[ps->n] = (node){kind, -1, -1, 0, 0, 0, NULL, off};
  return (int)ps->n++;
}

/* The text of a word or string token (strings unescaped), malloc'd. */
static char *token_text(parser *ps, const tok *t) {
  const char *p = ps->src + t->off;
  size_t n = t->len;
  char *out = malloc(n + 1), *o = out;
  if (!out) return NULL;
  if (t->kind == K_STR) {
    for (size_t i = 1; i + 1 < n; i++) {
      if (p[i] == '\\' && i + 2 < n) i++;
      *o++ = p[i];
    }
  } else {
    memcpy(o, p, n);
    o += n;
  }
  *o = '\0';
  return out;
}

static int parse_or(parser *ps);

static bool parse_int(const char *s, int64_t *out) {
  const char *p = s;
  bool neg = *p == '-';
  if (neg) p++;
  if (!*p) return false;
  uint64_t v = 0;
  for (; *p; p++) {
    if (*p < '0' || *p > '9') return false;
    unsigned d = (unsigned)(*p - '0');
    if (v > (UINT64_C(9223372036854775808) - d) / 10) return false;
    v = v * 10 + d;
  }
  if (!neg && v > INT64_MAX) return false;
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return true;
}

static int parse_comparison(parser *ps, int metric, tok word) {
  tok op = ps->cur;
  advance(ps);
  tok val = ps->cur;
  int me = new_node(ps, N_CMP, word.off);
  if (me < 0) return -1;
  node *n = &ps->nodes[me];
  n->metric = metric;
  n->op = op.op;
  bool named = metric == M_ACQ_VIA || metric == M_DOMAIN;
  if (named && op.op != OP_EQ && op.op != OP_NE) {
    char what[64];
    snprintf(what, sizeof what, "= or != after %s", metric_names[metric]);
    return fail(ps, &op, what);
  }
  if (val.kind != K_WORD && val.kind != K_STR)
    return fail(ps, &val, named ? (metric == M_DOMAIN ? "a domain (public, private, semi or unknown)" : "a touchpoint name")
                                : "an integer");
  if (val.kind == K_STR && (val.len < 2 || ps->src[val.off + val.len - 1] != '"'))
    return fail(ps, &val, "a closing '\"'");
  char *text = token_text(ps, &val);
  if (!text) {
    ps->failed = true;
    ps->status = pd__error(PD_ERR_NOMEM, "out of memory");
    return -1;
  }
  if (!named) {
    bool ok = parse_int(text, &ps->nodes[me].num);
    free(text);
    if (!ok) return fail(ps, &val, "an integer");
  } else if (metric == M_DOMAIN) {
    int d = strcmp(text, "unknown") == 0 ? PD_DOMAIN_UNKNOWN : (int)pd_domain_from_name(text);
    free(text);
    if (d == PD_DOMAIN_UNKNOWN && !word_is(ps->src + val.off, val.len, "unknown"))
      return fail(ps, &val, "a domain (public, private, semi or unknown)");
    ps->nodes[me].num = d;
  } else {
    ps->nodes[me].text = text;
  }
  advance(ps);
  return me;
}

static int parse_primary(parser *ps) {
  tok t = ps->cur;
  if (t.kind == K_LP) {
    advance(ps);
    int e = parse_or(ps);
    if (e < 0) return -1;
    if (ps->cur.kind != K_RP) return fail(ps, &ps->cur, "and, or or \")\"");
    advance(ps);
    return e;
  }
  if (t.kind == K_STR && (t.len < 2 || ps->src[t.off + t.len - 1] != '"')) return fail(ps, &t, "a closing '\"'");
  if (t.kind == K_WORD || t.kind == K_STR) {
    advance(ps);
    if (t.kind == K_WORD && ps->cur.kind == K_OP) {
      for (int m = 0; m < M_COUNT; m++)
        if (word_is(ps->src + t.off, t.len, metric_names[m])) return parse_comparison(ps, m, t);
      return fail(ps, &t,
                  "a metric before the operator (revenue, purchases, events, invites, last_event_days, "
                  "first_event_days, acquired_via or domain)");
    }
    int me = new_node(ps, N_TAG, t.off);
    if (me < 0) return -1;
    if (!(ps->nodes[me].text = token_text(ps, &t))) {
      ps->failed = true;
      ps->status = pd__error(PD_ERR_NOMEM, "out of memory");
      return -1;
    }
    return me;
  }
  return fail(ps, &t, "a tag, a comparison, \"not\" or \"(\"");
}

static int parse_unary(parser *ps) {
  if (++ps->depth > MAX_DEPTH) return fail(ps, &ps->cur, "an expression nested at most 200 deep");
  int r;
  if (ps->cur.kind == K_NOT) {
    size_t off = ps->cur.off;
    advance(ps);
    int a = parse_unary(ps);
    r = a < 0 ? -1 : new_node(ps, N_NOT, off);
    if (r >= 0) ps->nodes[r].a = a;
  } else {
    r = parse_primary(ps);
  }
  ps->depth--;
  return r;
}

static int parse_binary(parser *ps, int kind) {
  int left = kind == N_OR ? parse_binary(ps, N_AND) : parse_unary(ps);
  while (left >= 0 && ps->cur.kind == (kind == N_OR ? K_OR : K_AND)) {
    size_t off = ps->cur.off;
    advance(ps);
    int right = kind == N_OR ? parse_binary(ps, N_AND) : parse_unary(ps);
    if (right < 0) return -1;
    int me = new_node(ps, kind, off);
    if (me < 0) return -1;
    ps->nodes[me].a = left;
    ps->nodes[me].b = right;
    left = me;
  }
  return left;
}

static int parse_or(parser *ps) {
  if (++ps->depth > MAX_DEPTH) return fail(ps, &ps->cur, "an expression nested at most 200 deep");
  int r = parse_binary(ps, N_OR);
  ps->depth--;
  return r;
}

static void parser_free(parser *ps) {
  for (size_t i = 0; i < ps->n; i++) free(ps->nodes[i].text);
  free(ps->nodes);
}

/* Parses expr into ps (root = the returned index) or fails with a message. */
static pd_status parse(parser *ps, const char *expr, int *root) {
  memset(ps, 0, sizeof *ps);
  if (!expr) return pd__error(PD_ERR_INVALID, "segment expression: NULL");
  ps->src = expr;
  ps->len = strlen(expr);
  advance(ps);
  int r = parse_or(ps);
  if (r >= 0 && ps->cur.kind != K_END) r = fail(ps, &ps->cur, "and, or or the end of the expression");
  if (r < 0) {
    /* the status of the first failure, never guessed from its message (a
     * quoted tag may read "out of memory") */
    pd_status st = ps->status ? ps->status : PD_ERR_PARSE;
    parser_free(ps);
    return st;
  }
  *root = r;
  return PD_OK;
}

pd_status pd_segment_check(const char *expr) {
  parser ps;
  int root;
  pd_status st = parse(&ps, expr, &root);
  if (st == PD_OK) parser_free(&ps);
  return st;
}

/* ---- evaluation ---------------------------------------------------------- */

typedef struct metrics {
  int64_t *revenue, *first, *last; /* first/last INT64_MIN: no events */
  uint32_t *purchases, *events, *invites, *acq_tp;
  int64_t *max_time; /* per worker */
} metrics;

static int metrics_user(void *ctx, unsigned worker, const pd_user_events *e) {
  metrics *m = ctx;
  uint32_t u = e->user;
  int64_t rev = 0;
  uint32_t purchases = 0, invites = 0, acq = PD_NONE;
  bool acquired = false;
  for (size_t i = 0; i < e->n; i++) {
    uint16_t t = e->type[i];
    if (t == PD_EV_PURCHASE) {
      purchases++;
      rev += e->amount[i];
    } else if (t == PD_EV_REFUND) {
      rev -= e->amount[i] < 0 ? -e->amount[i] : e->amount[i];
    } else if (t == PD_EV_INVITE) {
      invites++;
    } else if (t == PD_EV_ACQUIRE && !acquired) {
      acquired = true;
      acq = e->touchpoint[i];
    }
  }
  m->revenue[u] = rev;
  m->purchases[u] = purchases;
  m->invites[u] = invites;
  m->events[u] = (uint32_t)(e->n > UINT32_MAX ? UINT32_MAX : e->n);
  m->first[u] = e->time[0];
  m->last[u] = e->time[e->n - 1];
  m->acq_tp[u] = acq;
  if (e->time[e->n - 1] > m->max_time[worker]) m->max_time[worker] = e->time[e->n - 1];
  return 0;
}

static void metrics_free(metrics *m) {
  free(m->revenue);
  free(m->first);
  free(m->last);
  free(m->purchases);
  free(m->events);
  free(m->invites);
  free(m->acq_tp);
  free(m->max_time);
}

static pd_status metrics_compute(pd_store *s, unsigned threads, metrics *m, int64_t *max_time) {
  uint32_t n = pd_store_n_users(s);
  size_t k = n ? n : 1;
  pd_scan_options so = PD_SCAN_OPTIONS_INIT;
  so.threads = threads;
  unsigned w = pd_scan_workers(&so);
  m->revenue = calloc(k, sizeof *m->revenue);
  m->first = malloc(k * sizeof *m->first);
  m->last = malloc(k * sizeof *m->last);
  m->purchases = calloc(k, sizeof *m->purchases);
  m->events = calloc(k, sizeof *m->events);
  m->invites = calloc(k, sizeof *m->invites);
  m->acq_tp = malloc(k * sizeof *m->acq_tp);
  m->max_time = malloc(w * sizeof *m->max_time);
  if (!m->revenue || !m->first || !m->last || !m->purchases || !m->events || !m->invites || !m->acq_tp || !m->max_time)
    return pd__error(PD_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < k; i++) m->first[i] = m->last[i] = INT64_MIN, m->acq_tp[i] = PD_NONE;
  for (unsigned i = 0; i < w; i++) m->max_time[i] = INT64_MIN;
  pd_status st = pd_scan(s, &so, metrics_user, m);
  *max_time = INT64_MIN;
  for (unsigned i = 0; i < w; i++)
    if (m->max_time[i] > *max_time) *max_time = m->max_time[i];
  return st;
}

static bool compare(int64_t v, int op, int64_t x) {
  switch (op) {
  case OP_EQ: return v == x;
  case OP_NE: return v != x;
  case OP_LT: return v < x;
  case OP_LE: return v <= x;
  case OP_GT: return v > x;
  default: return v >= x;
  }
}

/* Floor of (as_of - t) / day; no value when t is INT64_MIN. */
static bool days_since(int64_t as_of, int64_t t, int64_t *out) {
  if (t == INT64_MIN || as_of == INT64_MIN) return false;
  int64_t d = as_of - t, day = INT64_C(86400000);
  *out = d / day - (d % day < 0);
  return true;
}

typedef struct evaluator {
  pd_store *s;
  const parser *ps;
  metrics m;
  bool have_metrics;
  int64_t as_of;
  const pd_userset *all; /* every surviving user */
  unsigned threads;
  int depth;             /* stored segments being expanded around this one */
} evaluator;

/* Stored segments may name stored segments; deeper than this is a cycle. */
#define MAX_SEGMENT_DEPTH 16

static pd_status eval_expr(pd_store *s, const char *expr, int64_t as_of, unsigned threads, int depth,
                           pd_userset **out);

static pd_status eval_node(evaluator *ev, int i, pd_userset **out) {
  const node *n = &ev->ps->nodes[i];
  pd_status st;
  if (n->kind == N_TAG) { /* a stored segment of that name, else a tag */
    char *def = NULL;
    st = pd__segdef_find(ev->s, n->text, &def);
    if (st == PD_OK) {
      if (ev->depth >= MAX_SEGMENT_DEPTH)
        st = pd__error(PD_ERR_INVALID, "column %zu: segment \"%s\" nests more than %d deep (a cycle?)",
                       column_of(ev->ps->src, n->off), n->text, MAX_SEGMENT_DEPTH);
      else if ((st = eval_expr(ev->s, def, ev->as_of, ev->threads, ev->depth + 1, out)) != PD_OK)
        pd__error_prefix("column %zu: segment %s", column_of(ev->ps->src, n->off), n->text);
      free(def);
      return st;
    }
    if (st != PD_ERR_NOT_FOUND) return st;
    uint32_t t;
    if (pd_store_find_tag(ev->s, n->text, &t) != PD_OK)
      return pd__error(PD_ERR_NOT_FOUND, "column %zu: no segment or tag \"%s\" in the store",
                       column_of(ev->ps->src, n->off), n->text);
    return pd_userset_from_tag(out, ev->s, n->text);
  }
  if (n->kind == N_NOT) {
    pd_userset *a;
    if ((st = eval_node(ev, n->a, &a)) != PD_OK) return st;
    if ((st = pd_userset_copy(out, ev->all)) == PD_OK) pd_userset_andnot(*out, a);
    pd_userset_free(a);
    return st;
  }
  if (n->kind == N_AND || n->kind == N_OR) {
    pd_userset *a, *b;
    if ((st = eval_node(ev, n->a, &a)) != PD_OK) return st;
    if ((st = eval_node(ev, n->b, &b)) != PD_OK) {
      pd_userset_free(a);
      return st;
    }
    if (n->kind == N_AND) pd_userset_and(a, b);
    else pd_userset_or(a, b);
    pd_userset_free(b);
    *out = a;
    return PD_OK;
  }
  /* a comparison */
  uint32_t tp = PD_NONE;
  if (n->metric == M_ACQ_VIA && pd_store_find_touchpoint(ev->s, n->text, &tp) != PD_OK)
    return pd__error(PD_ERR_NOT_FOUND, "column %zu: no touchpoint \"%s\" in the store", column_of(ev->ps->src, n->off),
                     n->text);
  if ((st = pd_userset_new(out, ev->s)) != PD_OK) return st;
  const metrics *m = &ev->m;
  uint32_t nu = pd_store_n_users(ev->s);
  for (uint32_t u = 0; u < nu; u++) {
    if (!pd_userset_contains(ev->all, u)) continue;
    int64_t v = 0;
    bool has = true;
    switch (n->metric) {
    case M_REVENUE: v = m->revenue[u]; break;
    case M_PURCHASES: v = m->purchases[u]; break;
    case M_EVENTS: v = m->events[u]; break;
    case M_INVITES: v = m->invites[u]; break;
    case M_LAST_DAYS: has = days_since(ev->as_of, m->last[u], &v); break;
    case M_FIRST_DAYS: has = days_since(ev->as_of, m->first[u], &v); break;
    case M_ACQ_VIA:
      has = m->acq_tp[u] != PD_NONE;
      v = m->acq_tp[u] == tp ? 0 : 1;
      break;
    default: { /* M_DOMAIN */
      pd_touchpoint_def def = PD_TOUCHPOINT_DEF_INIT;
      has = m->acq_tp[u] != PD_NONE && pd_store_touchpoint(ev->s, m->acq_tp[u], &def) == PD_OK;
      v = has && (int64_t)def.domain == n->num ? 0 : 1;
    }
    }
    bool named = n->metric == M_ACQ_VIA || n->metric == M_DOMAIN;
    if (has && (named ? (n->op == OP_EQ) == (v == 0) : compare(v, n->op, n->num))) pd_userset_add(*out, u);
  }
  return PD_OK;
}

pd_status pd_segment_eval_expr(pd_store *s, const char *expr, const pd_segment_options *opts, pd_userset **out) {
  if (!s || !expr || !out) return pd__error(PD_ERR_INVALID, "pd_segment_eval_expr: NULL argument");
  pd_segment_options o = PD_SEGMENT_OPTIONS_INIT;
  if (opts) {
    if (opts->size < sizeof(size_t)) return pd__error(PD_ERR_INVALID, "pd_segment_options: size not set");
    memcpy(&o, opts, opts->size < sizeof o ? opts->size : sizeof o);
  }
  return eval_expr(s, expr, o.as_of_ms, o.threads, 0, out);
}

static pd_status eval_expr(pd_store *s, const char *expr, int64_t as_of, unsigned threads, int depth,
                           pd_userset **out) {
  parser ps;
  int root;
  pd_status st = parse(&ps, expr, &root);
  if (st != PD_OK) return st;
  evaluator ev = {s, &ps, {0}, false, as_of, NULL, threads, depth};
  pd_userset *all = NULL;
  bool need = false;
  for (size_t i = 0; i < ps.n; i++) need |= ps.nodes[i].kind == N_CMP;
  if (need) {
    int64_t max_time = INT64_MIN;
    st = metrics_compute(s, threads, &ev.m, &max_time);
    if (ev.as_of == INT64_MIN) ev.as_of = max_time;
  }
  if (st == PD_OK && (st = pd_userset_new(&all, s)) == PD_OK) {
    uint32_t nu = pd_store_n_users(s);
    for (uint32_t u = 0; u < nu; u++)
      if (pd_store_canonical_user(s, u) == u) pd_userset_add(all, u);
    ev.all = all;
    st = eval_node(&ev, root, out);
  }
  pd_userset_free(all);
  metrics_free(&ev.m);
  parser_free(&ps);
  return st;
}

pd_status pd_segment_eval(pd_store *s, const char *name, const pd_segment_options *opts, pd_userset **out) {
  if (!s || !name || !out) return pd__error(PD_ERR_INVALID, "pd_segment_eval: NULL argument");
  char *expr = NULL;
  pd_status st = pd__segdef_find(s, name, &expr);
  if (st == PD_ERR_NOT_FOUND) {
    uint32_t t;
    if (pd_store_find_tag(s, name, &t) == PD_OK) return pd_userset_from_tag(out, s, name);
    return pd__error(PD_ERR_NOT_FOUND, "no segment or tag \"%s\"", name);
  }
  if (st != PD_OK) return st;
  st = pd_segment_eval_expr(s, expr, opts, out);
  if (st != PD_OK) pd__error_prefix("segment %s", name);
  free(expr);
  return st;
}

/* ---- breakdown ------------------------------------------------------------- */

static bool same_columns(const pd_table *a, const pd_table *b) {
  if (pd_table_n_cols(a) != pd_table_n_cols(b)) return false;
  for (size_t c = 0; c < pd_table_n_cols(a); c++)
    if (strcmp(pd_table_col_name(a, c), pd_table_col_name(b, c)) != 0 || pd_table_col_type(a, c) != pd_table_col_type(b, c))
      return false;
  return true;
}

pd_status pd_segment_breakdown(pd_store *s, const char *const *names, size_t n_names, const pd_segment_options *opts,
                               pd_segment_run_fn run, void *ctx, pd_table **out) {
  if (!s || (!names && n_names) || !run || !out) return pd__error(PD_ERR_INVALID, "pd_segment_breakdown: NULL argument");
  pd_table **parts = calloc(n_names ? n_names : 1, sizeof *parts);
  if (!parts) return pd__error(PD_ERR_NOMEM, "out of memory");
  pd_status st = PD_OK;
  for (size_t i = 0; i < n_names && st == PD_OK; i++) {
    pd_userset *set = NULL;
    if ((st = pd_segment_eval(s, names[i], opts, &set)) != PD_OK) break;
    st = run(ctx, set, &parts[i]);
    pd_userset_free(set);
    if (st == PD_OK && !parts[i]) st = pd__error(PD_ERR_INVALID, "pd_segment_breakdown: run gave no table");
    if (st == PD_OK && i > 0 && !same_columns(parts[0], parts[i]))
      st = pd__error(PD_ERR_INVALID, "pd_segment_breakdown: segment %s gave different columns", names[i]);
  }
  pd_table *t = NULL;
  if (st == PD_OK) {
    t = pd__table_new(n_names ? pd_table_name(parts[0]) : "segments");
    pd__table_add_col(t, "segment", PD_TYPE_STRING);
    size_t nc = n_names ? pd_table_n_cols(parts[0]) : 0;
    for (size_t c = 0; c < nc; c++) pd__table_add_col(t, pd_table_col_name(parts[0], c), pd_table_col_type(parts[0], c));
    for (size_t i = 0; i < n_names; i++)
      for (size_t r = 0; r < pd_table_n_rows(parts[i]); r++) {
        size_t row = pd__table_add_row(t);
        pd__table_set_string(t, row, 0, names[i]);
        for (size_t c = 0; c < nc; c++) {
          if (pd_table_is_null(parts[i], r, c)) continue;
          switch (pd_table_col_type(parts[i], c)) {
          case PD_TYPE_INT64: pd__table_set_int64(t, row, c + 1, pd_table_get_int64(parts[i], r, c)); break;
          case PD_TYPE_DOUBLE: pd__table_set_double(t, row, c + 1, pd_table_get_double(parts[i], r, c)); break;
          default: pd__table_set_string(t, row, c + 1, pd_table_get_string(parts[i], r, c));
          }
        }
      }
  }
  for (size_t i = 0; i < n_names; i++) pd_table_free(parts[i]);
  free(parts);
  return st == PD_OK ? pd__table_finish(t, out) : st;
}
