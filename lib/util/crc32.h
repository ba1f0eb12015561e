/* CRC-32 as zlib's crc32_z() computes it (polynomial 0xEDB88320, reflected,
 * pre- and post-inverted), faster on large buffers: carry-less multiply
 * folding where the CPU has PCLMULQDQ (checked at run time), and both cores
 * for very large buffers through pd__crc32_par(). Internal. */
#ifndef PD_CRC32_H
#define PD_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Same result as crc32_z(crc, p, n); crc is the value so far (0 to start). */
uint32_t pd__crc32(uint32_t crc, const void *p, size_t n);

/* Per-chunk CRCs of p[0..n): out[i] = pd__crc32(0, chunk i) for chunks of
 * `chunk` bytes (the last may be shorter), computed on up to `threads`
 * threads (0: all cores when n is large). */
void pd__crc32_chunks(const unsigned char *p, size_t n, size_t chunk, uint32_t *out, unsigned threads);

#endif
