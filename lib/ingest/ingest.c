/* Ingest: maps CSV/TSV/JSONL records onto pd_writer calls, with
 * file:line:column errors, strict (all or nothing) and lenient (rejects
 * file) modes. Per row: parse (time with the date cache, amount, UTF-8
 * checks) then commit (event type and touchpoint from small local caches,
 * the user from the writer, append). See ingest_internal.h. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_internal.h"
#include "store_internal.h"

typedef pd_status (*row_fn)(pd__ing *g);

/* ---- small helpers (the shared inline ones are in ingest_internal.h) ----- */

/* Equality of short byte strings without a call: ids and names are mostly
 * under 16 bytes. */
static inline bool same_bytes(const char *a, const char *b, size_t len) {
  if (len >= 8) {
    uint64_t x, y, x2, y2;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    memcpy(&x2, a + len - 8, 8);
    memcpy(&y2, b + len - 8, 8);
    return x == y && x2 == y2 && (len <= 16 || memcmp(a + 8, b + 8, len - 16) == 0);
  }
  return pd__load_upto8(a, len) == pd__load_upto8(b, len);
}

static bool sc_put(pd__scache *c, const char *p, size_t len, uint32_t id) {
  if (c->n >= PD__SC_SLOTS / 2 || len > UINT32_MAX) return false; /* full: later names go to the writer */
  char *s = malloc(len + 1);
  if (!s) return false;
  memcpy(s, p, len);
  s[len] = '\0';
  pd__sc_key k = pd__sc_key_with(p, len, false);
  unsigned i = pd__sc_slot(k);
  while (c->e[i].s) i = (i + 1) & (PD__SC_SLOTS - 1);
  c->e[i] = (pd__sc_entry){k.head, k.tail, s, (uint32_t)len, id};
  c->n++;
  return true;
}

static void sc_free(pd__scache *c) {
  for (unsigned i = 0; i < PD__SC_SLOTS; i++) free(c->e[i].s);
}

/* A NUL-terminated copy of p[0..len) in the reusable buffer (valid until the
 * next call); NULL when out of memory. */
static const char *cstr(pd__ing *g, const char *p, size_t len) {
  if (len + 1 > g->cstr_cap) {
    size_t cap = g->cstr_cap ? g->cstr_cap : 256;
    while (cap < len + 1) cap *= 2;
    char *b = realloc(g->cstr, cap);
    if (!b) return NULL;
    g->cstr = b;
    g->cstr_cap = cap;
  }
  memcpy(g->cstr, p, len);
  g->cstr[len] = '\0';
  return g->cstr;
}

static const char *got(char *buf, size_t size, const pd__val *v) {
  if (!v->present) return "nothing";
  return pd__quote_text(buf, size, v->p, v->len, 64);
}

/* ---- errors with positions ---------------------------------------------- */

void pd__ing_locate(const pd__ing *g, const char *rec, size_t rec_len, uint64_t line, size_t off) {
  size_t l = 0, c = 1;
  if (off > rec_len) off = rec_len;
  pd__text_position(rec, off, &l, &c);
  pd__error_prefix("%s:%llu:%zu", g->path, (unsigned long long)(line + l), c);
}

static void csv_quote(FILE *f, const char *p, size_t len) {
  fputc('"', f);
  for (size_t i = 0; i < len; i++) {
    if (p[i] == '"') fputc('"', f);
    fputc(p[i], f);
  }
  fputc('"', f);
}

pd_status pd__ing_bad_row(pd__ing *g, const char *msg, const char *rec, size_t rec_len) {
  if (!g->o.lenient) {
    if (msg != pd_last_error()) pd__error(PD_ERR_PARSE, "%s", msg);
    return PD_ERR_PARSE;
  }
  g->res.rows_rejected++;
  if (g->rejects) {
    csv_quote(g->rejects, msg, strlen(msg));
    fputc(',', g->rejects);
    csv_quote(g->rejects, rec, rec_len);
    fputc('\n', g->rejects);
    if (ferror(g->rejects))
      return pd__error(PD_ERR_IO, "%s: cannot write the rejects file %s", g->path, g->o.rejects_path);
  }
  pd_clear_error();
  return PD__ROW_REJECTED;
}

/* Parse side: the current record is bad at byte off (message set). */
static pd_status bad_at(pd__ing *g, size_t off) {
  pd__ing_locate(g, g->rec, g->rec_len, g->line, off);
  return PD__ROW_BAD;
}

/* A bad value of role r: the column is where its field (CSV, TSV) or its
 * member's value (JSON) starts. */
