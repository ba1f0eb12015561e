/* Whole reads and writes at an offset. */
#include "fileio.h"

#include <errno.h>
#include <unistd.h>

int pd__pread_all(int fd, void *p, size_t len, uint64_t off) {
  unsigned char *c = p;
  while (len) {
    ssize_t k = pread(fd, c, len, (off_t)off);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return k < 0 ? errno : EIO;
    c += k;
    len -= (size_t)k;
    off += (uint64_t)k;
  }
  return 0;
}

int pd__pwrite_all(int fd, const void *p, size_t len, uint64_t off) {
  const unsigned char *c = p;
  while (len) {
    ssize_t k = pwrite(fd, c, len, (off_t)off);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return k < 0 ? errno : ENOSPC;
    c += k;
    len -= (size_t)k;
    off += (uint64_t)k;
  }
  return 0;
}
