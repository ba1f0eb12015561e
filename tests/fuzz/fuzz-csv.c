/* Fuzz target: the CSV/TSV tokenizer. The first byte picks CSV or TSV and
 * a chunk size; the rest is tokenized twice, all at once and fed in
 * growing chunks as the block reader does (so records are read both by the
 * 64-byte fast path and by the general one). Both must give the same records
 * and field offsets, every record must consume bytes within what it was
 * given, and every field must lie inside the input or the scratch buffer. */
#include <string.h>

#include "csv.h"
#include "fuzz.h"

/* Renders the records of in[0..len) into out (a hash would do, but text
 * is easier to read when it fails). Returns bytes written. */
static size_t run(const char *in, size_t len, bool tsv, size_t chunk, char *out, size_t cap) {
  pd__dsv t;
  pd__dsv_init(&t, tsv);
  size_t pos = 0, avail = 0, o = 0;
  while (pos < len) {
    size_t rest = len - pos;
    if (!chunk) avail = rest;
    else if (avail < rest) avail = avail + chunk < rest ? avail + chunk : rest;
    bool eof = avail == rest;
    pd__rec r = pd__dsv_next(&t, in + pos, avail, eof);
    FUZZ_CHECK(r != PD__REC_NOMEM);
    if (r == PD__REC_MORE) {
      FUZZ_CHECK(!eof);
      continue;
    }
    FUZZ_CHECK(t.used > 0 && t.used <= avail);
    size_t nl = 0;
    for (size_t i = 0; i < t.used; i++) nl += in[pos + i] == '\n';
    FUZZ_CHECK(t.lines == nl);
    if (o + 64 < cap) o += (size_t)snprintf(out + o, cap - o, "%d:%zu:%zu:", (int)r, t.used, t.lines);
    if (r == PD__REC_ERROR) {
      FUZZ_CHECK(t.err_off <= t.used);
      FUZZ_CHECK(strncmp(t.err, "expected ", 9) == 0);
    }
    if (r == PD__REC_OK) {
      FUZZ_CHECK(t.n >= 1);
      for (size_t i = 0; i < t.n; i++) {
        const pd__field *f = &t.f[i];
        bool in_input = f->p >= in + pos && f->p + f->len <= in + pos + t.used;
        bool in_scratch = t.scratch && f->p >= t.scratch && f->p + f->len <= t.scratch + t.scratch_len;
        FUZZ_CHECK(in_input || in_scratch);
        FUZZ_CHECK(f->raw < t.used || (f->raw == t.used && f->len == 0));
        if (o + f->len + 32 < cap) {
          o += (size_t)snprintf(out + o, cap - o, "%zu", f->raw); /* error columns come from raw */
          out[o++] = '[';
          memcpy(out + o, f->p, f->len);
          o += f->len;
          out[o++] = ']';
        }
      }
    }
    if (o + 1 < cap) out[o++] = '\n';
    pos += t.used;
    avail -= t.used;
  }
  pd__dsv_free(&t);
  return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 1 << 16) return 0;
  bool tsv = data[0] & 1;
  size_t chunk = 1 + (data[0] >> 1) % 17;
  const char *in = (const char *)data + 1;
  size_t len = size - 1;
  size_t cap = 4 * len + 4096;
  char *a = malloc(cap), *b = malloc(cap);
  FUZZ_CHECK(a && b);
  size_t na = run(in, len, tsv, 0, a, cap);
  size_t nb = run(in, len, tsv, chunk, b, cap);
  FUZZ_CHECK(na == nb && memcmp(a, b, na) == 0);
  free(a);
  free(b);
  return 0;
}