static pd_status bad_val(pd__ing *g, int r) {
  const pd__val *v = &g->v[r];
  return bad_at(g, v->field_raw != SIZE_MAX ? v->field_raw : pd__jsonl_locate(g->rec, g->rec_len, g->names[r]));
}

/* Strings must be UTF-8 without NUL bytes (they become C strings). Most
 * ids are ASCII: check that first. */
static pd_status check_text(pd__ing *g, int r) {
  const pd__val *v = &g->v[r];
  const char *end = NULL;
  if (pd__ascii_no_nul(v->p, v->len) || g_utf8_validate(v->p, (gssize)v->len, &end)) return PD_OK;
  pd__error(PD_ERR_PARSE, "expected UTF-8 text, got byte 0x%02x", end ? (unsigned char)*end : 0);
  return bad_val(g, r);
}

/* Event types and touchpoints repeat: check each distinct name once, and
 * number it so the commit side finds its id by index (*local, or
 * UINT32_MAX once the cache is full). */
static pd_status check_text_once(pd__ing *g, int r, uint32_t *local) {
  const pd__val *v = &g->v[r];
  if (pd__sc_find(&g->valid, v->p, v->len, local)) return PD_OK;
  pd_status st = check_text(g, r);
  *local = g->valid.n;
  if (st != PD_OK || !sc_put(&g->valid, v->p, v->len, *local)) *local = UINT32_MAX;
  return st;
}

static pd_status require(pd__ing *g, int r, const char *what) {
  const pd__val *v = &g->v[r];
  if (!v->present) {
    pd__error(PD_ERR_PARSE, "expected a member \"%s\" (%s), got none", g->names[r], what);
    return bad_at(g, 0);
  }
  if (v->len == 0) {
    pd__error(PD_ERR_PARSE, "expected %s, got \"\"", what);
    return bad_val(g, r);
  }
  return PD_OK;
}

static pd_status parse_amount(pd__ing *g, int r, int64_t *out) {
  const pd__val *v = &g->v[r];
  pd_status st = pd_amount_parse(v->p, v->len, g->o.amount_decimals, out);
  if (st == PD_OK) return PD_OK;
  if (st == PD_ERR_RANGE) {
    char b[160];
    pd__error(PD_ERR_PARSE, "expected an amount within the 64-bit range of minor units, got %s", got(b, sizeof b, v));
  }
  return bad_val(g, r);
}

/* ---- event rows: parse, then commit --------------------------------------- */

pd_status pd__ing_parse_event(pd__ing *g, pd__row *r) {
  pd__val *v = g->v;
  pd_status st;
  r->msg = NULL;
  r->ts = NULL;
  r->amount = 0;
  if ((st = require(g, R_TS, "a timestamp")) != PD_OK) return st;
  if (pd__timeparse_run(&g->tp, v[R_TS].p, v[R_TS].len, &r->time) != PD_OK) return bad_val(g, R_TS);
  if ((st = require(g, R_USER, "a user id")) != PD_OK || (st = check_text(g, R_USER)) != PD_OK) return st;
  if ((st = require(g, R_EVENT, "an event type")) != PD_OK || (st = check_text_once(g, R_EVENT, &r->local[0])) != PD_OK)
    return st;
  bool has_tp = v[R_TP].present && v[R_TP].len > 0;
  r->local[1] = UINT32_MAX;
  if (has_tp && (st = check_text_once(g, R_TP, &r->local[1])) != PD_OK) return st;
  if (v[R_AMOUNT].present && v[R_AMOUNT].len > 0 && (st = parse_amount(g, R_AMOUNT, &r->amount)) != PD_OK) return st;
  bool has_ref = v[R_REF].present && v[R_REF].len > 0;
  if (has_ref && (st = check_text(g, R_REF)) != PD_OK) return st;
  static const int role[S_N] = {R_USER, R_EVENT, R_TP, R_REF};
  for (int k = 0; k < S_N; k++) {
    const pd__val *x = &v[role[k]];
    bool has = (k != S_TP || has_tp) && (k != S_REF || has_ref);
    r->text[k] = has ? x->p : NULL;
    r->len[k] = has ? (uint32_t)x->len : 0;
    r->raw[k] = x->field_raw != SIZE_MAX ? (uint32_t)x->field_raw : UINT32_MAX;
  }
  r->hash[0] = pd__dict_hash(r->text[S_USER], r->len[S_USER]);
  r->hash[1] = has_ref ? pd__dict_hash(r->text[S_REF], r->len[S_REF]) : 0;
  return PD_OK;
}

/* The writer refuses a name (e.g. too long, too many event types): a bad
 * row when it calls the value invalid or out of range, otherwise fatal. */
