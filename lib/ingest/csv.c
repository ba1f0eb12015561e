/* RFC 4180 CSV and TSV tokenizer: one pass, no allocation per field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

enum { C_PLAIN = 0, C_DELIM, C_NL, C_QUOTE, C_ESC };

void pd__dsv_init(pd__dsv *t, bool tsv) {
  memset(t, 0, sizeof *t);
  t->delim = tsv ? '\t' : ',';
  t->quoting = !tsv;
  t->escapes = tsv;
  t->cls[(unsigned char)t->delim] = C_DELIM;
  t->cls['\n'] = C_NL;
  if (t->quoting) t->cls['"'] = C_QUOTE;
  if (t->escapes) t->cls['\\'] = C_ESC;
}

void pd__dsv_free(pd__dsv *t) {
  free(t->f);
  free(t->scratch);
  t->f = NULL;
  t->scratch = NULL;
}

void pd__text_position(const char *rec, size_t off, size_t *line, size_t *col) {
  size_t l = 0, start = 0;
  for (size_t i = 0; i < off; i++)
    if (rec[i] == '\n') {
      l++;
      start = i + 1;
    }
  size_t c = 1;
  for (size_t i = start; i < off; i++)
    if (((unsigned char)rec[i] & 0xC0) != 0x80) c++;
  *line = l;
  *col = c;
}

static bool reserve_fields(pd__dsv *t) {
  if (t->n < t->cap) return true;
  size_t cap = t->cap ? t->cap * 2 : 16;
  pd__field *f = realloc(t->f, cap * sizeof *f);
  if (!f) return false;
  t->f = f;
  t->cap = cap;
  return true;
}

static bool reserve_scratch(pd__dsv *t, size_t more) {
  if (t->scratch_len + more <= t->scratch_cap) return true;
  size_t cap = t->scratch_cap ? t->scratch_cap : 256;
  while (cap < t->scratch_len + more) cap *= 2;
  char *s = realloc(t->scratch, cap);
  if (!s) return false;
  t->scratch = s;
  t->scratch_cap = cap;
  return true;
}

static inline bool push(pd__dsv *t, const char *p, size_t from, size_t to, size_t raw) {
  if (t->n == t->cap && !reserve_fields(t)) return false;
  pd__field *f = &t->f[t->n++];
  f->p = p + from;
  f->len = to - from;
  f->raw = raw;
  return true;
}

/* Copies src[0..len) into scratch, collapsing "" (CSV) or decoding
 * backslash escapes (TSV); the field then points into scratch. */
static bool push_unescaped(pd__dsv *t, const char *src, size_t len, size_t raw) {
  if (!reserve_scratch(t, len) || (t->n == t->cap && !reserve_fields(t))) return false;
  char *o = t->scratch + t->scratch_len;
  size_t k = 0;
  for (size_t i = 0; i < len; i++) {
    char c = src[i];
    if (t->quoting && c == '"' && i + 1 < len && src[i + 1] == '"') {
      i++;
    } else if (t->escapes && c == '\\' && i + 1 < len) {
      char e = src[i + 1];
      if (e == 't' || e == 'n' || e == 'r' || e == '\\') {
        c = e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : '\\';
        i++;
      }
    }
    o[k++] = c;
  }
  pd__field *f = &t->f[t->n++];
  f->p = NULL; /* fixed up when the record is complete: scratch may move */
  f->soff = t->scratch_len;
  f->len = k;
  f->raw = raw;
  t->scratch_len += k;
  return true;
}

static void fixup(pd__dsv *t) {
  if (!t->scratch_len) return;
  for (size_t i = 0; i < t->n; i++)
    if (!t->f[i].p) t->f[i].p = t->scratch + t->f[i].soff;
}

static size_t count_nl(const char *p, size_t from, size_t to) {
  size_t n = 0;
  for (const char *q = p + from; (q = memchr(q, '\n', (size_t)(p + to - q))) != NULL; q++) n++;
  return n;
}

