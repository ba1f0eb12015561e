/* Ingest: maps CSV/TSV/JSONL records onto pd_writer calls, with
 * file:line:column errors, strict (all or nothing) and lenient (rejects
 * file) modes. The hot path per row: tokenize in place, parse the time
 * with the date cache, look event type and touchpoint up in small local
 * caches, intern the user, append. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "jsonl.h"
#include "source.h"
#include "timeparse.h"

enum { R_TS, R_USER, R_EVENT, R_TP, R_AMOUNT, R_REF, R_EVENT_ROLES };
enum { T_NAME, T_DOMAIN, T_CARRIER, T_SPEND, T_ROLES };
#define MAX_ROLES 6
#define ROW_REJECTED 1 /* a row handler's "bad row, written to the rejects" */

typedef struct val {
  const char *p;
  size_t len;
  bool present;     /* false: column or member absent (or JSON null) */
  size_t field_raw; /* byte offset of the field (its opening quote if quoted) in the record; SIZE_MAX for JSON */
} val;

/* A small open-addressing map from recent strings to ids: event types and
 * touchpoints repeat on almost every row and are few. */
#define SC_SLOTS 512
typedef struct sc_entry {
  char *s;
  uint32_t len, id;
} sc_entry;
typedef struct scache {
  sc_entry e[SC_SLOTS];
  unsigned n, last;
} scache;

typedef struct ing ing;
typedef pd_status (*row_fn)(ing *g);

struct ing {
  pd_writer *w;
  const char *path;
  pd_ingest_options o;
  pd__source src;
  bool src_open;
  pd_input_format fmt;
  pd__dsv dsv;
  pd__jsonl *json;
  const pd__tz *tz; /* borrowed from the process-wide cache */
  pd__timeparse tp;
  int n_roles;
  const char *names[MAX_ROLES];
  bool required[MAX_ROLES], named[MAX_ROLES];
  int col[MAX_ROLES];
  size_t n_cols;
  const char *rec; /* current record, without its line break */
  size_t rec_len;
  uint64_t line;   /* line of the record's first byte, from 1 */
  val v[MAX_ROLES];
  scache types, touchpoints;
  char *last_user;
  size_t last_user_len, last_user_cap;
  uint32_t last_user_id;
  bool have_last_user;
  char *cstr;
  size_t cstr_cap;
  FILE *rejects;
  uint64_t appended;
  pd_ingest_result res;
};

/* ---- small helpers ------------------------------------------------------ */

static uint32_t hash_bytes(const char *p, size_t len) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)p[i]) * 16777619u;
  return h;
}

static inline bool sc_find(scache *c, const char *p, size_t len, uint32_t *id) {
  sc_entry *e = &c->e[c->last];
  if (e->s && e->len == len && memcmp(e->s, p, len) == 0) {
    *id = e->id;
    return true;
  }
  for (unsigned i = hash_bytes(p, len) & (SC_SLOTS - 1);; i = (i + 1) & (SC_SLOTS - 1)) {
    e = &c->e[i];
    if (!e->s) return false;
    if (e->len == len && memcmp(e->s, p, len) == 0) {
      c->last = i;
      *id = e->id;
      return true;
    }
  }
}

static void sc_put(scache *c, const char *p, size_t len, uint32_t id) {
  if (c->n >= SC_SLOTS / 2 || len > UINT32_MAX) return; /* full: later names go to the writer */
  char *s = malloc(len + 1);
  if (!s) return;
  memcpy(s, p, len);
  s[len] = '\0';
  unsigned i = hash_bytes(p, len) & (SC_SLOTS - 1);
  while (c->e[i].s) i = (i + 1) & (SC_SLOTS - 1);
  c->e[i] = (sc_entry){s, (uint32_t)len, id};
  c->last = i;
  c->n++;
}

static void sc_free(scache *c) {
  for (unsigned i = 0; i < SC_SLOTS; i++) free(c->e[i].s);
}

/* A NUL-terminated copy of p[0..len) in the reusable buffer (valid until the
 * next call); NULL when out of memory. */