static pd_status refused(pd__ing *g, const pd__row *r, int k, pd_status st) {
  if (st != PD_ERR_INVALID && st != PD_ERR_RANGE && st != PD_ERR_EXISTS) return st;
  static const int role[S_N] = {R_USER, R_EVENT, R_TP, R_REF};
  size_t off = r->raw[k] != UINT32_MAX ? r->raw[k] : pd__jsonl_locate(r->rec, r->rec_len, g->names[role[k]]);
  pd__ing_locate(g, r->rec, r->rec_len, r->line, off);
  return pd__ing_bad_row(g, pd_last_error(), r->rec, r->rec_len);
}

static pd_status intern_user(pd__ing *g, const char *p, size_t len, uint32_t h, uint32_t *out) {
  if (g->have_last_user && len == g->last_user_len && same_bytes(p, g->last_user, len)) {
    *out = g->last_user_id;
    return PD_OK;
  }
  pd_status st = pd__writer_user_h(g->w, p, len, h, out); /* the parse step checked: no NUL bytes */
  if (st != PD_OK) return st;
  if (len + 1 > g->last_user_cap) {
    char *b = realloc(g->last_user, len + 64);
    if (!b) {
      g->have_last_user = false;
      return PD_OK;
    }
    g->last_user = b;
    g->last_user_cap = len + 64;
  }
  memcpy(g->last_user, p, len);
  g->last_user_len = len;
  g->last_user_id = *out;
  g->have_last_user = true;
  return PD_OK;
}

/* kind 0: event type, 1: touchpoint. */
static pd_status intern_name(pd__ing *g, int kind, const char *p, size_t len, uint32_t local, uint32_t *out) {
  if (local != UINT32_MAX && (*out = g->local_ids[kind][local]) != PD_NONE) return PD_OK;
  pd__scache *c = kind ? &g->touchpoints : &g->types;
  pd_status st = PD_OK;
  if (!pd__sc_find(c, p, len, out)) {
    const char *s = cstr(g, p, len);
    if (!s) return pd__error(PD_ERR_NOMEM, "out of memory");
    st = kind ? pd_writer_touchpoint_name(g->w, s, out) : pd_writer_event_type(g->w, s, out);
    if (st == PD_OK) sc_put(c, p, len, *out);
  }
  if (st == PD_OK && local != UINT32_MAX) g->local_ids[kind][local] = *out;
  return st;
}

/* The row's ids in *e: everything of the commit step but the append. */
static pd_status intern_event(pd__ing *g, const pd__row *r, pd_event *e) {
  if (r->msg) return pd__ing_bad_row(g, r->msg, r->rec, r->rec_len);
  *e = (pd_event){r->time, 0, 0, PD_NONE, PD_NONE, r->amount};
  if (r->ts && pd__timeparse_run(&g->commit_tp, r->ts, r->ts_len, &e->time_ms) != PD_OK) { /* before anything is interned */
    pd__ing_locate(g, r->rec, r->rec_len, r->line, r->ts_raw);
    return pd__ing_bad_row(g, pd_last_error(), r->rec, r->rec_len);
  }
  pd_status st;
  if ((st = intern_user(g, r->text[S_USER], r->len[S_USER], r->hash[0], &e->user)) != PD_OK) return refused(g, r, S_USER, st);
  if ((st = intern_name(g, 0, r->text[S_EVENT], r->len[S_EVENT], r->local[0], &e->type)) != PD_OK)
    return refused(g, r, S_EVENT, st);
  if (r->text[S_TP] && (st = intern_name(g, 1, r->text[S_TP], r->len[S_TP], r->local[1], &e->touchpoint)) != PD_OK)
    return refused(g, r, S_TP, st);
  if (r->text[S_REF] && (st = pd__writer_user_h(g->w, r->text[S_REF], r->len[S_REF], r->hash[1], &e->referrer)) != PD_OK)
    return refused(g, r, S_REF, st);
  return PD_OK;
}

pd_status pd__ing_commit_event(pd__ing *g, const pd__row *r) {
  pd_event e;
  pd_status st = intern_event(g, r, &e);
  if (st != PD_OK) return st;
  if ((st = pd_writer_append(g->w, &e)) != PD_OK) return st;
  g->appended++;
  return PD_OK;
}

