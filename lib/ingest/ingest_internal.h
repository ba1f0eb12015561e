/* Shared state of one ingest call (internal to lib/ingest).
 *
 * A row goes through two steps: parse (tokenized fields -> checked,
 * converted pd__row; no writer calls) and commit (intern names, append).
 * CSV/TSV event files run the parse step on a second thread
 * (pipeline.c); JSON Lines and touchpoint files run both in turn. The
 * parse side owns src, dsv, json, tp, rec, line, v and valid; the commit
 * side owns the writer, the id caches, the rejects file and the counts. */
#ifndef PD_INGEST_INTERNAL_H
#define PD_INGEST_INTERNAL_H

#include <stdio.h>
#include <string.h>

#include "csv.h"
#include "jsonl.h"
#include "source.h"
#include "store_internal.h"
#include "timeparse.h"

enum { R_TS, R_USER, R_EVENT, R_TP, R_AMOUNT, R_REF, R_EVENT_ROLES };
enum { T_NAME, T_DOMAIN, T_CARRIER, T_SPEND, T_ROLES };
enum { G_USER, G_TAG, G_ROLES }; /* tag files */
#define PD__MAX_ROLES 6
#define PD__ROW_BAD 2      /* parse: bad row, message (with position) set */
#define PD__ROW_REJECTED 1 /* lenient: bad row written to the rejects */

typedef struct pd__val {
  const char *p;
  size_t len;
  bool present;     /* false: column or member absent (or JSON null) */
  size_t field_raw; /* byte offset of the field (its opening quote if quoted) in the record; SIZE_MAX for JSON */
} pd__val;

/* A small open-addressing map from recent strings to ids: event types and
 * touchpoints repeat on almost every row and are few. An entry keeps the
 * name's first and last 8 bytes (a key of up to 16 bytes is compared in
 * two words, without reading the copy). */
#define PD__SC_SLOTS 512
typedef struct pd__sc_key {
  uint64_t head, tail; /* first min(len, 8) bytes zero-padded; last 8 bytes when len > 8, else 0 */
  size_t len;
} pd__sc_key;
typedef struct pd__sc_entry {
  uint64_t head, tail;
  char *s; /* the name (NUL-terminated copy); NULL: empty slot */
  uint32_t len, id;
} pd__sc_entry;
typedef struct pd__scache {
  pd__sc_entry e[PD__SC_SLOTS];
  unsigned n;
} pd__scache;

/* padded: 8 bytes from p may be read. */
static inline pd__sc_key pd__sc_key_with(const char *p, size_t len, bool padded) {
  size_t n = len < 8 ? len : 8;
  pd__sc_key k = {padded ? pd__load_upto8_padded(p, n) : pd__load_upto8(p, n), 0, len};
  if (len > 8) memcpy(&k.tail, p + len - 8, 8);
  return k;
}

static inline unsigned pd__sc_slot(pd__sc_key k) {
  uint64_t h = (k.head ^ (k.tail * 0x9E3779B97F4A7C15u) ^ k.len) * 0xFF51AFD7ED558CCDu;
  return (unsigned)(h >> 32) & (PD__SC_SLOTS - 1);
}

/* The id of name p[0..k.len) with key k. */
static inline bool pd__sc_lookup(const pd__scache *c, pd__sc_key k, const char *p, uint32_t *id) {
  for (unsigned i = pd__sc_slot(k);; i = (i + 1) & (PD__SC_SLOTS - 1)) {
    const pd__sc_entry *e = &c->e[i];
    if (!e->s) return false;
    if (e->head == k.head && e->tail == k.tail && e->len == k.len && (k.len <= 16 || memcmp(e->s + 8, p + 8, k.len - 16) == 0)) {
      *id = e->id;
      return true;
    }
  }
}

static inline bool pd__sc_find(const pd__scache *c, const char *p, size_t len, uint32_t *id) {
  return pd__sc_lookup(c, pd__sc_key_with(p, len, false), p, id);
}

/* Whether p[0..n) is ASCII without NUL bytes, 8 bytes at a time (padded:
 * 8 bytes from the last word may be read). */
static inline bool pd__ascii_no_nul_with(const char *p, size_t n, bool padded) {
  const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  uint64_t bad = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    bad |= (w & highs) | ((w - ones) & ~w & highs);
  }
  size_t r = n - i;
  uint64_t w = padded ? pd__load_upto8_padded(p + i, r) : pd__load_upto8(p + i, r);
  w |= (r ? ~UINT64_C(0) << (8 * r) : ~UINT64_C(0)) & ones; /* bytes past the end: not zero */
  bad |= (w & highs) | ((w - ones) & ~w & highs);
  return !bad;
}

