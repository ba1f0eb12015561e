/* Sequential memory read bandwidth of this machine, all cores: each thread
 * sums its contiguous share of a large buffer (several independent
 * accumulators, so the loop is bound by memory, not by additions).
 * Usage: membw [MiB] [threads] [repeats]; prints "membw_gbps <best GB/s>". */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct job {
  const uint64_t *p;
  size_t n;
  uint64_t sum;
} job;

static void *reader(void *arg) {
  job *j = arg;
  uint64_t a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0;
  for (size_t i = 0; i + 8 <= j->n; i += 8) {
    a += j->p[i];
    b += j->p[i + 1];
    c += j->p[i + 2];
    d += j->p[i + 3];
    e += j->p[i + 4];
    f += j->p[i + 5];
    g += j->p[i + 6];
    h += j->p[i + 7];
  }
  j->sum = a + b + c + d + e + f + g + h;
  return NULL;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 1024;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  int threads = argc > 2 ? atoi(argv[2]) : (int)(cores > 0 ? cores : 1), repeats = argc > 3 ? atoi(argv[3]) : 5;
  if (threads < 1 || threads > 256 || mib < 16 || repeats < 1) {
    fprintf(stderr, "usage: membw [MiB>=16] [threads] [repeats]\n");
    return 2;
  }
  size_t words = mib * 1024 * 1024 / 8;
  uint64_t *buf = malloc(words * 8);
  if (!buf) {
    fprintf(stderr, "membw: cannot allocate %zu MiB\n", mib);
    return 1;
  }
  for (size_t i = 0; i < words; i++) buf[i] = i; /* fault every page in first */
  double best = 0;
  uint64_t check = 0;
  for (int r = 0; r < repeats; r++) {
    pthread_t t[256];
    job j[256];
    double t0 = now();
    for (int i = 0; i < threads; i++) {
      size_t lo = words / (size_t)threads * (size_t)i, hi = i + 1 == threads ? words : words / (size_t)threads * (size_t)(i + 1);
      j[i] = (job){buf + lo, hi - lo, 0};
      if (pthread_create(&t[i], NULL, reader, &j[i]) != 0) {
        fprintf(stderr, "membw: pthread_create failed\n");
        return 1;
      }
    }
    for (int i = 0; i < threads; i++) {
      pthread_join(t[i], NULL);
      check += j[i].sum;
    }
    double gbps = (double)words * 8 / (now() - t0) / 1e9;
    if (gbps > best) best = gbps;
  }
  printf("membw_gbps %.2f\nmembw_threads %d\nmembw_mib %zu\nmembw_check %llu\n", best, threads, mib,
         (unsigned long long)(check & 0xffff));
  free(buf);
  return 0;
}
