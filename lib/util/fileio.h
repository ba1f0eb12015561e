/* Whole reads and writes at an offset (internal): pread()/pwrite() retried
 * on EINTR and short counts. They return an errno value rather than set a
 * thread's last error, so worker threads can hand failures back. */
#ifndef PD_FILEIO_H
#define PD_FILEIO_H

#include <stddef.h>
#include <stdint.h>

/* Reads len bytes at off into p. Returns 0, or an errno (EIO: the file
 * ended first). */
int pd__pread_all(int fd, void *p, size_t len, uint64_t off);

/* Writes len bytes of p at off. Returns 0, or an errno (ENOSPC: the
 * system wrote nothing and gave no reason). */
int pd__pwrite_all(int fd, const void *p, size_t len, uint64_t off);

#endif
