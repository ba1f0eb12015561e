/* Fuzz target: the timestamp parser. Every line is parsed by a parser that
 * keeps its date cache across lines and by a fresh one, in UTC and in
 * Asia/Shanghai and Europe/Berlin: both must agree (the cache may never
 * change an answer), and a failure must leave a message "expected ...". */
#include <string.h>

#include "fuzz.h"
#include "timeparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const pd__tz *zones[3];
  static bool loaded;
  if (!loaded) {
    FUZZ_CHECK(pd__tz_cached("Asia/Shanghai", &zones[1]) == PD_OK);
    FUZZ_CHECK(pd__tz_cached("Europe/Berlin", &zones[2]) == PD_OK);
    loaded = true;
  }
  if (size > 1 << 14) return 0;
  pd__timeparse kept[3];
  for (int z = 0; z < 3; z++) pd__timeparse_init(&kept[z], zones[z]);
  const char *p = (const char *)data, *end = p + size;
  while (p <= end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    for (int z = 0; z < 3; z++) {
      pd__timeparse fresh;
      pd__timeparse_init(&fresh, zones[z]);
      int64_t a = 1, b = 2;
      pd_status sa = pd__timeparse_run(&kept[z], p, len, &a);
      pd_status sb = pd__timeparse_run(&fresh, p, len, &b);
      FUZZ_CHECK(sa == sb);
      if (sa == PD_OK) FUZZ_CHECK(a == b);
      else FUZZ_CHECK(strncmp(pd_last_error(), "expected ", 9) == 0);
    }
    if (!nl) break;
    p = nl + 1;
  }
  return 0;
}
