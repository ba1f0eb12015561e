/* Sealed segment files: layout, checksums, mapping. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "crc32.h"
#include "fileio.h"
#include "format.h"
#include "segment.h"
#include "wal.h"

/* Header layout (little-endian), PD_SEG_HEADER_SIZE bytes:
 *   0 magic[8]  8 u32 version  12 u32 flags  16 u64 generation
 *  24 u64 n_events  32 u32 n_users  36 u32 reserved  40 u64 n_merges
 *  48 i64 min_time  56 i64 max_time
 *  64 sections[PD_SEC_COUNT]: u64 offset, u64 length   (64 + 16*8 = 192)
 * 192 u32 crc of the PD_SEC_CRCS section  196..251 zero
 * 252 u32 crc of bytes 0..251 */
#define H_SECTIONS 64
#define H_CRCS_CRC 192
#define H_CRC 252

char *pd__segment_path(const char *dir, uint64_t generation) {
  char name[48];
  snprintf(name, sizeof name, "seg-%06llu.pds", (unsigned long long)generation);
  return pd__path_join(dir, name);
}

static uint64_t align_up(uint64_t v) { return (v + PD_SEG_ALIGN - 1) & ~(uint64_t)(PD_SEG_ALIGN - 1); }

static const char *const section_names[PD_SEC_COUNT] = {"dictionary", "user index", "time", "type",
                                                        "touchpoint", "referrer", "amount", "checksums"};

void pd__segment_close(pd__segment *s) {
  if (s->map) munmap(s->map, s->map_len);
  free(s->path);
  memset(s, 0, sizeof *s);
}

static const char *section_at(const unsigned char *h, uint64_t off) {
  for (int i = 0; i < PD_SEC_COUNT; i++) {
    uint64_t so = pd__get_u64(h + H_SECTIONS + 16 * i), sl = pd__get_u64(h + H_SECTIONS + 16 * i + 8);
    if (off >= so && off < so + sl) return section_names[i];
  }
  return "padding";
}

/* What a pass over the chunks learns of the event columns on the way, per
 * thread: the time column's bounds and the largest type, touchpoint + 1
 * and referrer + 1 (PD_NONE + 1 wraps to 0: "none" is never too large). */
typedef struct column_stats {
  const uint64_t *off, *len; /* sections */
  int64_t lo[PD_CRC_MAX_THREADS], hi[PD_CRC_MAX_THREADS];
  uint32_t type[PD_CRC_MAX_THREADS], tp1[PD_CRC_MAX_THREADS], ref1[PD_CRC_MAX_THREADS];
} column_stats;

static void column_stats_init(column_stats *cs, const uint64_t *off, const uint64_t *len) {
  memset(cs, 0, sizeof *cs);
  cs->off = off;
  cs->len = len;
  for (int t = 0; t < PD_CRC_MAX_THREADS; t++) {
    cs->lo[t] = INT64_MAX;
    cs->hi[t] = INT64_MIN;
  }
}

/* The bytes [*a, *b) of a chunk at file offset `at` that belong to section sec. */
static bool in_section(const column_stats *cs, int sec, uint64_t at, size_t n, size_t *a, size_t *b) {
  uint64_t from = cs->off[sec] > at ? cs->off[sec] : at, to = cs->off[sec] + cs->len[sec];
  if (to > at + n) to = at + n;
  if (from >= to) return false;
  *a = (size_t)(from - at);
  *b = (size_t)(to - at);
  return true;
}

/* Sections start at multiples of 64 and chunks at the dictionary's offset
 * plus multiples of 1 MiB, so no element straddles two chunks. */
