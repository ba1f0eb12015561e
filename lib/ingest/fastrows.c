/* Fast rows: the common event row parsed straight from the read buffer.
 *
 * The record tokenizer (csv.c) starts over at every record and fills field
 * records that the parse step then copies into roles. Most rows of a real
 * export have one shape: the header's number of fields, no quote (CSV) or
 * backslash (TSV), every value well formed, an event type and touchpoint
 * seen before. For those, delimiters and line breaks are found 64 bytes at
 * a time, each block of the buffer once, and the row is parsed from the
 * delimiter positions. The first row of any other shape ends the run; the
 * general path then reads it (with its messages, or its unescaping) and
 * the run resumes after it. A row parsed here is exactly the row the
 * general path would make (same text, offsets, caches, hashes), but for
 * its time, which the commit side parses (and reports, with the position
 * the general path would give): the interning thread has time to spare. */
#include "ingest_internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>

#define FAST_MAX_COLS 16

bool pd__ing_fast_off;

bool pd__ing_fast_possible(const pd__ing *g) {
  return !pd__ing_fast_off && (g->fmt == PD_INPUT_CSV || g->fmt == PD_INPUT_TSV) && g->n_cols >= 1 && g->n_cols <= FAST_MAX_COLS &&
         g->col[R_TS] >= 0 && g->col[R_USER] >= 0 && g->col[R_EVENT] >= 0;
}

/* Rows end at least SLACK bytes before the end of the window: any field
 * can then be read 8 bytes at a time and masked to its length. */
#define SLACK 8

/* Blocks whose delimiter positions are gathered before their rows are read. */
#define CHUNK_BLOCKS 64

/* Field starts of the pending rows: idx[-1] is the first row's start, and
 * idx[k] - 1 the position of the delimiter or line break that ends field
 * k (counting on through the rows). */
typedef struct fast_idx {
  uint32_t v[1 + FAST_MAX_COLS + 64 * CHUNK_BLOCKS];
} fast_idx;