static const char *cstr(ing *g, const char *p, size_t len) {
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

static const char *got(char *buf, size_t size, const val *v) {
  if (!v->present) return "nothing";
  return pd__quote_text(buf, size, v->p, v->len, 64);
}

/* ---- errors with positions ---------------------------------------------- */

/* Prefixes the current message with "file:line:column" of record byte off. */
static void locate(ing *g, size_t off) {
  size_t l = 0, c = 1;
  if (off > g->rec_len) off = g->rec_len;
  pd__text_position(g->rec, off, &l, &c);
  pd__error_prefix("%s:%llu:%zu", g->path, (unsigned long long)(g->line + l), c);
}

static void csv_quote(FILE *f, const char *p, size_t len) {
  fputc('"', f);
  for (size_t i = 0; i < len; i++) {
    if (p[i] == '"') fputc('"', f);
    fputc(p[i], f);
  }
  fputc('"', f);
}

/* A bad row at record byte off (message already set as "expected ..."):
 * strict, the error; lenient, a line in the rejects file. */
static pd_status bad_at(ing *g, size_t off) {
  locate(g, off);
  if (!g->o.lenient) return PD_ERR_PARSE;
  g->res.rows_rejected++;
  if (g->rejects) {
    const char *msg = pd_last_error();
    csv_quote(g->rejects, msg, strlen(msg));
    fputc(',', g->rejects);
    csv_quote(g->rejects, g->rec, g->rec_len);
    fputc('\n', g->rejects);
    if (ferror(g->rejects))
      return pd__error(PD_ERR_IO, "%s: cannot write the rejects file %s", g->path, g->o.rejects_path);
  }
  pd_clear_error();
  return ROW_REJECTED;
}

/* A bad value of role r: the column is where its field (CSV, TSV) or its
 * member's value (JSON) starts. */
static pd_status bad_val(ing *g, int r) {
  const val *v = &g->v[r];
  return bad_at(g, v->field_raw != SIZE_MAX ? v->field_raw : pd__jsonl_locate(g->rec, g->rec_len, g->names[r]));
}

/* Strings must be UTF-8 without NUL bytes (they become C strings). */
static pd_status check_text(ing *g, int r) {
  const val *v = &g->v[r];
  const char *end = NULL;
  if (g_utf8_validate(v->p, (gssize)v->len, &end)) return PD_OK;
  pd__error(PD_ERR_PARSE, "expected UTF-8 text, got byte 0x%02x", (unsigned char)*end);
  return bad_val(g, r);
}

static pd_status require(ing *g, int r, const char *what) {
  const val *v = &g->v[r];
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

static pd_status parse_amount(ing *g, int r, int64_t *out) {
  const val *v = &g->v[r];
  pd_status st = pd_amount_parse(v->p, v->len, g->o.amount_decimals, out);
  if (st == PD_OK) return PD_OK;
  if (st == PD_ERR_RANGE) {
    char b[160];
    pd__error(PD_ERR_PARSE, "expected an amount within the 64-bit range of minor units, got %s", got(b, sizeof b, v));
  }
  return bad_val(g, r);
}

/* The writer refuses a value (e.g. too many event types): a bad row if the
 * writer calls it invalid or out of range, otherwise fatal. */
static pd_status writer_refused(ing *g, int r, pd_status st) {
  if (st != PD_ERR_INVALID && st != PD_ERR_RANGE && st != PD_ERR_EXISTS) return st;
  return bad_val(g, r);
}

/* ---- rows --------------------------------------------------------------- */

static pd_status intern_user(ing *g, const val *v, uint32_t *out) {
  if (g->have_last_user && v->len == g->last_user_len && memcmp(v->p, g->last_user, v->len) == 0) {
    *out = g->last_user_id;
    return PD_OK;
  }
  const char *s = cstr(g, v->p, v->len);
  if (!s) return pd__error(PD_ERR_NOMEM, "out of memory");
  pd_status st = pd_writer_user(g->w, s, out);
  if (st != PD_OK) return st;
  if (v->len + 1 > g->last_user_cap) {
    char *b = realloc(g->last_user, v->len + 64);
    if (!b) {
      g->have_last_user = false;
      return PD_OK;
    }
    g->last_user = b;
    g->last_user_cap = v->len + 64;
  }
  memcpy(g->last_user, v->p, v->len);
  g->last_user_len = v->len;
  g->last_user_id = *out;
  g->have_last_user = true;
  return PD_OK;
}

static pd_status intern_cached(ing *g, scache *c, const val *v, bool event_type, uint32_t *out) {
  if (sc_find(c, v->p, v->len, out)) return PD_OK;
  const char *s = cstr(g, v->p, v->len);
  if (!s) return pd__error(PD_ERR_NOMEM, "out of memory");
  pd_status st = event_type ? pd_writer_event_type(g->w, s, out) : pd_writer_touchpoint_name(g->w, s, out);
  if (st == PD_OK) sc_put(c, v->p, v->len, *out);
  return st;
}

static pd_status event_row(ing *g) {
  val *v = g->v;
  pd_status st;
  int64_t t = 0, amount = 0;
  if ((st = require(g, R_TS, "a timestamp")) != PD_OK) return st;
  if (pd__timeparse_run(&g->tp, v[R_TS].p, v[R_TS].len, &t) != PD_OK) return bad_val(g, R_TS);
  if ((st = require(g, R_USER, "a user id")) != PD_OK || (st = check_text(g, R_USER)) != PD_OK) return st;
  if ((st = require(g, R_EVENT, "an event type")) != PD_OK || (st = check_text(g, R_EVENT)) != PD_OK) return st;
  bool has_tp = v[R_TP].present && v[R_TP].len > 0;
  bool has_ref = v[R_REF].present && v[R_REF].len > 0;
  if (has_tp && (st = check_text(g, R_TP)) != PD_OK) return st;
  if (v[R_AMOUNT].present && v[R_AMOUNT].len > 0 && (st = parse_amount(g, R_AMOUNT, &amount)) != PD_OK) return st;
  if (has_ref && (st = check_text(g, R_REF)) != PD_OK) return st;

  pd_event e = {t, 0, 0, PD_NONE, PD_NONE, amount};
  if ((st = intern_user(g, &v[R_USER], &e.user)) != PD_OK) return writer_refused(g, R_USER, st);
  if ((st = intern_cached(g, &g->types, &v[R_EVENT], true, &e.type)) != PD_OK) return writer_refused(g, R_EVENT, st);
  if (has_tp && (st = intern_cached(g, &g->touchpoints, &v[R_TP], false, &e.touchpoint)) != PD_OK)
    return writer_refused(g, R_TP, st);
  if (has_ref) {
    const char *s = cstr(g, v[R_REF].p, v[R_REF].len);
    if (!s) return pd__error(PD_ERR_NOMEM, "out of memory");
    if ((st = pd_writer_user(g->w, s, &e.referrer)) != PD_OK) return writer_refused(g, R_REF, st);
  }
  if ((st = pd_writer_append(g->w, &e)) != PD_OK) return writer_refused(g, R_EVENT, st);
  g->appended++;
  return PD_OK;
}

static pd_status touchpoint_row(ing *g) {
  val *v = g->v;
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

/* ---- drivers ------------------------------------------------------------ */

static pd_status fill(ing *g) {
  pd_status st = pd__source_fill(&g->src);
  if (st != PD_OK) {
    /* Bad input (corrupt gzip, endless record): where the unread window
     * starts. An I/O error names the file already. */
    if (st != PD_ERR_IO && st != PD_ERR_NOMEM) {
      g->rec = g->src.buf + g->src.start;
      g->rec_len = 0;
      locate(g, 0);
    }
    return st;
  }
  if (g->o.progress && g->o.progress(g->o.progress_ctx, pd__source_disk_done(&g->src), g->src.file_size))
    return pd__error(PD_ERR_CANCELLED, "%s: cancelled by the progress callback", g->path);
  return PD_OK;
}

static size_t content_len(const char *p, size_t used) {
  if (used && p[used - 1] == '\n') used--;
  if (used && p[used - 1] == '\r') used--;
  return used;
}

static pd_status map_header(ing *g) {
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
        locate(g, t->f[i].raw);
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
    locate(g, 0);
    return PD_ERR_PARSE;
  }
  g->n_cols = t->n;
  return PD_OK;
}

static pd_status dsv_record(ing *g, row_fn row) {
  pd__dsv *t = &g->dsv;
  if (t->n != g->n_cols) {
    pd__error(PD_ERR_PARSE, "expected %zu fields, got %zu", g->n_cols, t->n);
    return bad_at(g, t->n < g->n_cols ? g->rec_len : t->f[g->n_cols].raw);
  }
  for (int r = 0; r < g->n_roles; r++) {
    val *v = &g->v[r];
    if (g->col[r] < 0) {
      *v = (val){"", 0, false, SIZE_MAX};
      continue;
    }
    const pd__field *f = &t->f[g->col[r]];
    *v = (val){f->p, f->len, true, f->raw};
  }
  return row(g);
}

static pd_status dsv_run(ing *g, row_fn row) {
  pd__source *s = &g->src;
  bool header = false;
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
      if (!header) {
        locate(g, g->dsv.err_off);
        return PD_ERR_PARSE;
      }
      g->res.rows_read++;
      if ((st = bad_at(g, g->dsv.err_off)) < 0) return st;
    } else if (r == PD__REC_OK) {
      if (!header) {
        if ((st = map_header(g)) != PD_OK) return st;
        header = true;
      } else {
        g->res.rows_read++;
        if ((st = dsv_record(g, row)) < 0) return st;
      }
    }
    g->line += g->dsv.lines;
    s->start += g->dsv.used;
  }
  if (!header) {
    g->rec = "";
    g->rec_len = 0;
    pd__error(PD_ERR_PARSE, "expected a header line naming the columns, got end of file");
    locate(g, 0);
    return PD_ERR_PARSE;
  }
  return PD_OK;
}

