/* CRC-32 as zlib's crc32_z() computes it (polynomial 0xEDB88320, reflected,
 * pre- and post-inverted), faster on large buffers: carry-less multiply
 * folding where the CPU has PCLMULQDQ (checked at run time), and both cores
 * for large buffers chunk by chunk through pd__crc32_chunks(). Internal. */
#ifndef PD_CRC32_H
#define PD_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Same result as crc32_z(crc, p, n); crc is the value so far (0 to start). */
uint32_t pd__crc32(uint32_t crc, const void *p, size_t n);

/* Where pd__crc32_chunks() reads: bytes [start, start + n) of mem, or, with
 * mem NULL, of the file fd, read with pread() through a buffer of one chunk
 * per thread. Reading a large file that way costs a copy; mapping it costs
 * a page fault per page, several times more on a VM with shadow page
 * tables, and leaves the pages mapped whether or not they are used later.
 * each, if set, also sees every chunk's bytes (at: their offset), on the
 * thread (0 .. threads-1) that read them. */
typedef struct pd__crc_chunks_src {
  const unsigned char *mem;
  int fd;
  uint64_t start, n;
  size_t chunk;
  void (*each)(void *ctx, unsigned thread, uint64_t at, const unsigned char *p, size_t n);
  void *ctx;
} pd__crc_chunks_src;

#define PD_CRC_MAX_THREADS 8

/* Per-chunk CRCs: out[i] = pd__crc32(0, chunk i) for chunks of src->chunk
 * bytes (the last may be shorter), on up to `threads` threads (0: all
 * cores when n is large, at most PD_CRC_MAX_THREADS). Returns 0, or the
 * errno of the first failed read (EIO for a file shorter than start + n,
 * ENOMEM without a buffer) with the offset of its chunk in *err_at; out is
 * then partial. */
int pd__crc32_chunks(const pd__crc_chunks_src *src, uint32_t *out, unsigned threads, uint64_t *err_at);

#endif
