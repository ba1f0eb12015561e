/* Sealed segments: immutable, columnar, sorted by (user, time, insertion),
 * memory-mapped read-only, checksummed per 1 MiB chunk. */
#ifndef PD_SEGMENT_H
#define PD_SEGMENT_H

#include "dict.h"

typedef struct pd__segment {
  char *path;
  unsigned char *map;
  size_t map_len;
  uint64_t generation;
  uint64_t n_events;
  uint32_t n_users;         /* users 0..n_users-1 have index entries */
  uint64_t n_merges;        /* dictionary merges already applied to its events */
  uint64_t n_names;         /* user names and aliases its dictionary defines */
  int64_t min_time, max_time;
  const uint64_t *user_off; /* events of user u: [user_off[u], user_off[u+1]) */
  const int64_t *time;
  const uint16_t *type;
  const uint32_t *tp;
  const uint32_t *ref;
  const int64_t *amount;
} pd__segment;

/* Maps seg-<generation>.pds, verifies every checksum (errors name the file
 * and byte offset) and loads its dictionary into d. With d NULL (a segment
 * this process has just written and synced, whose dictionary it holds) only
 * the header is checked. */
pd_status pd__segment_open(const char *dir, uint64_t generation, pd__dict *d, pd__segment *out);
void pd__segment_close(pd__segment *s);

/* Writing, used by compaction: create (the file with its space reserved,
 * mapped shared and zeroed; or, where space cannot be reserved, an image in
 * anonymous memory), fill the column pointers, then seal (checksums,
 * header, writes the image if any, syncs, renames into place). */
typedef struct pd__segment_writer {
  char *path, *tmp_path;
  int fd;
  unsigned char *map;
  size_t map_len;
  bool in_place;           /* map is the file itself (shared), not an image to write */
  uint64_t generation;
  uint64_t n_events;
  uint32_t n_users;
  uint64_t off[8], len[8]; /* per section */
  uint64_t *user_off;
  int64_t *time;
  uint16_t *type;
  uint32_t *tp, *ref;
  int64_t *amount;
} pd__segment_writer;

/* A new segment file of the given size, mapped for filling. Pages fault
 * in as they are written, or through the calls below. */
extern bool pd__segment_no_reserve; /* tests: act as if the file system could not reserve space */
pd_status pd__segment_create(const char *dir, uint64_t generation, uint64_t n_events, uint32_t n_users,
                             const pd__buf *dict_records, pd__segment_writer *out);
/* Faults in the whole file, writable, before filling it through the mapping. */
void pd__segment_populate(const pd__segment_writer *w);
/* Faults in, writable, the pages of rows [from, to) of every event column. */
void pd__segment_populate_rows(const pd__segment_writer *w, uint64_t from, uint64_t to);
/* Final rows [from, to) of every event column are written: start writing
 * them to disk now (in place only), so that the device works while the
 * rest is filled and the sync at the seal has less to wait for. Their
 * pages are unmapped (not dropped): a later access faults them back in. */
void pd__segment_flush_rows(const pd__segment_writer *w, uint64_t from, uint64_t to);
/* Rows of every event column, the segment's or a buffer's. */
typedef struct pd__seg_cols {
  int64_t *time;
  uint16_t *type;
  uint32_t *tp, *ref;
  int64_t *amount;
} pd__seg_cols;
#define PD__SEG_ROW_BYTES 26 /* bytes of one row over every event column */
/* The columns of m rows in one buffer of m * PD__SEG_ROW_BYTES bytes
 * (8-aligned): widest first, so each is aligned. */
static inline pd__seg_cols pd__seg_cols_in(unsigned char *buf, uint64_t m) {
  return (pd__seg_cols){(int64_t *)(void *)buf, (uint16_t *)(void *)(buf + 24 * m), (uint32_t *)(void *)(buf + 16 * m),
                        (uint32_t *)(void *)(buf + 20 * m), (int64_t *)(void *)(buf + 8 * m)};
}
/* Writes n rows, [0, n) of each column of src, as rows [row, row + n) of
 * the segment: with pwrite() in place (not through the mapping), into the
 * image otherwise. Returns 0 or the errno of the failed write. */
int pd__segment_write_rows(const pd__segment_writer *w, uint64_t row, uint64_t n, const pd__seg_cols *src);
/* Reads rows [row, row + n) of every event column of g from fd (g's file,
 * open for reading) with pread, not through g's mapping, into buf (room
 * for n * PD__SEG_ROW_BYTES bytes, 8-aligned); *out = pd__seg_cols_in(buf,
 * n). Returns 0 or the errno of the failed read (EIO if the file ends early). */
int pd__segment_read_rows(const pd__segment *g, int fd, uint64_t row, uint64_t n, unsigned char *buf, pd__seg_cols *out);
/* Writes checksums and header, syncs, renames into place. */
pd_status pd__segment_seal(pd__segment_writer *w, uint64_t n_merges);
void pd__segment_abort(pd__segment_writer *w);

char *pd__segment_path(const char *dir, uint64_t generation);

#endif