static pd_status jsonl_run(ing *g, row_fn row) {
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
      g->res.rows_read++;
      size_t off = 0;
      if (!pd__jsonl_parse(g->json, p, g->rec_len, err, sizeof err, &off)) {
        pd__error(PD_ERR_PARSE, "%s", err);
        st = bad_at(g, off);
      } else {
        st = PD_OK;
        for (int r = 0; r < g->n_roles && st == PD_OK; r++) {
          val *v = &g->v[r];
          *v = (val){"", 0, false, SIZE_MAX};
          int got_it = pd__jsonl_get(g->json, g->names[r], r, &v->p, &v->len, err, sizeof err);
          if (got_it < 0) {
            pd__error(PD_ERR_PARSE, "%s", err);
            st = bad_val(g, r);
          }
          v->present = got_it > 0;
        }
        if (st == PD_OK) st = row(g);
      }
      if (st < 0) return st;
    }
    g->line++;
    s->start += used;
  }
  return PD_OK;
}

/* ---- setup -------------------------------------------------------------- */

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

static pd_status setup(ing *g, pd_writer *w, const char *path, const pd_ingest_options *opts) {
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
  g->line = 1;
  for (int r = 0; r < MAX_ROLES; r++) g->col[r] = -1;
  pd_status st = PD_OK;
  const char *z = g->o.tz;
  if (z && *z && strcmp(z, "UTC") != 0 && strcmp(z, "Etc/UTC") != 0 && (st = pd__tz_cached(z, &g->tz)) != PD_OK) return st;
  pd__timeparse_init(&g->tp, g->tz);
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

static void cleanup(ing *g) {
  if (g->src_open) pd__source_close(&g->src);
  pd__dsv_free(&g->dsv);
  pd__jsonl_free(g->json);
  sc_free(&g->types);
  sc_free(&g->touchpoints);
  free(g->last_user);
  free(g->cstr);
  if (g->rejects) fclose(g->rejects);
  free(g);
}

static pd_status run(pd_writer *w, const char *path, const pd_ingest_options *opts, pd_ingest_result *result,
                     bool touchpoints) {
  if (!w || !path) return pd__error(PD_ERR_INVALID, "pd_ingest: writer and path must not be NULL");
  if (result && result->size < sizeof(size_t))
    return pd__error(PD_ERR_INVALID, "pd_ingest: result->size must be sizeof(pd_ingest_result)");
  ing *g = calloc(1, sizeof *g);
  if (!g) return pd__error(PD_ERR_NOMEM, "out of memory");
  pd_status st = setup(g, w, path, opts);
  if (st == PD_OK) {
    static const char *const ev_names[R_EVENT_ROLES] = {"ts", "user", "event", "touchpoint", "amount", "referrer"};
    static const char *const tp_names[T_ROLES] = {"name", "domain", "carrier", "daily_spend"};
    if (touchpoints) {
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
    row_fn row = touchpoints ? touchpoint_row : event_row;
    st = g->fmt == PD_INPUT_JSONL ? jsonl_run(g, row) : dsv_run(g, row);
  }
  if (st == PD_OK && g->rejects && fflush(g->rejects) != 0)
    st = pd__error(PD_ERR_IO, "cannot write the rejects file %s", g->o.rejects_path);
  if (st == PD_OK) st = pd_writer_commit(w);
  if (st == PD_OK) {
    g->res.rows_committed = g->appended;
    if (g->o.progress) g->o.progress(g->o.progress_ctx, pd__source_disk_done(&g->src), g->src.file_size);
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
  return run(w, path, opts, result, false);
}

pd_status pd_ingest_touchpoints(pd_writer *w, const char *path, const pd_ingest_options *opts) {
  return run(w, path, opts, NULL, true);
}