/* Ends an error record at the end of the physical line holding `at`. */
static pd__rec error_at(pd__dsv *t, const char *p, size_t len, bool eof, size_t at) {
  const char *nl = at < len ? memchr(p + at, '\n', len - at) : NULL;
  if (!nl && !eof) return PD__REC_MORE;
  t->used = nl ? (size_t)(nl - p) + 1 : len;
  t->lines = count_nl(p, 0, t->used);
  t->err_off = at;
  t->n = 0;
  return PD__REC_ERROR;
}

static void describe_byte(char *buf, size_t size, const char *p, size_t len, size_t at) {
  if (at >= len) snprintf(buf, size, "end of file");
  else if (p[at] == '"') snprintf(buf, size, "'\"'");
  else if ((unsigned char)p[at] < 0x20 || (unsigned char)p[at] >= 0x7f) snprintf(buf, size, "byte 0x%02x", (unsigned char)p[at]);
  else snprintf(buf, size, "'%c'", p[at]);
}

/* The first byte at or after i that ends a plain run (delimiter, LF, quote
 * or backslash as configured), or len. 16 bytes at a time with SSE2: most
 * fields are shorter, so one compare finds the delimiter. */
static inline size_t next_special(const pd__dsv *t, const char *p, size_t i, size_t len) {
#if defined(__SSE2__)
  const __m128i d = _mm_set1_epi8(t->delim), nl = _mm_set1_epi8('\n');
  const __m128i q = _mm_set1_epi8(t->quoting ? '"' : '\n'), e = _mm_set1_epi8(t->escapes ? '\\' : '\n');
  while (i + 16 <= len) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
    __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, d), _mm_cmpeq_epi8(v, nl)),
                             _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, e)));
    unsigned mask = (unsigned)_mm_movemask_epi8(m);
    if (mask) return i + (size_t)__builtin_ctz(mask);
    i += 16;
  }
#endif
  while (i < len && !t->cls[(unsigned char)p[i]]) i++;
  return i;
}

#if defined(__SSE2__)
/* The common record: no quote (CSV) or backslash (TSV) before its line
 * break, which comes within the available bytes. Delimiters and the break
 * are found 64 bytes at a time, so a short record costs a few compares
 * instead of a scan per field. Returns false (nothing done) for any other
 * record, which the general tokenizer then reads from its start. */
static bool fast_record(pd__dsv *t, const char *p, size_t len, pd__rec *out) {
  const __m128i d = _mm_set1_epi8(t->delim), nl = _mm_set1_epi8('\n');
  const __m128i q = _mm_set1_epi8(t->quoting ? '"' : '\\');
  size_t base = 0, fs = 0;
  while (base + 64 <= len) {
    uint64_t dm, nm, qm;
    pd__dsv_masks64(p + base, d, nl, q, &dm, &nm, &qm);
    uint64_t before = nm ? (nm & -nm) - 1 : ~UINT64_C(0); /* bytes before the first line break */
    if (qm & before) {
      t->n = 0;
      return false;
    }
    for (uint64_t m = dm & before; m; m &= m - 1) {
      size_t i = base + (size_t)__builtin_ctzll(m);
      if (t->n == t->cap && !reserve_fields(t)) {
        *out = PD__REC_NOMEM;
        return true;
      }
      pd__field *f = &t->f[t->n++];
      f->p = p + fs;
      f->len = i - fs;
      f->raw = fs;
      fs = i + 1;
    }
    if (nm) {
      size_t i = base + (size_t)__builtin_ctzll(nm), end = i;
      if (end > fs && p[end - 1] == '\r') end--;
      if (!push(t, p, fs, end, fs)) {
        *out = PD__REC_NOMEM;
        return true;
      }
      t->used = i + 1;
      t->lines = 1;
      *out = PD__REC_OK;
      return true;
    }
    base += 64;
  }
  t->n = 0; /* the break is beyond the loaded bytes: start over */
  return false;
}
#endif