static inline __attribute__((always_inline)) void column_stats_body(void *ctx, unsigned t, uint64_t at, const unsigned char *p, size_t n) {
  column_stats *cs = ctx;
  size_t a, b;
  if (in_section(cs, PD_SEC_TIME, at, n, &a, &b)) {
    int64_t lo = cs->lo[t], hi = cs->hi[t];
    for (size_t i = a; i + 8 <= b; i += 8) {
      int64_t v;
      memcpy(&v, p + i, 8);
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    cs->lo[t] = lo;
    cs->hi[t] = hi;
  }
  if (in_section(cs, PD_SEC_TYPE, at, n, &a, &b)) {
    uint32_t m = cs->type[t];
    for (size_t i = a; i + 2 <= b; i += 2) {
      uint16_t v;
      memcpy(&v, p + i, 2);
      m = v > m ? v : m;
    }
    cs->type[t] = m;
  }
  const int ids[2] = {PD_SEC_TP, PD_SEC_REF};
  uint32_t *max1[2] = {&cs->tp1[t], &cs->ref1[t]};
  for (int k = 0; k < 2; k++) {
    if (!in_section(cs, ids[k], at, n, &a, &b)) continue;
    uint32_t m = *max1[k];
    for (size_t i = a; i + 4 <= b; i += 4) {
      uint32_t v;
      memcpy(&v, p + i, 4);
      v += 1;
      m = v > m ? v : m;
    }
    *max1[k] = m;
  }
}

/* The same loops compiled for AVX2 (unsigned 16/32-bit max, 64-bit compare
 * in vectors: four times faster), chosen at run time. Not an ifunc: a
 * resolver runs before sanitizer runtimes are set up. */
__attribute__((target("avx2"))) static void column_stats_avx2(void *ctx, unsigned t, uint64_t at, const unsigned char *p, size_t n) {
  column_stats_body(ctx, t, at, p, n);
}

static void column_stats_base(void *ctx, unsigned t, uint64_t at, const unsigned char *p, size_t n) {
  column_stats_body(ctx, t, at, p, n);
}

static void column_stats_chunk(void *ctx, unsigned t, uint64_t at, const unsigned char *p, size_t n) {
  static atomic_int avx2 = -1; /* threads may race to compute it: the same value */
  int v = atomic_load_explicit(&avx2, memory_order_relaxed);
  if (v < 0) {
    __builtin_cpu_init();
    v = __builtin_cpu_supports("avx2") != 0;
    atomic_store_explicit(&avx2, v, memory_order_relaxed);
  }
  (v ? column_stats_avx2 : column_stats_base)(ctx, t, at, p, n);
}

/* Over all threads: lo/hi of the time column, the largest type, tp + 1, ref + 1. */
static void column_stats_sum(const column_stats *cs, int64_t *lo, int64_t *hi, uint32_t *type, uint32_t *tp1, uint32_t *ref1) {
  *lo = INT64_MAX;
  *hi = INT64_MIN;
  *type = *tp1 = *ref1 = 0;
  for (int t = 0; t < PD_CRC_MAX_THREADS; t++) {
    *lo = cs->lo[t] < *lo ? cs->lo[t] : *lo;
    *hi = cs->hi[t] > *hi ? cs->hi[t] : *hi;
    *type = cs->type[t] > *type ? cs->type[t] : *type;
    *tp1 = cs->tp1[t] > *tp1 ? cs->tp1[t] : *tp1;
    *ref1 = cs->ref1[t] > *ref1 ? cs->ref1[t] : *ref1;
  }
}

pd_status pd__segment_open(const char *dir, uint64_t generation, pd__dict *d, pd__segment *out) {
  memset(out, 0, sizeof *out);
  out->path = pd__segment_path(dir, generation);
  if (!out->path) return pd__error(PD_ERR_NOMEM, "out of memory");
  pd_status st = PD_OK;
  column_stats stats;
  int fd = open(out->path, O_RDONLY | O_CLOEXEC);
  struct stat sb;
  if (fd < 0 || fstat(fd, &sb) != 0) {
    st = pd__error(errno == ENOENT ? PD_ERR_NOT_FOUND : PD_ERR_IO, "open %s: %s", out->path, strerror(errno));
    goto fail;
  }
  if ((uint64_t)sb.st_size < PD_SEG_HEADER_SIZE) {
    st = pd__error(PD_ERR_CORRUPT, "%s: file of %lld bytes is shorter than a segment header", out->path, (long long)sb.st_size);
    goto fail;
  }
  out->map_len = (size_t)sb.st_size;
  /* Commands read most columns: map every page in one call rather than a
   * fault per few pages. The file stays open for the verification. */
  out->map = mmap(NULL, out->map_len, PROT_READ, MAP_SHARED | (d ? MAP_POPULATE : 0), fd, 0);
  if (out->map == MAP_FAILED) {
    out->map = NULL;
    st = pd__error(PD_ERR_IO, "mmap %s: %s", out->path, strerror(errno));
    goto fail;
  }
  const unsigned char *h = out->map;
  if (memcmp(h, PD_SEG_MAGIC, 8) != 0) {
    st = pd__error(PD_ERR_CORRUPT, "%s: not a libprivdomain segment (bad magic at offset 0)", out->path);
    goto fail;
  }
  if (pd__get_u32(h + H_CRC) != (uint32_t)crc32_z(0, h, H_CRC)) {
    st = pd__error(PD_ERR_CORRUPT, "%s: header checksum mismatch (bytes 0..%d)", out->path, H_CRC + 3);
    goto fail;
  }
  if (pd__get_u32(h + 8) > PD_FORMAT_VERSION) {
    st = pd__error(PD_ERR_VERSION, "%s: segment format version %u is newer than this library's %u", out->path,
                   pd__get_u32(h + 8), PD_FORMAT_VERSION);
    goto fail;
  }
  out->generation = pd__get_u64(h + 16);
  out->n_events = pd__get_u64(h + 24);
  out->n_users = pd__get_u32(h + 32);
  out->n_merges = pd__get_u64(h + 40);
  out->min_time = (int64_t)pd__get_u64(h + 48);
  out->max_time = (int64_t)pd__get_u64(h + 56);
  /* Every section must lie inside the file, aligned, in order, with the
   * size its counts imply: a header that lies is corruption, never an
   * overread. In order, the event columns lie inside the checksummed data. */
  const uint64_t elem[PD_SEC_COUNT] = {1, 8, 8, 2, 4, 4, 8, 4};
  uint64_t off[PD_SEC_COUNT], len[PD_SEC_COUNT];
  for (int i = 0; i < PD_SEC_COUNT; i++) {
    off[i] = pd__get_u64(h + H_SECTIONS + 16 * i);
    len[i] = pd__get_u64(h + H_SECTIONS + 16 * i + 8);
    uint64_t count = i == PD_SEC_USER_OFF ? (uint64_t)out->n_users + 1 : out->n_events;
    bool sized = i == PD_SEC_DICT || i == PD_SEC_CRCS || (count <= UINT64_MAX / elem[i] && len[i] == count * elem[i]);
    bool after = i == 0 || off[i] >= off[i - 1] + len[i - 1];
    if (off[i] % PD_SEG_ALIGN || off[i] < PD_SEG_HEADER_SIZE || off[i] > out->map_len || len[i] > out->map_len - off[i] || !sized ||
        !after) {
      st = pd__error(PD_ERR_CORRUPT, "%s: %s section out of bounds (offset %llu, length %llu)", out->path,
                     section_names[i], (unsigned long long)off[i], (unsigned long long)len[i]);
      goto fail;
    }
  }
  /* Chunk checksums cover the file from the dictionary section on. */
  const unsigned char *crcs = out->map + off[PD_SEC_CRCS];
  uint64_t data_start = off[PD_SEC_DICT], data_end = off[PD_SEC_CRCS];
  uint64_t chunks = (data_end - data_start + PD_SEG_CHUNK - 1) / PD_SEG_CHUNK;
  if (len[PD_SEC_CRCS] != chunks * 4) { /* (in order: data_end >= data_start) */
    st = pd__error(PD_ERR_CORRUPT, "%s: checksum table of %llu bytes does not match the data", out->path,
                   (unsigned long long)len[PD_SEC_CRCS]);
    goto fail;
  }
  if (pd__get_u32(h + H_CRCS_CRC) != (uint32_t)crc32_z(0, crcs, len[PD_SEC_CRCS])) {
    st = pd__error(PD_ERR_CORRUPT, "%s: checksum table corrupt at offset %llu", out->path, (unsigned long long)off[PD_SEC_CRCS]);
    goto fail;
  }
  if (!d) goto columns; /* just written by this process: trusted */
  /* Every chunk, on all cores, read from the file rather than through the
   * mapping (see pd__crc_chunks_src), learning on the way what the event
   * columns refer to. */
  uint32_t *got = malloc((chunks ? chunks : 1) * sizeof *got);
  if (!got) {
    st = pd__error(PD_ERR_NOMEM, "out of memory");
    goto fail;
  }
  column_stats_init(&stats, off, len);
  pd__crc_chunks_src src = {.fd = fd, .start = data_start, .n = data_end - data_start, .chunk = PD_SEG_CHUNK,
                            .each = column_stats_chunk, .ctx = &stats};
  uint64_t bad_at = 0;
  int e = pd__crc32_chunks(&src, got, 0, &bad_at);
  if (e) {
    free(got);
    st = pd__error(e == ENOMEM ? PD_ERR_NOMEM : PD_ERR_IO, "read %s at offset %llu: %s", out->path, (unsigned long long)bad_at,
                   strerror(e));
    goto fail;
  }
  for (uint64_t c = 0; c < chunks; c++) {
    uint64_t from = data_start + c * PD_SEG_CHUNK, n = data_end - from < PD_SEG_CHUNK ? data_end - from : PD_SEG_CHUNK;
    if (got[c] != pd__get_u32(crcs + 4 * c)) {
      free(got);
      st = pd__error(PD_ERR_CORRUPT, "%s: checksum mismatch in bytes %llu..%llu (%s)", out->path, (unsigned long long)from,
                     (unsigned long long)(from + n - 1), section_at(h, from));
      goto fail;
    }
  }
  free(got);
columns:
  close(fd);
  fd = -1;
  out->user_off = (const uint64_t *)(out->map + off[PD_SEC_USER_OFF]);
  out->time = (const int64_t *)(out->map + off[PD_SEC_TIME]);
  out->type = (const uint16_t *)(out->map + off[PD_SEC_TYPE]);
  out->tp = (const uint32_t *)(out->map + off[PD_SEC_TP]);
  out->ref = (const uint32_t *)(out->map + off[PD_SEC_REF]);
  out->amount = (const int64_t *)(out->map + off[PD_SEC_AMOUNT]);
  if (!d) return PD_OK;
  /* The user index must be monotone and end at n_events; then no scan
   * can step outside the columns. */
  for (uint32_t u = 0; u < out->n_users; u++)
    if (out->user_off[u] > out->user_off[u + 1]) {
      st = pd__error(PD_ERR_CORRUPT, "%s: user index not sorted at user %u", out->path, u);
      goto fail;
    }
  if (out->user_off[0] != 0 || out->user_off[out->n_users] != out->n_events) {
    st = pd__error(PD_ERR_CORRUPT, "%s: user index does not cover the events", out->path);
    goto fail;
  }
  st = pd__dict_apply(d, out->map + off[PD_SEC_DICT], len[PD_SEC_DICT], NULL, NULL, out->path, off[PD_SEC_DICT]);
  if (st != PD_OK) goto fail;
  out->n_names = d->user_names.n + d->aliases.n;
  if (pd__dict_n_users(d) < out->n_users) {
    st = pd__error(PD_ERR_CORRUPT, "%s: index has %u users, dictionary %u", out->path, out->n_users, pd__dict_n_users(d));
    goto fail;
  }
  /* Compaction trusts this count to know whether the rows' users are
   * canonical: it must be the dictionary's. */
  if (d->n_merges != out->n_merges) {
    st = pd__error(PD_ERR_CORRUPT, "%s: header counts %llu merges, dictionary %zu", out->path, (unsigned long long)out->n_merges,
                   d->n_merges);
    goto fail;
  }
  /* Compaction rewrote merged users' events to their survivor. */
  for (uint32_t u = 0; d->n_merges && u < out->n_users; u++)
    if (out->user_off[u + 1] > out->user_off[u] && pd__dict_canonical(d, u) != u) {
      st = pd__error(PD_ERR_CORRUPT, "%s: events of user %u, merged into user %u", out->path, u, pd__dict_canonical(d, u));
      goto fail;
    }
  /* Event columns refer to users, types and touchpoints by id: checked
   * once here so that no analysis ever indexes out of its tables. The pass
   * above found the largest ids; only a bad one costs a search for it. */
  int64_t lo, hi;
  uint32_t max_type, max_tp1, max_ref1;
  column_stats_sum(&stats, &lo, &hi, &max_type, &max_tp1, &max_ref1);
  bool refs_ok = out->n_events == 0 || (max_type < pd__dict_n_types(d) && max_tp1 <= pd__dict_n_tps(d) && max_ref1 <= pd__dict_n_users(d));
  for (uint64_t i = 0; !refs_ok && i < out->n_events; i++) {
    if (out->type[i] >= pd__dict_n_types(d) || (out->tp[i] != PD_NONE && out->tp[i] >= pd__dict_n_tps(d)) ||
        (out->ref[i] != PD_NONE && out->ref[i] >= pd__dict_n_users(d))) {
      st = pd__error(PD_ERR_CORRUPT, "%s: event %llu refers to an unknown type, touchpoint or user", out->path, (unsigned long long)i);
      goto fail;
    }
  }
  if (!refs_ok) { /* the file's bytes differ from what the pass read */
    st = pd__error(PD_ERR_CORRUPT, "%s: changed while it was verified", out->path);
    goto fail;
  }
  if (out->n_events && (lo != out->min_time || hi != out->max_time)) {
    st = pd__error(PD_ERR_CORRUPT, "%s: header's time range does not match the time column", out->path);
    goto fail;
  }
  return PD_OK;
fail:
  if (fd >= 0) close(fd);
  pd__segment_close(out);
  return st;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
typedef struct populate_job {
  unsigned char *p;
  size_t n;
} populate_job;

static void *populate_part(void *arg) {
  populate_job *j = arg;
  madvise(j->p, j->n, MADV_POPULATE_WRITE); /* a hint: where it fails, pages fault in as written */
  return NULL;
}

/* Faults the whole mapping in, writable, in two halves on two threads: one
 * call per half instead of a trap per page while compaction fills it. */
void pd__segment_populate(const pd__segment_writer *w) {
  if (!w->in_place) return;
  unsigned char *p = w->map;
  size_t n = w->map_len;
  size_t half = (n / 2) & ~(size_t)4095;
  populate_job a = {p, half}, b = {p + half, n - half};
  pthread_t t;
  bool started = half && pthread_create(&t, NULL, populate_part, &b) == 0;
  populate_part(&a);
  if (started) pthread_join(t, NULL);
  else populate_part(&b);
}

bool pd__segment_no_reserve;

pd_status pd__segment_create(const char *dir, uint64_t generation, uint64_t n_events, uint32_t n_users,
                             const pd__buf *dict_records, pd__segment_writer *out) {
  memset(out, 0, sizeof *out);
  out->fd = -1;
  out->generation = generation;
  out->n_events = n_events;
  out->n_users = n_users;
  out->path = pd__segment_path(dir, generation);
  size_t plen = out->path ? strlen(out->path) : 0;
  out->tmp_path = out->path ? malloc(plen + 5) : NULL;
  if (!out->tmp_path) {
    pd__segment_abort(out);
    return pd__error(PD_ERR_NOMEM, "out of memory");
  }
  memcpy(out->tmp_path, out->path, plen);
  memcpy(out->tmp_path + plen, ".tmp", 5);
  const uint64_t sizes[PD_SEC_COUNT] = {dict_records->len, ((uint64_t)n_users + 1) * 8, n_events * 8, n_events * 2,
                                         n_events * 4, n_events * 4, n_events * 8, 0};
  uint64_t pos = PD_SEG_HEADER_SIZE;
  for (int i = 0; i < PD_SEC_CRCS; i++) {
    pos = align_up(pos);
    out->off[i] = pos;
    out->len[i] = sizes[i];
    pos += sizes[i];
  }
  pos = align_up(pos);
  uint64_t chunks = (pos - out->off[0] + PD_SEG_CHUNK - 1) / PD_SEG_CHUNK;
  out->off[PD_SEC_CRCS] = pos;
  out->len[PD_SEC_CRCS] = chunks * 4;
  out->map_len = (size_t)(pos + chunks * 4);
  /* The file is built in place: its blocks are reserved (so that running
   * out of space is an error here, never a signal later), then it is
   * mapped shared and compaction writes the columns straight into the page
   * cache, with no image in anonymous memory to zero and no copy to write
   * it out. Where the file system cannot reserve space, the file is built
   * in anonymous memory and written out in order when sealed. */
  out->fd = open(out->tmp_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pd_status st = PD_OK;
  int e = 0;
  if (out->fd < 0) {
    st = pd__error(PD_ERR_IO, "create %s: %s", out->tmp_path, strerror(errno));
  } else if ((e = pd__segment_no_reserve ? EOPNOTSUPP : fallocate(out->fd, 0, 0, (off_t)out->map_len) == 0 ? 0 : errno) == 0) {
    out->map = mmap(NULL, out->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, out->fd, 0);
    if (out->map == MAP_FAILED) {
      out->map = NULL;
      st = pd__error(PD_ERR_IO, "mmap %s (%zu bytes): %s", out->tmp_path, out->map_len, strerror(errno));
    } else {
      out->in_place = true;
    }
  } else if (e != EOPNOTSUPP && e != ENOSYS && e != EINVAL) {
    st = pd__error(PD_ERR_IO, "reserve %zu bytes for %s: %s", out->map_len, out->tmp_path, strerror(e));
  } else if ((out->map = mmap(NULL, out->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED) {
    out->map = NULL;
    st = pd__error(PD_ERR_NOMEM, "out of memory for a segment of %zu bytes", out->map_len);
  } else {
    madvise(out->map, out->map_len, MADV_HUGEPAGE);
  }
  if (st != PD_OK) {
    pd__segment_abort(out);
    return st;
  }
  if (dict_records->len) memcpy(out->map + out->off[PD_SEC_DICT], dict_records->p, dict_records->len);
  out->user_off = (uint64_t *)(out->map + out->off[PD_SEC_USER_OFF]);
  out->time = (int64_t *)(out->map + out->off[PD_SEC_TIME]);
  out->type = (uint16_t *)(out->map + out->off[PD_SEC_TYPE]);
  out->tp = (uint32_t *)(out->map + out->off[PD_SEC_TP]);
  out->ref = (uint32_t *)(out->map + out->off[PD_SEC_REF]);
  out->amount = (int64_t *)(out->map + out->off[PD_SEC_AMOUNT]);
  return PD_OK;
}

static const int event_sections[5] = {PD_SEC_TIME, PD_SEC_TYPE, PD_SEC_TP, PD_SEC_REF, PD_SEC_AMOUNT};
static const uint64_t event_elem[5] = {8, 2, 4, 4, 8};

void pd__segment_populate_rows(const pd__segment_writer *w, uint64_t from, uint64_t to) {
  if (!w->in_place || to <= from) return;
  const uint64_t page = 4096;
  for (int i = 0; i < 5; i++) {
    uint64_t a = (w->off[event_sections[i]] + from * event_elem[i]) & ~(page - 1);
    uint64_t b = (w->off[event_sections[i]] + to * event_elem[i] + page - 1) & ~(page - 1);
    if (b > w->map_len) b = w->map_len;
    if (b > a) madvise(w->map + a, b - a, MADV_POPULATE_WRITE); /* a hint: where it fails, pages fault in as written */
  }
}

int pd__segment_read_rows(const pd__segment *g, int fd, uint64_t row, uint64_t n, unsigned char *buf, pd__seg_cols *out) {
  const void *col[5] = {g->time, g->type, g->tp, g->ref, g->amount};
  *out = pd__seg_cols_in(buf, n);
  void *to[5] = {out->time, out->type, out->tp, out->ref, out->amount};
  for (int i = 0; i < 5; i++) {
    uint64_t at = (uint64_t)((const unsigned char *)col[i] - g->map) + row * event_elem[i];
    int e = pd__pread_all(fd, to[i], n * event_elem[i], at);
    if (e) return e;
  }
  return 0;
}

int pd__segment_write_rows(const pd__segment_writer *w, uint64_t row, uint64_t n, const pd__seg_cols *src) {
  const void *from[5] = {src->time, src->type, src->tp, src->ref, src->amount};
  for (int i = 0; i < 5; i++) {
    const unsigned char *p = from[i];
    uint64_t at = w->off[event_sections[i]] + row * event_elem[i], len = n * event_elem[i];
    if (!w->in_place) {
      memcpy(w->map + at, p, len);
      continue;
    }
    int e = pd__pwrite_all(w->fd, p, len, at);
    if (e) return e;
  }
  return 0;
}

void pd__segment_flush_rows(const pd__segment_writer *w, uint64_t from, uint64_t to) {
#ifdef SYNC_FILE_RANGE_WRITE
  if (!w->in_place || to <= from) return;
  const uint64_t page = 4096;
  for (int i = 0; i < 5; i++) {
    /* Whole pages only: the page the rows end in goes with the next rows. */
    uint64_t a = (w->off[event_sections[i]] + from * event_elem[i]) & ~(page - 1);
    uint64_t b = (w->off[event_sections[i]] + to * event_elem[i]) & ~(page - 1);
    if (b <= a) continue;
    /* Unmap the pages first (they stay in the page cache, dirty): writeback
     * of a page mapped writable must write-protect it, one TLB shootdown
     * of the other core per page, where unmapping the range costs one. */
    madvise(w->map + a, b - a, MADV_DONTNEED);
    sync_file_range(w->fd, (off_t)a, (off_t)(b - a), SYNC_FILE_RANGE_WRITE);
  }
#else
  (void)w;
  (void)from;
  (void)to;
#endif
}

pd_status pd__segment_seal(pd__segment_writer *w, uint64_t n_merges) {
  unsigned char *h = w->map;
  memset(h, 0, PD_SEG_HEADER_SIZE);
  memcpy(h, PD_SEG_MAGIC, 8);
  pd__put_u32(h + 8, PD_FORMAT_VERSION);
  pd__put_u64(h + 16, w->generation);
  pd__put_u64(h + 24, w->n_events);
  pd__put_u32(h + 32, w->n_users);
  pd__put_u64(h + 40, n_merges);
  for (int i = 0; i < PD_SEC_COUNT; i++) {
    pd__put_u64(h + H_SECTIONS + 16 * i, w->off[i]);
    pd__put_u64(h + H_SECTIONS + 16 * i + 8, w->len[i]);
  }
  /* Checksums, and the time range on the way. In place, the filled pages
   * have been unmapped (pd__segment_flush_rows): read them from the file. */
  unsigned char *crcs = w->map + w->off[PD_SEC_CRCS];
  uint64_t data_start = w->off[0], data_end = w->off[PD_SEC_CRCS];
  uint64_t chunks = (data_end - data_start + PD_SEG_CHUNK - 1) / PD_SEG_CHUNK;
  uint32_t *sums = malloc((chunks ? chunks : 1) * sizeof *sums);
  if (!sums) {
    pd__segment_abort(w);
    return pd__error(PD_ERR_NOMEM, "out of memory");
  }
  column_stats stats;
  column_stats_init(&stats, w->off, w->len);
  pd__crc_chunks_src src = {.mem = w->in_place ? NULL : w->map, .fd = w->fd, .start = data_start, .n = data_end - data_start,
                            .chunk = PD_SEG_CHUNK, .each = column_stats_chunk, .ctx = &stats};
  uint64_t bad_at = 0;
  int e = pd__crc32_chunks(&src, sums, 0, &bad_at);
  if (e) {
    free(sums);
    pd_status st = pd__error(e == ENOMEM ? PD_ERR_NOMEM : PD_ERR_IO, "read %s at offset %llu: %s", w->tmp_path,
                             (unsigned long long)bad_at, strerror(e));
    pd__segment_abort(w);
    return st;
  }
  for (uint64_t c = 0; c < chunks; c++) pd__put_u32(crcs + 4 * c, sums[c]);
  free(sums);
  int64_t lo, hi;
  uint32_t max_type, max_tp1, max_ref1;
  column_stats_sum(&stats, &lo, &hi, &max_type, &max_tp1, &max_ref1);
  pd__put_u64(h + 48, (uint64_t)lo);
  pd__put_u64(h + 56, (uint64_t)hi);
  pd__put_u32(h + H_CRCS_CRC, (uint32_t)crc32_z(0, crcs, w->len[PD_SEC_CRCS]));
  pd__put_u32(h + H_CRC, (uint32_t)crc32_z(0, h, H_CRC));
  /* In place: the data is in the page cache already. Otherwise write in
   * large pieces, asking the kernel to start writing each to disk at once,
   * so that the device works while the rest is copied. */
  pd_status st = PD_OK;
  const size_t piece = 16u << 20;
  for (size_t off = 0; !w->in_place && off < w->map_len; off += piece) {
    size_t n = w->map_len - off < piece ? w->map_len - off : piece;
    int e = pd__pwrite_all(w->fd, w->map + off, n, off);
    if (e) {
      st = pd__error(PD_ERR_IO, "write %s at offset %zu: %s", w->tmp_path, off, strerror(e));
      break;
    }
#ifdef SYNC_FILE_RANGE_WRITE
    sync_file_range(w->fd, (off_t)off, (off_t)n, SYNC_FILE_RANGE_WRITE);
#endif
  }
  if (st == PD_OK && fsync(w->fd) != 0)
    st = pd__error(PD_ERR_IO, "sync %s: %s", w->tmp_path, strerror(errno));
  if (st == PD_OK && rename(w->tmp_path, w->path) != 0)
    st = pd__error(PD_ERR_IO, "rename %s: %s", w->tmp_path, strerror(errno));
  if (st == PD_OK) {
    free(w->tmp_path);
    w->tmp_path = NULL; /* nothing to unlink any more */
  }
  pd__segment_abort(w);
  return st;
}

void pd__segment_abort(pd__segment_writer *w) {
  if (w->map) munmap(w->map, w->map_len);
  if (w->fd >= 0) close(w->fd);
  if (w->tmp_path) unlink(w->tmp_path);
  free(w->tmp_path);
  free(w->path);
  memset(w, 0, sizeof *w);
  w->fd = -1;
}