pd_status pd__ing_intern_event(pd__ing *g, pd__row *r) {
  pd_event e;
  pd_status st = intern_event(g, r, &e);
  if (st != PD_OK) return st;
  const pd__dict *d = pd__writer_dict(g->w);
  r->time = e.time_ms;
  r->id[0] = pd__dict_canonical(d, e.user);
  r->id[1] = e.type;
  r->id[2] = e.touchpoint;
  r->id[3] = e.referrer == PD_NONE ? PD_NONE : pd__dict_canonical(d, e.referrer);
  g->appended++;
  return PD_OK;
}

/* Both steps at once (JSON Lines). Everything that can make the row bad
 * is checked before anything is interned, so a rejected row leaves no
 * user, type or touchpoint behind. */
static pd_status event_row(pd__ing *g) {
  pd__row r;
  r.rec = g->rec;
  r.rec_len = g->rec_len;
  r.line = g->line;
  pd_status st = pd__ing_parse_event(g, &r);
  return st == PD_OK ? pd__ing_commit_event(g, &r) : st;
}

/* Writer refusals of a touchpoint definition, sequential path. */
static pd_status writer_refused(pd__ing *g, int r, pd_status st) {
  if (st != PD_ERR_INVALID && st != PD_ERR_RANGE && st != PD_ERR_EXISTS) return st;
  return bad_val(g, r);
}

static pd_status touchpoint_row(pd__ing *g) {
  pd__val *v = g->v;
  pd_status st;
  pd_touchpoint_def def = PD_TOUCHPOINT_DEF_INIT;
  char b[160];
  if ((st = require(g, T_NAME, "a touchpoint name")) != PD_OK || (st = check_text(g, T_NAME)) != PD_OK) return st;
  if (v[T_DOMAIN].present && v[T_DOMAIN].len > 0) {
    const char *s = cstr(g, v[T_DOMAIN].p, v[T_DOMAIN].len);
    if (!s) return pd__error(PD_ERR_NOMEM, "out of memory");
    def.domain = pd_domain_from_name(s);
    if (def.domain == PD_DOMAIN_UNKNOWN && strcmp(s, "unknown") != 0) {
      pd__error(PD_ERR_PARSE, "expected a domain (public, private, semi or unknown), got %s", got(b, sizeof b, &v[T_DOMAIN]));
      return bad_val(g, T_DOMAIN);
    }
  }
  if (v[T_CARRIER].present && v[T_CARRIER].len > 0) {
    const char *s = cstr(g, v[T_CARRIER].p, v[T_CARRIER].len);
    if (!s) return pd__error(PD_ERR_NOMEM, "out of memory");
    int c = pd_carrier_from_name(s);
    if (c < 0) {
      pd__error(PD_ERR_PARSE,
                "expected a carrier (personal_account, group, official_account, mini_program, wecom, app, store, "
                "livestream, search_ad, feed_ad, kol or other), got %s",
                got(b, sizeof b, &v[T_CARRIER]));
      return bad_val(g, T_CARRIER);
    }
    def.carrier = (pd_carrier)c;
  }
  if (v[T_SPEND].present && v[T_SPEND].len > 0) {
    if ((st = parse_amount(g, T_SPEND, &def.daily_spend)) != PD_OK) return st;
    if (def.daily_spend < 0) {
      pd__error(PD_ERR_PARSE, "expected a daily spend of zero or more, got %s", got(b, sizeof b, &v[T_SPEND]));
      return bad_val(g, T_SPEND);
    }
  }
  def.name = cstr(g, v[T_NAME].p, v[T_NAME].len);
  if (!def.name) return pd__error(PD_ERR_NOMEM, "out of memory");
  uint32_t id;
  if ((st = pd_writer_touchpoint(g->w, &def, &id)) != PD_OK) return writer_refused(g, T_NAME, st);
  g->appended++;
  return PD_OK;
}

/* A tag row: resolve (or create) the user, then tag it. Everything that can
 * make the row bad is checked before anything is written. */
static pd_status tag_row(pd__ing *g) {
  pd__val *v = g->v;
  pd_status st;
  char b[160];
  if ((st = require(g, G_USER, "a user id")) != PD_OK || (st = check_text(g, G_USER)) != PD_OK) return st;
  if ((st = require(g, G_TAG, "a tag name")) != PD_OK || (st = check_text(g, G_TAG)) != PD_OK) return st;
  if (v[G_TAG].len > 65535) {
    pd__error(PD_ERR_PARSE, "expected a tag name of at most 65535 bytes, got %zu bytes", v[G_TAG].len);
    return bad_val(g, G_TAG);
  }
  const char *s = cstr(g, v[G_USER].p, v[G_USER].len);
  if (!s) return pd__error(PD_ERR_NOMEM, "out of memory");
  uint32_t user;
  if ((st = pd_store_find_user(pd__writer_store(g->w), s, &user)) != PD_OK) {
    if (st != PD_ERR_NOT_FOUND) return st; /* not the row's fault */
    if (!g->create_users) {
      pd__error(PD_ERR_PARSE, "expected a known user (external id or alias), got %s", got(b, sizeof b, &v[G_USER]));
      return bad_val(g, G_USER);
    }
    if ((st = pd_writer_user(g->w, s, &user)) != PD_OK) return writer_refused(g, G_USER, st);
  }
  if (!(s = cstr(g, v[G_TAG].p, v[G_TAG].len))) return pd__error(PD_ERR_NOMEM, "out of memory");
  if ((st = pd_writer_tag(g->w, user, s)) != PD_OK) return writer_refused(g, G_TAG, st);
  g->appended++;
  return PD_OK;
}