pd__rec pd__dsv_next(pd__dsv *t, const char *p, size_t len, bool eof) {
  t->n = 0;
  t->scratch_len = 0;
  t->lines = 0;
  if (len == 0) return PD__REC_MORE;
  if (p[0] == '\n' || p[0] == '\r') {
    if (p[0] == '\n' || (len >= 2 && p[1] == '\n')) {
      t->used = p[0] == '\n' ? 1 : 2;
      t->lines = 1;
      return PD__REC_BLANK;
    }
    if (len == 1) {
      if (!eof) return PD__REC_MORE;
      t->used = 1;
      return PD__REC_BLANK;
    }
  }
#if defined(__SSE2__)
  pd__rec fast;
  if (fast_record(t, p, len, &fast)) return fast;
#endif
  const unsigned char *cls = t->cls;
  size_t i = 0, fs = 0;
  bool fesc = false;
  for (;;) {
    i = next_special(t, p, i, len);
    if (i == len) {
      if (!eof) return PD__REC_MORE;
      size_t end = len;
      if (end > fs && p[end - 1] == '\r') end--;
      if (!(fesc ? push_unescaped(t, p + fs, end - fs, fs) : push(t, p, fs, end, fs))) return PD__REC_NOMEM;
      t->used = len;
      fixup(t);
      return PD__REC_OK;
    }
    switch (cls[(unsigned char)p[i]]) {
    case C_DELIM:
      if (!(fesc ? push_unescaped(t, p + fs, i - fs, fs) : push(t, p, fs, i, fs))) return PD__REC_NOMEM;
      fs = ++i;
      fesc = false;
      continue;
    case C_NL: {
      size_t end = i;
      if (end > fs && p[end - 1] == '\r') end--;
      if (!(fesc ? push_unescaped(t, p + fs, end - fs, fs) : push(t, p, fs, end, fs))) return PD__REC_NOMEM;
      t->used = i + 1;
      t->lines += 1;
      fixup(t);
      return PD__REC_OK;
    }
    case C_ESC:
      fesc = true;
      i++;
      continue;
    default: /* C_QUOTE */
      break;
    }
    if (i != fs) {
      char got[32];
      describe_byte(got, sizeof got, p, len, i);
      snprintf(t->err, sizeof t->err, "expected a quote only at the start of a field (or doubled inside a quoted one), got %s", got);
      return error_at(t, p, len, eof, i);
    }
    /* Quoted field opened at i. */
    size_t j = i + 1, k;
    bool doubled = false;
    for (;;) {
      const char *q = j < len ? memchr(p + j, '"', len - j) : NULL;
      if (!q) {
        if (!eof) return PD__REC_MORE;
        snprintf(t->err, sizeof t->err, "expected a closing quote for the field opened here, got end of file");
        t->used = len;
        t->lines = count_nl(p, 0, len);
        t->err_off = i;
        t->n = 0;
        return PD__REC_ERROR;
      }
      k = (size_t)(q - p);
      if (k + 1 == len && !eof) return PD__REC_MORE;
      if (k + 1 < len && p[k + 1] == '"') {
        doubled = true;
        j = k + 2;
        continue;
      }
      break;
    }
    t->lines += count_nl(p, i + 1, k);
    if (!(doubled ? push_unescaped(t, p + i + 1, k - i - 1, i) : push(t, p, i + 1, k, i))) return PD__REC_NOMEM;
    size_t a = k + 1;
    if (a == len) { /* eof right after the closing quote */
      t->used = len;
      fixup(t);
      return PD__REC_OK;
    }
    if (p[a] == t->delim) {
      i = fs = a + 1;
      fesc = false;
      continue;
    }
    if (p[a] == '\n' || (p[a] == '\r' && a + 1 < len && p[a + 1] == '\n')) {
      t->used = a + (p[a] == '\n' ? 1 : 2);
      t->lines += 1;
      fixup(t);
      return PD__REC_OK;
    }
    if (p[a] == '\r' && a + 1 == len) {
      if (!eof) return PD__REC_MORE;
      t->used = len;
      fixup(t);
      return PD__REC_OK;
    }
    char got[32];
    describe_byte(got, sizeof got, p, len, a);
    snprintf(t->err, sizeof t->err, "expected '%s' or a line end after the closing quote, got %s",
             t->delim == ',' ? "," : "\\t", got);
    return error_at(t, p, len, eof, a);
  }
}
