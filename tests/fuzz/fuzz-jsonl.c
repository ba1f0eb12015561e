/* Fuzz target: the JSON Lines reader. Each line is parsed; on success the
 * default members are read as text, on failure the error offset must lie
 * in the line; the value locator never points outside the line. */
#include <string.h>

#include "fuzz.h"
#include "jsonl.h"

static const char *const names[] = {"ts", "user", "event", "touchpoint", "amount", "referrer"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 1 << 16) return 0;
  pd__jsonl *j = NULL;
  FUZZ_CHECK(pd__jsonl_new(&j) == PD_OK);
  const char *p = (const char *)data, *end = p + size;
  char err[256];
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    size_t off = 0;
    if (pd__jsonl_parse(j, p, len, err, sizeof err, &off)) {
      for (int r = 0; r < 6; r++) {
        const char *v = NULL;
        size_t vlen = 0;
        int got = pd__jsonl_get(j, names[r], r, &v, &vlen, err, sizeof err);
        FUZZ_CHECK(got >= -1 && got <= 1);
        if (got == 1) FUZZ_CHECK(v != NULL && strlen(v) >= vlen);
        if (got == -1) FUZZ_CHECK(strncmp(err, "expected ", 9) == 0);
      }
    } else {
      FUZZ_CHECK(off <= len);
      FUZZ_CHECK(strncmp(err, "expected ", 9) == 0);
    }
    for (int r = 0; r < 6; r++) FUZZ_CHECK(pd__jsonl_locate(p, len, names[r]) <= len);
    p += len + (nl ? 1 : 0);
  }
  pd__jsonl_free(j);
  return 0;
}
