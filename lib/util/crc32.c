/* CRC-32 (zlib's): carry-less multiply folding on x86-64 with PCLMULQDQ,
 * zlib for short inputs, tails and other CPUs.
 *
 * Folding (Gopal et al., "Fast CRC Computation for Generic Polynomials
 * Using PCLMULQDQ Instruction", Intel, 2009): four 128-bit lanes each
 * absorb the next 64 bytes by multiplying their two halves with x^(512+32)
 * and x^(512-32) mod P (bit-reflected), then the lanes fold into one with
 * the 128-bit constants, and a Barrett reduction gives the 32-bit
 * remainder. The constants below are those of the reflected polynomial
 * 0xEDB88320 given in that paper. */
#include "crc32.h"

#include "fileio.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PD_CRC_CLMUL 1
#include <immintrin.h>

__attribute__((target("pclmul,sse4.1"))) static uint32_t fold_clmul(uint32_t crc, const unsigned char *p, size_t n) {
  /* n >= 64, a multiple of 16; crc is the raw (inverted) register. */
  const __m128i k1k2 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);
  const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
  const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124);
  const __m128i poly = _mm_set_epi64x(0x1F7011641, 0x1DB710641); /* low: P, high: mu */
  const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);
  __m128i x0 = _mm_loadu_si128((const __m128i *)p), x1 = _mm_loadu_si128((const __m128i *)(p + 16));
  __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32)), x3 = _mm_loadu_si128((const __m128i *)(p + 48));
  x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)crc));
  p += 64;
  n -= 64;
#define FOLD(x, k, next) \
  _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), next)
  while (n >= 64) {
    x0 = FOLD(x0, k1k2, _mm_loadu_si128((const __m128i *)p));
    x1 = FOLD(x1, k1k2, _mm_loadu_si128((const __m128i *)(p + 16)));
    x2 = FOLD(x2, k1k2, _mm_loadu_si128((const __m128i *)(p + 32)));
    x3 = FOLD(x3, k1k2, _mm_loadu_si128((const __m128i *)(p + 48)));
    p += 64;
    n -= 64;
  }
  x0 = FOLD(x0, k3k4, x1);
  x0 = FOLD(x0, k3k4, x2);
  x0 = FOLD(x0, k3k4, x3);
  while (n >= 16) {
    x0 = FOLD(x0, k3k4, _mm_loadu_si128((const __m128i *)p));
    p += 16;
    n -= 16;
  }
#undef FOLD
  /* 128 -> 64 bits (appending 32 zero bits), then -> 32 bits. */
  x0 = _mm_xor_si128(_mm_clmulepi64_si128(x0, k3k4, 0x10), _mm_srli_si128(x0, 8));
  __m128i hi = _mm_srli_si128(x0, 4);
  x0 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x0, mask32), k5, 0x00), hi);
  /* Barrett reduction. */
  __m128i t = _mm_clmulepi64_si128(_mm_and_si128(x0, mask32), poly, 0x10);
  t = _mm_clmulepi64_si128(_mm_and_si128(t, mask32), poly, 0x00);
  return (uint32_t)_mm_extract_epi32(_mm_xor_si128(t, x0), 1);
}

static int have_clmul(void) {
  static atomic_int cached = -1; /* threads may race to compute it: the same value */
  int v = atomic_load_explicit(&cached, memory_order_relaxed);
  if (v < 0) {
    __builtin_cpu_init();
    v = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    atomic_store_explicit(&cached, v, memory_order_relaxed);
  }
  return v;
}
#endif

uint32_t pd__crc32(uint32_t crc, const void *data, size_t n) {
  const unsigned char *p = data;
#ifdef PD_CRC_CLMUL
  if (n >= 256 && have_clmul()) {
    size_t bulk = n & ~(size_t)15;
    crc = ~fold_clmul(~crc, p, bulk);
    p += bulk;
    n -= bulk;
  }
#endif
  return (uint32_t)crc32_z(crc, p, n);
}

typedef struct crc_job {
  const pd__crc_chunks_src *src;
  uint32_t *out;
  unsigned thread;
  size_t first, last; /* chunk range */
  int err;            /* errno of a failed read, 0 */
  uint64_t err_at;
} crc_job;

static void *crc_worker(void *arg) {
  crc_job *j = arg;
  const pd__crc_chunks_src *s = j->src;
  unsigned char *buf = NULL;
  if (!s->mem && j->first < j->last && !(buf = malloc(s->chunk))) {
    j->err = ENOMEM;
    j->err_at = s->start + j->first * s->chunk;
    return NULL;
  }
  for (size_t c = j->first; c < j->last && !j->err; c++) {
    uint64_t from = s->start + c * s->chunk, len = s->start + s->n - from < s->chunk ? s->start + s->n - from : s->chunk;
    const unsigned char *p = s->mem ? s->mem + from : buf;
    if (!s->mem && (j->err = pd__pread_all(s->fd, buf, len, from)) != 0) {
      j->err_at = from;
      break;
    }
    j->out[c] = pd__crc32(0, p, len);
    if (s->each) s->each(s->ctx, j->thread, from, p, len);
  }
  free(buf);
  return NULL;
}

int pd__crc32_chunks(const pd__crc_chunks_src *src, uint32_t *out, unsigned threads, uint64_t *err_at) {
  size_t chunks = (src->n + src->chunk - 1) / src->chunk;
  if (threads == 0) {
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    threads = c > 0 && src->n >= (4u << 20) ? (unsigned)c : 1; /* small: not worth a thread */
  }
  if (threads > PD_CRC_MAX_THREADS) threads = PD_CRC_MAX_THREADS;
  if (threads > chunks) threads = chunks ? (unsigned)chunks : 1;
  crc_job jobs[PD_CRC_MAX_THREADS];
  pthread_t t[PD_CRC_MAX_THREADS];
  bool started[PD_CRC_MAX_THREADS] = {false};
  for (unsigned i = 0; i < threads; i++)
    jobs[i] = (crc_job){src, out, i, chunks * i / threads, chunks * (i + 1) / threads, 0, 0};
  for (unsigned i = 1; i < threads; i++) started[i] = pthread_create(&t[i], NULL, crc_worker, &jobs[i]) == 0;
  crc_worker(&jobs[0]);
  for (unsigned i = 1; i < threads; i++) {
    if (started[i]) pthread_join(t[i], NULL);
    else crc_worker(&jobs[i]); /* no thread: do it here */
  }
  for (unsigned i = 0; i < threads; i++) /* the first failure in file order */
    if (jobs[i].err) {
      if (err_at) *err_at = jobs[i].err_at;
      return jobs[i].err;
    }
  return 0;
}