size_t pd__ing_fast_rows(pd__ing *g, const char *p, size_t len, pd__row *rows, size_t max, size_t *used) {
  *used = 0;
  if (len > UINT32_MAX) len = UINT32_MAX; /* offsets fit the row's 32-bit fields */
  if (len < 64 + SLACK) return 0;
  const size_t nc = g->n_cols, lim = len - SLACK;
  const char delim = g->fmt == PD_INPUT_TSV ? '\t' : ',';
  const __m128i d = _mm_set1_epi8(delim), nl = _mm_set1_epi8('\n'), q = _mm_set1_epi8(delim == '\t' ? '\\' : '"');
  const int cts = g->col[R_TS], cu = g->col[R_USER], ce = g->col[R_EVENT], ct = g->col[R_TP], ca = g->col[R_AMOUNT],
            cr = g->col[R_REF];
  fast_idx fx;
  uint32_t *idx = fx.v + 1;
  idx[-1] = 0;
  size_t n = 0, ni = 0, rs = 0, base = 0;
  for (;;) {
    /* Gather the positions of a chunk of blocks. */
    bool quote = false;
    for (size_t b = 0; b < CHUNK_BLOCKS && base + 64 <= lim; b++, base += 64) {
      uint64_t dm, nm, qm;
      pd__dsv_masks64(p + base, d, nl, q, &dm, &nm, &qm);
      if (qm) { /* quoted or escaped text near: the general path from its row on */
        quote = true;
        break;
      }
      for (uint64_t m = dm | nm; m; m &= m - 1) idx[ni++] = (uint32_t)(base + (size_t)__builtin_ctzll(m) + 1);
    }
    /* Read the complete rows. */
    size_t k = 0;
    for (; k + nc <= ni; k += nc) {
      const uint32_t *f = idx + k; /* field j: p[f[j - 1], f[j] - 1) */
      if (p[f[nc - 1] - 1] != '\n') goto out; /* a field too many */
      bool shape = true;
      for (size_t j = 0; j + 1 < nc; j++) shape &= p[f[j] - 1] == delim;
      if (!shape) goto out; /* a field too few, or a blank line */
      size_t end = f[nc - 1] - 1;
      if (end > rs && p[end - 1] == '\r') end--;
#define FIELD_START(c) ((size_t)f[(c) - 1])
#define FIELD_END(c) ((size_t)(c) + 1 == nc ? end : (size_t)f[c] - 1)
      pd__row *r = &rows[n];
      const char *user = p + FIELD_START(cu), *ev = p + FIELD_START(ce), *ts = p + FIELD_START(cts);
      size_t lu = FIELD_END(cu) - FIELD_START(cu), le = FIELD_END(ce) - FIELD_START(ce), lts = FIELD_END(cts) - FIELD_START(cts);
      const char *tp = ct >= 0 ? p + FIELD_START(ct) : NULL, *ref = cr >= 0 ? p + FIELD_START(cr) : NULL;
      size_t lt = ct >= 0 ? FIELD_END(ct) - FIELD_START(ct) : 0, lr = cr >= 0 ? FIELD_END(cr) - FIELD_START(cr) : 0;
      size_t la = ca >= 0 ? FIELD_END(ca) - FIELD_START(ca) : 0;
      if (!lts || !lu || !le) goto out;
      if (!pd__ascii_no_nul_with(user, lu, true) || (lr && !pd__ascii_no_nul_with(ref, lr, true))) goto out;
      if (!pd__sc_lookup(&g->valid, pd__sc_key_with(ev, le, true), ev, &r->local[0])) goto out;
      r->local[1] = UINT32_MAX;
      if (lt && !pd__sc_lookup(&g->valid, pd__sc_key_with(tp, lt, true), tp, &r->local[1])) goto out;
      r->amount = 0;
      if (la && pd_amount_parse(p + FIELD_START(ca), la, g->o.amount_decimals, &r->amount) != PD_OK) goto out;
      r->text[S_USER] = user;
      r->text[S_EVENT] = ev;
      r->text[S_TP] = lt ? tp : NULL;
      r->text[S_REF] = lr ? ref : NULL;
      r->len[S_USER] = (uint32_t)lu;
      r->len[S_EVENT] = (uint32_t)le;
      r->len[S_TP] = (uint32_t)lt;
      r->len[S_REF] = (uint32_t)lr;
      r->raw[S_USER] = (uint32_t)(FIELD_START(cu) - rs);
      r->raw[S_EVENT] = (uint32_t)(FIELD_START(ce) - rs);
      r->raw[S_TP] = ct >= 0 ? (uint32_t)(FIELD_START(ct) - rs) : UINT32_MAX;
      r->raw[S_REF] = cr >= 0 ? (uint32_t)(FIELD_START(cr) - rs) : UINT32_MAX;
#undef FIELD_START
#undef FIELD_END
      r->hash[0] = pd__dict_hash_with(user, lu, true);
      r->hash[1] = lr ? pd__dict_hash_with(ref, lr, true) : 0;
      r->ts = ts; /* parsed on the commit side, which has time to spare */
      r->ts_len = (uint32_t)lts;
      r->ts_raw = (uint32_t)(ts - (p + rs));
      r->rec = p + rs;
      r->rec_len = end - rs;
      r->line = g->line + n;
      r->msg = NULL;
      rs = f[nc - 1];
      if (++n == max) goto out;
    }
    /* The positions of the incomplete row (fewer than nc) move to the front. */
    idx[-1] = (uint32_t)rs;
    memmove(idx, idx + k, (ni - k) * sizeof *idx);
    ni -= k;
    if (quote || base + 64 > lim) break;
  }
out:
  *used = rs;
  return n;
}

#else

bool pd__ing_fast_off;

bool pd__ing_fast_possible(const pd__ing *g) {
  (void)g;
  return false;
}

size_t pd__ing_fast_rows(pd__ing *g, const char *p, size_t len, pd__row *rows, size_t max, size_t *used) {
  (void)g;
  (void)p;
  (void)len;
  (void)rows;
  (void)max;
  *used = 0;
  return 0;
}

#endif
