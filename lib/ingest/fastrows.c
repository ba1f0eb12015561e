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
 * general path would make (same text, offsets, caches, hashes). */
#include "ingest_internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>

#define FAST_MAX_COLS 16

bool pd__ing_fast_possible(const pd__ing *g) {
  return (g->fmt == PD_INPUT_CSV || g->fmt == PD_INPUT_TSV) && g->n_cols >= 1 && g->n_cols <= FAST_MAX_COLS &&
         g->col[R_TS] >= 0 && g->col[R_USER] >= 0 && g->col[R_EVENT] >= 0;
}

/* Bits of the 64 bytes at p equal to a, b or c (three masks). */
static inline void block_masks(const char *p, __m128i a, __m128i b, __m128i c, uint64_t *ma, uint64_t *mb, uint64_t *mc) {
  uint64_t x = 0, y = 0, z = 0;
  for (int k = 0; k < 4; k++) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
    x |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, a)) << (16 * k);
    y |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, b)) << (16 * k);
    z |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, c)) << (16 * k);
  }
  *ma = x;
  *mb = y;
  *mc = z;
}

/* Parses the record p[rs, end) (line break excluded) whose field k ends at
 * fend[k]; false when it is not of the fast shape. */
static inline bool fast_row(pd__ing *g, const char *p, size_t rs, const size_t *fend, size_t nc, pd__row *r) {
  const char *rec = p + rs;
  size_t rec_len = fend[nc - 1] - rs;
  if (rec_len && rec[rec_len - 1] == '\r') rec_len--;
  const char *fp[PD__MAX_ROLES];
  size_t fl[PD__MAX_ROLES], fo[PD__MAX_ROLES];
  for (int k = 0; k < R_EVENT_ROLES; k++) {
    int c = g->col[k];
    if (c < 0) {
      fp[k] = "";
      fl[k] = 0;
      fo[k] = SIZE_MAX;
      continue;
    }
    size_t a = c ? fend[c - 1] + 1 : rs, b = (size_t)c == nc - 1 ? rs + rec_len : fend[c];
    fp[k] = p + a;
    fl[k] = b - a;
    fo[k] = a - rs;
  }
  if (!fl[R_TS] || !fl[R_USER] || !fl[R_EVENT]) return false;
  if (pd__timeparse_run(&g->tp, fp[R_TS], fl[R_TS], &r->time) != PD_OK) return false;
  if (!pd__ascii_no_nul(fp[R_USER], fl[R_USER])) return false;
  if (!pd__sc_find(&g->valid, fp[R_EVENT], fl[R_EVENT], &r->local[0])) return false;
  bool has_tp = fl[R_TP] > 0, has_ref = fl[R_REF] > 0;
  r->local[1] = UINT32_MAX;
  if (has_tp && !pd__sc_find(&g->valid, fp[R_TP], fl[R_TP], &r->local[1])) return false;
  r->amount = 0;
  if (fl[R_AMOUNT] && pd_amount_parse(fp[R_AMOUNT], fl[R_AMOUNT], g->o.amount_decimals, &r->amount) != PD_OK) return false;
  if (has_ref && !pd__ascii_no_nul(fp[R_REF], fl[R_REF])) return false;
  static const int role[S_N] = {R_USER, R_EVENT, R_TP, R_REF};
  for (int k = 0; k < S_N; k++) {
    int x = role[k];
    bool has = (k != S_TP || has_tp) && (k != S_REF || has_ref);
    r->text[k] = has ? fp[x] : NULL;
    r->len[k] = has ? (uint32_t)fl[x] : 0;
    r->raw[k] = fo[x] != SIZE_MAX ? (uint32_t)fo[x] : UINT32_MAX;
  }
  r->hash[0] = pd__dict_hash(fp[R_USER], fl[R_USER]);
  r->hash[1] = has_ref ? pd__dict_hash(fp[R_REF], fl[R_REF]) : 0;
  r->rec = rec;
  r->rec_len = rec_len;
  r->msg = NULL;
  return true;
}

size_t pd__ing_fast_rows(pd__ing *g, const char *p, size_t len, pd__row *rows, size_t max, size_t *used) {
  *used = 0;
  if (len > UINT32_MAX) len = UINT32_MAX; /* offsets fit the row's 32-bit fields */
  const size_t nc = g->n_cols;
  const char delim = g->fmt == PD_INPUT_TSV ? '\t' : ',';
  const __m128i d = _mm_set1_epi8(delim), nl = _mm_set1_epi8('\n'), q = _mm_set1_epi8(delim == '\t' ? '\\' : '"');
  size_t fend[FAST_MAX_COLS + 1];
  size_t n = 0, nf = 0, rs = 0;
  for (size_t base = 0; base + 64 <= len && n < max; base += 64) {
    uint64_t dm, nm, qm;
    block_masks(p + base, d, nl, q, &dm, &nm, &qm);
    if (qm) break; /* quoted or escaped text near: the general path */
    for (uint64_t m = dm | nm; m; m &= m - 1) {
      unsigned bit = (unsigned)__builtin_ctzll(m);
      size_t i = base + bit;
      if (nf <= nc) fend[nf++] = i;
      if (!((nm >> bit) & 1)) continue;
      if (nf != nc) goto out; /* blank line, or a field too many or too few */
      pd__row *r = &rows[n];
      r->line = g->line + n;
      if (!fast_row(g, p, rs, fend, nc, r)) goto out;
      rs = i + 1;
      nf = 0;
      if (++n == max) goto out;
    }
  }
out:
  *used = rs;
  return n;
}

#else

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
