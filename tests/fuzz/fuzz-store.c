/* Fuzz target for the on-disk reader: the input becomes a store's log or
 * sealed segment, which is then opened, scanned and summarised. The first
 * byte picks the mode; the "fixed" modes recompute the checksums so the
 * fuzzer gets past them into record and section parsing.
 *   0: log, bytes after the header as given      1: log, CRCs recomputed
 *   2: segment file as given                      3: segment, CRCs recomputed
 * Built as a libFuzzer target when clang is available, and always replayed
 * over tests/fuzz/corpus/store/ by fuzz-replay in the normal test run. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "privdomain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static uint32_t get32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const unsigned char *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static void write_file(const char *dir, const char *name, const void *p, size_t n) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f) abort();
  if (n && fwrite(p, 1, n, f) != n) abort();
  fclose(f);
}

static void write_manifest(const char *dir, uint64_t seg) {
  unsigned char m[48] = "PDMANIF";
  put32(m + 8, 1);
  put64(m + 16, 1);
  put64(m + 24, seg);
  put32(m + 44, (uint32_t)crc32_z(0, m, 44));
  write_file(dir, "MANIFEST", m, sizeof m);
}

static unsigned char *wal_header(uint32_t *chain) {
  static unsigned char h[32];
  memset(h, 0, sizeof h);
  memcpy(h, "PDWAL\0\0\0", 8);
  put32(h + 8, 1);
  put32(h + 12, 12345);
  put64(h + 16, 1);
  put32(h + 28, (uint32_t)crc32_z(0, h, 28));
  *chain = get32(h + 28);
  return h;
}

/* Log mode 1: the input is a sequence of (u32 kind, u32 len, payload)
 * blocks; lengths are clamped to the input and CRCs chained correctly. */
static size_t fixed_log(const uint8_t *data, size_t size, unsigned char *out) {
  uint32_t crc;
  memcpy(out, wal_header(&crc), 32);
  size_t o = 32, i = 0;
  while (size - i >= 8) {
    uint32_t kind = get32(data + i) % 3, len = get32(data + i + 4);
    i += 8;
    if (len > size - i) len = (uint32_t)(size - i);
    put32(out + o, kind ? kind : 1);
    put32(out + o + 4, len);
    memcpy(out + o + 12, data + i, len);
    crc = (uint32_t)crc32_z(crc32_z(crc, out + o, 8), out + o + 12, len);
    put32(out + o + 8, crc);
    o += 12 + len;
    i += len;
  }
  return o;
}

/* Segment mode 3: fix the chunk checksums and header CRC if the section
 * table leaves room for them. */
static void fix_segment(unsigned char *p, size_t n) {
  if (n < 256) return;
  memcpy(p, "PDSEG\0\0\0", 8);
  put32(p + 8, 1);
  uint64_t start = get64(p + 64), crcs = get64(p + 64 + 16 * 7), clen = get64(p + 64 + 16 * 7 + 8);
  if (start <= crcs && crcs <= n) {
    uint64_t chunks = (crcs - start + (1u << 20) - 1) >> 20;
    if (chunks * 4 == clen && clen <= n - crcs) {
      for (uint64_t c = 0; c < chunks; c++) {
        uint64_t from = start + (c << 20), len = crcs - from < (1u << 20) ? crcs - from : (1u << 20);
        put32(p + crcs + 4 * c, (uint32_t)crc32_z(0, p + from, len));
      }
      put32(p + 192, (uint32_t)crc32_z(0, p + crcs, clen));
    }
  }
  put32(p + 252, (uint32_t)crc32_z(0, p, 252));
}

static int touch(void *ctx, unsigned worker, const pd_user_events *ev) {
  (void)worker;
  uint64_t *sum = ctx;
  uint64_t s = 0;
  for (size_t i = 0; i < ev->n; i++)
    s += (uint64_t)ev->time[i] ^ ev->type[i] ^ ev->touchpoint[i] ^ ev->referrer[i] ^ (uint64_t)ev->amount[i];
  __atomic_add_fetch(sum, s, __ATOMIC_RELAXED);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int mode = data[0] & 3;
  data++;
  size--;
  char dir[] = "/tmp/pd-fuzz-store-XXXXXX";
  if (!mkdtemp(dir)) abort();
  uint32_t crc;
  unsigned char *buf = malloc(size + 64 + size / 8 * 4);
  if (!buf) abort();
  if (mode == 0) {
    memcpy(buf, wal_header(&crc), 32);
    memcpy(buf + 32, data, size);
    write_file(dir, "wal-000001.log", buf, size + 32);
    write_manifest(dir, 0);
  } else if (mode == 1) {
    write_file(dir, "wal-000001.log", buf, fixed_log(data, size, buf));
    write_manifest(dir, 0);
  } else {
    memcpy(buf, data, size);
    if (mode == 3) fix_segment(buf, size);
    write_file(dir, "seg-000001.pds", buf, size);
    write_file(dir, "wal-000001.log", wal_header(&crc), 32);
    write_manifest(dir, 1);
  }
  free(buf);
  pd_store *s = NULL;
  if (pd_store_open(&s, dir, NULL) == PD_OK) {
    uint64_t sum = 0;
    pd_scan(s, NULL, touch, &sum);
    pd_table *t = NULL;
    if (pd_store_info(s, &t) == PD_OK) pd_table_free(t);
    for (uint32_t u = 0; u < pd_store_n_users(s); u++) {
      const char *name = pd_store_user_name(s, u);
      uint32_t back;
      if (!name || pd_store_find_user(s, name, &back) != PD_OK) abort(); /* every name finds its user */
    }
    pd_store_close(s);
  }
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) abort();
  return 0;
}
