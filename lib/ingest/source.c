/* Plain or gzip input in large blocks. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "source.h"

pd_status pd__source_open(pd__source *s, const char *path) {
  memset(s, 0, sizeof *s);
  s->fd = -1;
  s->path = path;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return pd__error(PD_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) s->file_size = (uint64_t)st.st_size;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    close(fd);
    return pd__error(PD_ERR_IO, "%s: is a directory", path);
  }
#ifdef POSIX_FADV_SEQUENTIAL
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  s->cap = 4 * PD__SOURCE_BLOCK;
  s->buf = malloc(s->cap + 1);
  if (!s->buf) {
    close(fd);
    return pd__error(PD_ERR_NOMEM, "%s: out of memory for the read buffer", path);
  }
  /* Sniff the gzip magic; a plain file keeps the bytes already read. */
  ssize_t n;
  do n = read(fd, s->buf, 2);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    int e = errno;
    pd__source_close(s);
    close(fd);
    return pd__error(PD_ERR_IO, "%s: read: %s", path, strerror(e));
  }
  if (n == 2 && (unsigned char)s->buf[0] == 0x1f && (unsigned char)s->buf[1] == 0x8b) {
    if (lseek(fd, 0, SEEK_SET) != 0) {
      int e = errno;
      pd__source_close(s);
      close(fd);
      return pd__error(PD_ERR_IO, "%s: cannot rewind to read gzip: %s", path, strerror(e));
    }
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
      pd__source_close(s);
      close(fd);
      return pd__error(PD_ERR_NOMEM, "%s: cannot start gzip decoding", path);
    }
    gzbuffer(gz, 256 * 1024);
    s->gz = gz;
  } else {
    s->fd = fd;
    s->end = (size_t)n;
    if (n == 0) s->eof = true;
  }
  return PD_OK;
}

void pd__source_close(pd__source *s) {
  if (s->gz) gzclose_r((gzFile)s->gz);
  if (s->fd >= 0) close(s->fd);
  free(s->buf);
  s->gz = NULL;
  s->fd = -1;
  s->buf = NULL;
}

uint64_t pd__source_disk_done(const pd__source *s) {
  if (s->gz) {
    z_off_t o = gzoffset((gzFile)s->gz);
    return o > 0 ? (uint64_t)o : 0;
  }
  return s->consumed + s->end;
}

pd_status pd__source_fill(pd__source *s) {
  if (s->eof) return PD_OK;
  if (s->start > 0) {
    memmove(s->buf, s->buf + s->start, s->end - s->start);
    s->consumed += s->start;
    s->end -= s->start;
    s->start = 0;
  }
  if (s->end == s->cap) {
    if (s->cap >= PD__SOURCE_MAX_RECORD)
      return pd__error(PD_ERR_RANGE, "expected records shorter than %zu MiB, got a longer one (an unclosed quote?)",
                       PD__SOURCE_MAX_RECORD >> 20);
    char *b = realloc(s->buf, s->cap * 2 + 1);
    if (!b) return pd__error(PD_ERR_NOMEM, "%s: out of memory growing the read buffer", s->path);
    s->buf = b;
    s->cap *= 2;
  }
  size_t want = s->cap - s->end;
  if (want > PD__SOURCE_BLOCK) want = PD__SOURCE_BLOCK;
  if (s->gz) {
    int n = gzread((gzFile)s->gz, s->buf + s->end, (unsigned)want);
    if (n < 0) {
      int zerr = 0;
      const char *msg = gzerror((gzFile)s->gz, &zerr);
      if (zerr == Z_ERRNO) return pd__error(PD_ERR_IO, "%s: read: %s", s->path, strerror(errno));
      return pd__error(PD_ERR_CORRUPT, "expected gzip data, got corrupt input (zlib: %s)", msg ? msg : "error");
    }
    if (n == 0) {
      /* zlib reports a stream cut short only as an error on close or via
       * gzerror; check it so a truncated .gz is not read as complete. */
      int zerr = 0;
      const char *msg = gzerror((gzFile)s->gz, &zerr);
      if (zerr != Z_OK && zerr != Z_STREAM_END)
        return pd__error(PD_ERR_CORRUPT, "expected more gzip data, got %s (zlib: %s)",
                         zerr == Z_BUF_ERROR ? "a truncated file" : "corrupt input", msg ? msg : "error");
      s->eof = true;
    }
    s->end += (size_t)n;
  } else {
    ssize_t n;
    do n = read(s->fd, s->buf + s->end, want);
    while (n < 0 && errno == EINTR);
    if (n < 0) return pd__error(PD_ERR_IO, "%s: read: %s", s->path, strerror(errno));
    if (n == 0) s->eof = true;
    s->end += (size_t)n;
  }
  return PD_OK;
}

pd_status pd__source_swap(pd__source *s, char **buf, size_t *cap) {
  char *spare = *buf;
  size_t spare_cap = *cap;
  if (spare_cap < s->cap) {
    char *b = realloc(spare, s->cap + 1);
    if (!b) return pd__error(PD_ERR_NOMEM, "%s: out of memory for read buffers", s->path);
    spare = b;
    spare_cap = s->cap;
  }
  size_t rest = s->end - s->start;
  memcpy(spare, s->buf + s->start, rest);
  *buf = s->buf;
  *cap = s->cap;
  s->buf = spare;
  s->cap = spare_cap;
  s->consumed += s->start;
  s->start = 0;
  s->end = rest;
  return PD_OK;
}