static inline bool pd__ascii_no_nul(const char *p, size_t n) { return pd__ascii_no_nul_with(p, n, false); }

/* A parsed event row. Text is borrowed from the record's buffer. */
enum { S_USER, S_EVENT, S_TP, S_REF, S_N };
typedef struct pd__row {
  int64_t time, amount;
  const char *text[S_N]; /* touchpoint, referrer: NULL when absent */
  uint32_t len[S_N];
  uint32_t raw[S_N];     /* field offsets in the record (UINT32_MAX: JSON, find by name) */
  const char *rec;       /* the record, for positions and rejects */
  size_t rec_len;
  uint64_t line;
  const char *msg;       /* a bad row's message, else NULL */
  uint32_t local[2];     /* event type, touchpoint: index in the parse side's name cache, or UINT32_MAX */
  uint32_t hash[2];      /* pd__dict_hash() of the user and the referrer (0 when absent) */
  uint32_t id[4];        /* bulk, once interned: canonical user, type, touchpoint, canonical referrer */
  const char *ts;        /* fast rows: the time's text, parsed by the commit side (time unset); else NULL */
  uint32_t ts_len, ts_raw;
} pd__row;

typedef struct pd__ing {
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
  pd__timeparse commit_tp; /* commit side: the times of fast rows */
  int n_roles;
  const char *names[PD__MAX_ROLES];
  bool required[PD__MAX_ROLES], named[PD__MAX_ROLES];
  int col[PD__MAX_ROLES];
  size_t n_cols;
  const char *rec; /* current record (parse side), without its line break */
  size_t rec_len;
  uint64_t line;   /* line of the record's first byte, from 1 */
  pd__val v[PD__MAX_ROLES];
  uint64_t rows_read;
  pd__scache valid;             /* parse side: names checked as UTF-8 -> local index */
  pd__scache types, touchpoints; /* commit side: name -> id */
  uint32_t local_ids[2][PD__SC_SLOTS / 2]; /* commit side: local index -> type, touchpoint id */
  char *last_user;
  size_t last_user_len, last_user_cap;
  uint32_t last_user_id;
  bool have_last_user;
  char *cstr;
  size_t cstr_cap;
  FILE *rejects;
  uint64_t appended;
  pd_ingest_result res;
  bool create_users; /* tag files: unknown users are created */
} pd__ing;

/* Prefixes the current message with "path:line:column" of byte off of rec. */
void pd__ing_locate(const pd__ing *g, const char *rec, size_t rec_len, uint64_t line, size_t off);
/* Sets the message "expected N fields, got M" etc. for a tokenized record
 * of the wrong width, or maps its fields to g->v. PD__ROW_BAD or PD_OK. */
pd_status pd__ing_map_fields(pd__ing *g);
/* Parse step of an event row (g->v) into *r, whose rec, rec_len and line
 * the caller has set (from the values it has at hand: copying them here
 * from g right after the caller stored them there stalls on store
 * forwarding); PD__ROW_BAD with the message set. */
pd_status pd__ing_parse_event(pd__ing *g, pd__row *r);
/* Commit step; a bad row (r->msg) goes to pd__ing_bad_row. */
pd_status pd__ing_commit_event(pd__ing *g, const pd__row *r);
/* The commit step without the append, for a bulk batch filled on another
 * thread: PD_OK with r->id set (the row counts as appended), else as
 * pd__ing_commit_event(). */
pd_status pd__ing_intern_event(pd__ing *g, pd__row *r);
/* A bad row with message msg: strict, PD_ERR_PARSE with the message set;
 * lenient, written to the rejects, PD__ROW_REJECTED. */
pd_status pd__ing_bad_row(pd__ing *g, const char *msg, const char *rec, size_t rec_len);

/* Fast rows (fastrows.c): whether this file's columns allow them, and
 * the run of rows of the common shape at the start of p[0..len), at most
 * max, parsed into rows[] (lines from g->line on); *used is the bytes they
 * took. 0 rows: the general path reads the next record. */
bool pd__ing_fast_possible(const pd__ing *g);
extern bool pd__ing_fast_off; /* tests: the general path only (tests/fuzz/fuzz-rows.c) */
size_t pd__ing_fast_rows(pd__ing *g, const char *p, size_t len, pd__row *rows, size_t max, size_t *used);

/* CSV/TSV event rows after the header, parsed on a second thread. */
pd_status pd__ing_pipeline(pd__ing *g);
/* Calls the progress callback: nonzero means cancel. */
int pd__ing_progress(pd__ing *g, uint64_t done);

#endif