/* ---- drivers ------------------------------------------------------------ */

int pd__ing_progress(pd__ing *g, uint64_t done) {
  return g->o.progress && g->o.progress(g->o.progress_ctx, done, g->src.file_size);
}

static pd_status fill(pd__ing *g) {
  pd_status st = pd__source_fill(&g->src);
  if (st != PD_OK) {
    /* Bad input (corrupt gzip, endless record): where the unread window
     * starts. An I/O error names the file already. */
    if (st != PD_ERR_IO && st != PD_ERR_NOMEM)
      pd__ing_locate(g, g->src.buf + g->src.start, 0, g->line, 0);
    return st;
  }
  if (pd__ing_progress(g, pd__source_disk_done(&g->src)))
    return pd__error(PD_ERR_CANCELLED, "%s: cancelled by the progress callback", g->path);
  return PD_OK;
}

static size_t content_len(const char *p, size_t used) {
  if (used && p[used - 1] == '\n') used--;
  if (used && p[used - 1] == '\r') used--;
  return used;
}

static pd_status map_header(pd__ing *g) {
  pd__dsv *t = &g->dsv;
  for (size_t i = 0; i < t->n; i++) {
    const char *p = t->f[i].p;
    size_t len = t->f[i].len;
    while (len && (*p == ' ' || *p == '\t')) p++, len--;
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
    for (int r = 0; r < g->n_roles; r++) {
      if (strlen(g->names[r]) != len || g_ascii_strncasecmp(g->names[r], p, len) != 0) continue;
      if (g->col[r] >= 0) {
        pd__error(PD_ERR_PARSE, "expected one column named \"%s\", got a second one", g->names[r]);
        bad_at(g, t->f[i].raw);
        return PD_ERR_PARSE;
      }
      g->col[r] = (int)i;
    }
  }
  for (int r = 0; r < g->n_roles; r++) {
    if (g->col[r] >= 0 || !(g->required[r] || g->named[r])) continue;
    char b[160];
    pd__error(PD_ERR_PARSE, "expected a column named \"%s\" in the header, got %s", g->names[r],
              pd__quote_text(b, sizeof b, g->rec, g->rec_len, 100));
    bad_at(g, 0);
    return PD_ERR_PARSE;
  }
  g->n_cols = t->n;
  return PD_OK;
}

pd_status pd__ing_map_fields(pd__ing *g) {
  pd__dsv *t = &g->dsv;
  if (t->n != g->n_cols) {
    pd__error(PD_ERR_PARSE, "expected %zu fields, got %zu", g->n_cols, t->n);
    return bad_at(g, t->n < g->n_cols ? g->rec_len : t->f[g->n_cols].raw);
  }
  for (int r = 0; r < g->n_roles; r++) {
    pd__val *v = &g->v[r];
    if (g->col[r] < 0) {
      *v = (pd__val){"", 0, false, SIZE_MAX};
      continue;
    }
    const pd__field *f = &t->f[g->col[r]];
    *v = (pd__val){f->p, f->len, true, f->raw};
  }
  return PD_OK;
}

/* Reads records up to and including the header (fatal errors only). */
static pd_status dsv_header(pd__ing *g) {
  pd__source *s = &g->src;
  for (;;) {
    size_t avail = s->end - s->start;
    if (avail == 0 && s->eof) break;
    pd__rec r = avail ? pd__dsv_next(&g->dsv, s->buf + s->start, avail, s->eof) : PD__REC_MORE;
    pd_status st;
    if (r == PD__REC_MORE) {
      if ((st = fill(g)) != PD_OK) return st;
      continue;
    }
    if (r == PD__REC_NOMEM) return pd__error(PD_ERR_NOMEM, "%s: out of memory", g->path);
    g->rec = s->buf + s->start;
    g->rec_len = content_len(g->rec, g->dsv.used);
    if (r == PD__REC_ERROR) {
      pd__error(PD_ERR_PARSE, "%s", g->dsv.err);
      bad_at(g, g->dsv.err_off);
      return PD_ERR_PARSE;
    }
    if (r == PD__REC_OK && (st = map_header(g)) != PD_OK) return st;
    g->line += g->dsv.lines;
    s->start += g->dsv.used;
    if (r == PD__REC_OK) return PD_OK;
  }
  g->rec = "";
  g->rec_len = 0;
  pd__error(PD_ERR_PARSE, "expected a header line naming the columns, got end of file");
  bad_at(g, 0);
  return PD_ERR_PARSE;
}

