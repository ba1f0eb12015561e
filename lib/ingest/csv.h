/* Delimiter-separated records (internal): CSV per RFC 4180 and TSV.
 *
 * CSV: fields separated by ',', records end at LF or CRLF; a field that
 * starts with '"' is quoted and may hold delimiters, line breaks and
 * doubled quotes ("" for "); anything between a closing quote and the next
 * delimiter or line end is an error, and so is a '"' inside an unquoted
 * field. TSV: fields separated by TAB, no quoting; the escapes \t \n \r \\
 * are decoded and any other backslash is kept as is.
 *
 * The tokenizer is pure: it reads p[0..len) (the caller's buffer) and
 * never allocates per field. Field text points into p, or into the
 * tokenizer's scratch buffer when it had to be unescaped; both stay valid
 * until the next call. */
#ifndef PD_CSV_H
#define PD_CSV_H

#include "pd_internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>

/* Bits of the 64 bytes at p equal to a, b or c (three masks, one load per
 * 16 bytes): the block scans of the record tokenizer and of fast rows. */
static inline void pd__dsv_masks64(const char *p, __m128i a, __m128i b, __m128i c, uint64_t *ma, uint64_t *mb,
                                   uint64_t *mc) {
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
#endif

typedef struct pd__field {
  const char *p;  /* text, not NUL-terminated */
  size_t len;
  size_t raw;     /* offset of the field's first byte (its quote, if quoted) from the record start */
  size_t soff;    /* private: scratch offset while the record is read */
} pd__field;

typedef enum pd__rec {
  PD__REC_OK = 0,    /* a record: fields f[0..n) */
  PD__REC_BLANK,     /* an empty line (skip it) */
  PD__REC_MORE,      /* the record continues past len: supply more bytes */
  PD__REC_ERROR,     /* malformed: see err, err_off; `used` skips to the end of the bad line */
  PD__REC_NOMEM      /* out of memory */
} pd__rec;

typedef struct pd__dsv {
  char delim;         /* ',' or '\t' */
  bool quoting;       /* CSV quotes */
  bool escapes;       /* TSV backslash escapes */
  pd__field *f;
  size_t n, cap;
  char *scratch;
  size_t scratch_len, scratch_cap;
  size_t used;        /* bytes of p consumed by the record, line end included */
  size_t lines;       /* line breaks consumed */
  size_t err_off;     /* error position from the record start */
  char err[200];      /* "expected ..., got ..." */
  unsigned char cls[256]; /* bytes that stop the fast scan */
} pd__dsv;

void pd__dsv_init(pd__dsv *t, bool tsv);
void pd__dsv_free(pd__dsv *t);

/* Reads the next record from p[0..len), len > 0. eof: nothing follows
 * p[len-1], so a final record without a line break ends there. Sets
 * t->used and t->lines for OK, BLANK and ERROR. Returns PD__REC_MORE when
 * it cannot finish (never when eof). */
pd__rec pd__dsv_next(pd__dsv *t, const char *p, size_t len, bool eof);

/* Line (0-based, relative to the record's first line) and 1-based
 * character column (UTF-8 code points) of byte `off` of a record. */
void pd__text_position(const char *rec, size_t off, size_t *line, size_t *col);

#endif
