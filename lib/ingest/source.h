/* Buffered input for ingest (internal): a plain file read with read(2) in
 * large blocks, or a gzip file (detected by its magic bytes, not by the
 * name) decompressed through zlib. The parser works on the window
 * buf[start, end) and asks for more with pd__source_fill(). */
#ifndef PD_SOURCE_H
#define PD_SOURCE_H

#include "pd_internal.h"

#define PD__SOURCE_BLOCK ((size_t)1 << 20)       /* bytes per read */
#define PD__SOURCE_MAX_RECORD ((size_t)64 << 20) /* longest record we buffer */

typedef struct pd__source {
  const char *path;   /* borrowed, for messages */
  int fd;             /* plain file, or -1 */
  void *gz;           /* gzFile, or NULL */
  uint64_t file_size; /* on disk (compressed for gzip); 0 if unknown */
  char *buf;
  size_t cap, start, end;
  bool eof;           /* nothing more to read after buf[end] */
  uint64_t consumed;  /* stream bytes before buf[start] that were dropped */
} pd__source;

/* Opens path. On failure returns PD_ERR_IO / PD_ERR_NOMEM with a message and
 * leaves *s closed (safe to pass to pd__source_close). */
pd_status pd__source_open(pd__source *s, const char *path);
void pd__source_close(pd__source *s);

/* Moves the unread window to the front, doubles the buffer when the window
 * fills it (up to PD__SOURCE_MAX_RECORD: then PD_ERR_RANGE), and reads once.
 * After it returns PD_OK either more bytes are in the window or eof is set.
 * gzip errors (truncated or corrupt data) are PD_ERR_CORRUPT. */
pd_status pd__source_fill(pd__source *s);

/* Hands the buffer to the caller and continues in *buf (capacity *cap,
 * grown to the current capacity if smaller; may be NULL/0), where the
 * unread window moves. On return *buf and *cap are the old buffer, which
 * keeps its bytes: records already tokenized stay valid. PD_ERR_NOMEM. */
pd_status pd__source_swap(pd__source *s, char **buf, size_t *cap);

/* Bytes of the file on disk consumed so far (compressed for gzip). */
uint64_t pd__source_disk_done(const pd__source *s);
/* Bytes of the (decompressed) stream before buf[start]. */
static inline uint64_t pd__source_offset(const pd__source *s) { return s->consumed + s->start; }

#endif