/* Data records one by one (touchpoint files). */
static pd_status dsv_rows(pd__ing *g, row_fn row) {
  pd__source *s = &g->src;
  for (;;) {
    size_t avail = s->end - s->start;
    if (avail == 0 && s->eof) return PD_OK;
    pd__rec r = avail ? pd__dsv_next(&g->dsv, s->buf + s->start, avail, s->eof) : PD__REC_MORE;
    pd_status st = PD_OK;
    if (r == PD__REC_MORE) {
      if ((st = fill(g)) != PD_OK) return st;
      continue;
    }
    if (r == PD__REC_NOMEM) return pd__error(PD_ERR_NOMEM, "%s: out of memory", g->path);
    g->rec = s->buf + s->start;
    g->rec_len = content_len(g->rec, g->dsv.used);
    if (r == PD__REC_ERROR) {
      g->rows_read++;
      pd__error(PD_ERR_PARSE, "%s", g->dsv.err);
      st = bad_at(g, g->dsv.err_off);
    } else if (r == PD__REC_OK) {
      g->rows_read++;
      if ((st = pd__ing_map_fields(g)) == PD_OK) st = row(g);
    }
    if (st == PD__ROW_BAD) st = pd__ing_bad_row(g, pd_last_error(), g->rec, g->rec_len);
    if (st < 0) return st;
    g->line += g->dsv.lines;
    s->start += g->dsv.used;
  }
}

static pd_status jsonl_run(pd__ing *g, row_fn row) {
  pd__source *s = &g->src;
  char err[256];
  for (;;) {
    size_t avail = s->end - s->start;
    if (avail == 0 && s->eof) break;
    const char *p = s->buf + s->start;
    const char *nl = avail ? memchr(p, '\n', avail) : NULL;
    pd_status st;
    if (!nl && !s->eof) {
      if ((st = fill(g)) != PD_OK) return st;
      continue;
    }
    size_t used = nl ? (size_t)(nl - p) + 1 : avail;
    g->rec = p;
    g->rec_len = content_len(p, used);
    size_t k = 0;
    while (k < g->rec_len && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r')) k++;
    if (k < g->rec_len) {
      g->rows_read++;
      size_t off = 0;
      if (!pd__jsonl_parse(g->json, p, g->rec_len, err, sizeof err, &off)) {
        pd__error(PD_ERR_PARSE, "%s", err);
        st = bad_at(g, off);
      } else {
        st = PD_OK;
        for (int r = 0; r < g->n_roles && st == PD_OK; r++) {
          pd__val *v = &g->v[r];
          *v = (pd__val){"", 0, false, SIZE_MAX};
          int got_it = pd__jsonl_get(g->json, g->names[r], r, &v->p, &v->len, err, sizeof err);
          if (got_it < 0) {
            pd__error(PD_ERR_PARSE, "%s", err);
            st = bad_val(g, r);
          }
          v->present = got_it > 0;
        }
        if (st == PD_OK) st = row(g);
      }
      if (st == PD__ROW_BAD) st = pd__ing_bad_row(g, pd_last_error(), g->rec, g->rec_len);
      if (st < 0) return st;
    }
    g->line++;
    s->start += used;
  }
  return PD_OK;
}

/* ---- setup -------------------------------------------------------------- */

/* Bulk (see pd_ingest_options.bulk): by default for a large file that
 * brings most of the store's events, so that compacting with it costs
 * little more than writing the file's own events once. */
#define PD__BULK_MIN_BYTES (64u << 20)
static bool want_bulk(const pd__ing *g) {
  if (g->o.bulk < 0) return false;
  if (g->o.bulk > 0) return true;
  uint64_t size = g->src.file_size;
  return size >= PD__BULK_MIN_BYTES && pd_store_n_events(pd__writer_store(g->w)) < size / 32;
}

static pd_input_format detect(const char *path, const char *p, size_t n) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  char name[256];
  size_t len = strlen(base);
  if (len >= sizeof name) {
    base += len - (sizeof name - 1);
    len = sizeof name - 1;
  }
  for (size_t i = 0; i <= len; i++) name[i] = g_ascii_tolower(base[i]);
  if (len > 3 && strcmp(name + len - 3, ".gz") == 0) name[len -= 3] = '\0';
  static const struct { const char *ext; pd_input_format fmt; } exts[] = {
      {".csv", PD_INPUT_CSV}, {".tsv", PD_INPUT_TSV}, {".tab", PD_INPUT_TSV},
      {".jsonl", PD_INPUT_JSONL}, {".ndjson", PD_INPUT_JSONL}, {".json", PD_INPUT_JSONL}};
  for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
    size_t el = strlen(exts[i].ext);
    if (len > el && strcmp(name + len - el, exts[i].ext) == 0) return exts[i].fmt;
  }
  /* Unknown name: '{' starts JSON Lines; a first line with tabs and no commas is TSV. */
  size_t i = 0;
  while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) i++;
  if (i < n && p[i] == '{') return PD_INPUT_JSONL;
  size_t tabs = 0, commas = 0;
  for (i = 0; i < n && p[i] != '\n'; i++) tabs += p[i] == '\t', commas += p[i] == ',';
  return tabs > 0 && commas == 0 ? PD_INPUT_TSV : PD_INPUT_CSV;
}

static pd_status setup(pd__ing *g, pd_writer *w, const char *path, const pd_ingest_options *opts) {
  pd_ingest_options defaults = PD_INGEST_OPTIONS_INIT;
  g->o = defaults;
  if (opts) {
    if (opts->size < offsetof(pd_ingest_options, format) + sizeof opts->format)
      return pd__error(PD_ERR_INVALID, "pd_ingest: opts->size must be sizeof(pd_ingest_options)");
    memcpy(&g->o, opts, opts->size < sizeof g->o ? opts->size : sizeof g->o);
    g->o.size = sizeof g->o;
  }
  if (g->o.amount_decimals < 0 || g->o.amount_decimals > 9)
    return pd__error(PD_ERR_INVALID, "pd_ingest: amount_decimals must be 0..9, got %d", g->o.amount_decimals);
  if ((unsigned)g->o.format > PD_INPUT_JSONL)
    return pd__error(PD_ERR_INVALID, "pd_ingest: unknown input format %d", (int)g->o.format);
  g->w = w;
  g->path = path;
  memset(g->local_ids, 0xFF, sizeof g->local_ids); /* PD_NONE */
  g->line = 1;
  for (int r = 0; r < PD__MAX_ROLES; r++) g->col[r] = -1;
  pd_status st = PD_OK;
  const char *z = g->o.tz;
  if (z && *z && strcmp(z, "UTC") != 0 && strcmp(z, "Etc/UTC") != 0 && (st = pd__tz_cached(z, &g->tz)) != PD_OK) return st;
  pd__timeparse_init(&g->tp, g->tz);
  pd__timeparse_init(&g->commit_tp, g->tz);
  if ((st = pd__source_open(&g->src, path)) != PD_OK) return st;
  g->src_open = true;
  while (g->src.end - g->src.start < 3 && !g->src.eof)
    if ((st = fill(g)) != PD_OK) return st;
  if (g->src.end - g->src.start >= 3 && memcmp(g->src.buf + g->src.start, "\xEF\xBB\xBF", 3) == 0) g->src.start += 3;
  g->fmt = g->o.format != PD_INPUT_AUTO ? g->o.format
                                         : detect(path, g->src.buf + g->src.start, g->src.end - g->src.start);
  if (g->fmt == PD_INPUT_JSONL) st = pd__jsonl_new(&g->json);
  else pd__dsv_init(&g->dsv, g->fmt == PD_INPUT_TSV);
  if (st != PD_OK) return st;
  if (g->o.lenient && g->o.rejects_path) {
    g->rejects = fopen(g->o.rejects_path, "a");
    if (!g->rejects) return pd__error(PD_ERR_IO, "cannot open the rejects file %s", g->o.rejects_path);
    if (ftell(g->rejects) == 0) fputs("error,record\n", g->rejects);
  }
  return PD_OK;
}

static void cleanup(pd__ing *g) {
  if (g->src_open) pd__source_close(&g->src);
  pd__dsv_free(&g->dsv);
  pd__jsonl_free(g->json);
  sc_free(&g->valid);
  sc_free(&g->types);
  sc_free(&g->touchpoints);
  free(g->last_user);
  free(g->cstr);
  if (g->rejects) fclose(g->rejects);
  free(g);
}

enum { KIND_EVENTS, KIND_TOUCHPOINTS, KIND_TAGS };

static pd_status run(pd_writer *w, const char *path, const pd_ingest_options *opts, pd_ingest_result *result,
                     int kind, bool create_users) {
  if (!w || !path) return pd__error(PD_ERR_INVALID, "pd_ingest: writer and path must not be NULL");
  if (result && result->size < sizeof(size_t))
    return pd__error(PD_ERR_INVALID, "pd_ingest: result->size must be sizeof(pd_ingest_result)");
  pd__ing *g = calloc(1, sizeof *g);
  if (!g) return pd__error(PD_ERR_NOMEM, "out of memory");
  bool bulk = false;
  g->create_users = create_users;
  pd_status st = setup(g, w, path, opts);
  if (st == PD_OK) {
    static const char *const ev_names[R_EVENT_ROLES] = {"ts", "user", "event", "touchpoint", "amount", "referrer"};
    static const char *const tp_names[T_ROLES] = {"name", "domain", "carrier", "daily_spend"};
    if (kind == KIND_TAGS) {
      g->n_roles = G_ROLES;
      g->names[G_USER] = g->o.col_user && *g->o.col_user ? g->o.col_user : "user";
      g->named[G_USER] = g->o.col_user && *g->o.col_user;
      g->names[G_TAG] = "tag";
      g->required[G_USER] = g->required[G_TAG] = true;
    } else if (kind == KIND_TOUCHPOINTS) {
      g->n_roles = T_ROLES;
      for (int r = 0; r < T_ROLES; r++) g->names[r] = tp_names[r];
      g->required[T_NAME] = true;
    } else {
      const char *given[R_EVENT_ROLES] = {g->o.col_time, g->o.col_user, g->o.col_event,
                                          g->o.col_touchpoint, g->o.col_amount, g->o.col_referrer};
      g->n_roles = R_EVENT_ROLES;
      for (int r = 0; r < R_EVENT_ROLES; r++) {
        g->names[r] = given[r] && *given[r] ? given[r] : ev_names[r];
        g->named[r] = given[r] && *given[r];
      }
      g->required[R_TS] = g->required[R_USER] = g->required[R_EVENT] = true;
    }
    row_fn row = kind == KIND_TAGS ? tag_row : kind == KIND_TOUCHPOINTS ? touchpoint_row : event_row;
    if (g->fmt == PD_INPUT_JSONL) st = jsonl_run(g, row);
    else if ((st = dsv_header(g)) == PD_OK) {
      if (kind == KIND_EVENTS && want_bulk(g)) bulk = pd__writer_bulk_begin(w) == PD_OK;
      st = kind != KIND_EVENTS ? dsv_rows(g, row) : pd__ing_pipeline(g);
    }
  }
  if (st == PD_OK && g->rejects && fflush(g->rejects) != 0)
    st = pd__error(PD_ERR_IO, "cannot write the rejects file %s", g->o.rejects_path);
  if (st == PD_OK) st = bulk ? pd__writer_bulk_commit(w) : pd_writer_commit(w);
  g->res.rows_read = g->rows_read;
  if (st == PD_OK) {
    g->res.rows_committed = g->appended;
    pd__ing_progress(g, pd__source_disk_done(&g->src));
  } else {
    /* Nothing of this file stays; keep the message across the rollback. */
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", pd_last_error());
    pd_writer_rollback(w);
    pd__error(st, "%s", msg);
    g->res.rows_committed = 0;
  }
  g->res.bytes_read = g->src_open ? pd__source_offset(&g->src) : 0;
  if (result) {
    g->res.size = sizeof g->res;
    size_t n = result->size < sizeof g->res ? result->size : sizeof g->res;
    memcpy((char *)result + sizeof(size_t), (char *)&g->res + sizeof(size_t), n - sizeof(size_t));
  }
  cleanup(g);
  return st;
}

pd_status pd_ingest_file(pd_writer *w, const char *path, const pd_ingest_options *opts, pd_ingest_result *result) {
  return run(w, path, opts, result, KIND_EVENTS, false);
}

pd_status pd_ingest_touchpoints(pd_writer *w, const char *path, const pd_ingest_options *opts) {
  return run(w, path, opts, NULL, KIND_TOUCHPOINTS, false);
}

pd_status pd_ingest_tags(pd_writer *w, const char *path, const pd_ingest_options *opts, int create_users,
                         pd_ingest_result *result) {
  return run(w, path, opts, result, KIND_TAGS, create_users != 0);
}
