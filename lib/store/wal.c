/* Write-ahead log: chained-CRC blocks, commit markers, torn-tail recovery. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "format.h"
#include "wal.h"
#include "crc32.h"
#include "fileio.h"

char *pd__path_join(const char *dir, const char *name) {
  size_t a = strlen(dir), b = strlen(name);
  char *p = malloc(a + b + 2);
  if (!p) return NULL;
  memcpy(p, dir, a);
  p[a] = '/';
  memcpy(p + a + 1, name, b + 1);
  return p;
}

pd_status pd__fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return pd__error(PD_ERR_IO, "open %s: %s", dir, strerror(errno));
  int rc = fsync(fd);
  close(fd);
  if (rc != 0) return pd__error(PD_ERR_IO, "fsync %s: %s", dir, strerror(errno));
  return PD_OK;
}

static char *wal_path(const char *dir, uint64_t generation) {
  char name[48];
  snprintf(name, sizeof name, "wal-%06llu.log", (unsigned long long)generation);
  return pd__path_join(dir, name);
}

static pd_status write_all(int fd, const void *p, size_t len, uint64_t off, const char *path) {
  int e = pd__pwrite_all(fd, p, len, off);
  return e ? pd__error(PD_ERR_IO, "write %s at offset %llu: %s", path, (unsigned long long)off, strerror(e)) : PD_OK;
}

static void encode_header(unsigned char h[PD_WAL_HEADER_SIZE], uint64_t generation, uint32_t salt) {
  memset(h, 0, PD_WAL_HEADER_SIZE);
  memcpy(h, PD_WAL_MAGIC, 8);
  pd__put_u32(h + 8, PD_FORMAT_VERSION);
  pd__put_u32(h + 12, salt);
  pd__put_u64(h + 16, generation);
  pd__put_u32(h + 28, (uint32_t)crc32_z(0, h, 28));
}

/* The CRC chain starts from the CRC of the header, which holds the salt:
 * blocks of an older log of the same name can never validate. */
static uint32_t chain_start(const unsigned char h[PD_WAL_HEADER_SIZE]) { return pd__get_u32(h + 28); }

static uint32_t random_salt(void) {
  uint32_t s = 0;
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (read(fd, &s, sizeof s) != (ssize_t)sizeof s) s = 0;
    close(fd);
  }
  return s ^ (uint32_t)getpid() ^ (uint32_t)time(NULL);
}

pd_status pd__wal_create(const char *dir, uint64_t generation, pd__wal *out) {
  memset(out, 0, sizeof *out);
  out->fd = -1;
  out->path = wal_path(dir, generation);
  if (!out->path) return pd__error(PD_ERR_NOMEM, "out of memory");
  int fd = open(out->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    pd_status st = pd__error(PD_ERR_IO, "create %s: %s", out->path, strerror(errno));
    pd__wal_close(out);
    return st;
  }
  out->fd = fd;
  unsigned char h[PD_WAL_HEADER_SIZE];
  out->salt = random_salt();
  out->generation = generation;
  encode_header(h, generation, out->salt);
  pd_status st = write_all(fd, h, sizeof h, 0, out->path);
  if (st == PD_OK && fsync(fd) != 0) st = pd__error(PD_ERR_IO, "fsync %s: %s", out->path, strerror(errno));
  if (st != PD_OK) {
    pd__wal_close(out);
    return st;
  }
  out->committed_end = out->end = PD_WAL_HEADER_SIZE;
  out->committed_crc = out->crc = chain_start(h);
  return PD_OK;
}

pd_status pd__wal_open(const char *dir, uint64_t generation, bool writable, pd__wal *out) {
  memset(out, 0, sizeof *out);
  out->fd = -1;
  out->path = wal_path(dir, generation);
  if (!out->path) return pd__error(PD_ERR_NOMEM, "out of memory");
  out->fd = open(out->path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (out->fd < 0) {
    pd_status st = pd__error(errno == ENOENT ? PD_ERR_NOT_FOUND : PD_ERR_IO, "open %s: %s", out->path, strerror(errno));
    pd__wal_close(out);
    return st;
  }
  unsigned char h[PD_WAL_HEADER_SIZE];
  ssize_t n = pread(out->fd, h, sizeof h, 0);
  pd_status st = PD_OK;
  if (n != (ssize_t)sizeof h || memcmp(h, PD_WAL_MAGIC, 8) != 0)
    st = pd__error(PD_ERR_CORRUPT, "%s: not a libprivdomain log (bad header at offset 0)", out->path);
  else if (pd__get_u32(h + 28) != (uint32_t)crc32_z(0, h, 28))
    st = pd__error(PD_ERR_CORRUPT, "%s: header checksum mismatch at offset 28", out->path);
  else if (pd__get_u32(h + 8) > PD_FORMAT_VERSION)
    st = pd__error(PD_ERR_VERSION, "%s: log format version %u is newer than this library's %u", out->path,
                   pd__get_u32(h + 8), PD_FORMAT_VERSION);
  else if (pd__get_u64(h + 16) != generation)
    st = pd__error(PD_ERR_CORRUPT, "%s: generation %llu, expected %llu", out->path,
                   (unsigned long long)pd__get_u64(h + 16), (unsigned long long)generation);
  if (st != PD_OK) {
    pd__wal_close(out);
    return st;
  }
  out->generation = generation;
  out->salt = pd__get_u32(h + 12);
  out->committed_end = out->end = PD_WAL_HEADER_SIZE;
  out->committed_crc = out->crc = chain_start(h);
  return PD_OK;
}

void pd__wal_close(pd__wal *w) {
  if (w->fd >= 0) close(w->fd);
  free(w->path);
  memset(w, 0, sizeof *w);
  w->fd = -1;
}

static uint32_t block_crc(uint32_t prev, const unsigned char *hdr, const unsigned char *payload, size_t len) {
  uint32_t c = (uint32_t)crc32_z(prev, hdr, 8);
  return pd__crc32(c, payload, len);
}

pd_status pd__wal_replay(pd__wal *w, pd__dict *d, pd__events_fn fn, void *ctx) {
  struct stat sb;
  if (fstat(w->fd, &sb) != 0) return pd__error(PD_ERR_IO, "stat %s: %s", w->path, strerror(errno));
  uint64_t size = (uint64_t)sb.st_size;
  if (size <= w->committed_end) {
    w->dropped_bytes = 0;
    return PD_OK;
  }
  /* Map the new part (from the page holding committed_end) read-only. */
  uint64_t map_from = w->committed_end & ~(uint64_t)(sysconf(_SC_PAGESIZE) - 1);
  size_t map_len = (size_t)(size - map_from);
  unsigned char *map = mmap(NULL, map_len, PROT_READ, MAP_PRIVATE, w->fd, (off_t)map_from);
  if (map == MAP_FAILED) return pd__error(PD_ERR_IO, "mmap %s: %s", w->path, strerror(errno));
  const unsigned char *base = map - map_from; /* base + file offset */

  /* Pass 1: find the last commit reachable through valid blocks. */
  uint64_t off = w->committed_end, last_commit = w->committed_end, commits = w->commits;
  uint32_t crc = w->committed_crc, commit_crc = w->committed_crc;
  while (size - off >= PD_BLOCK_HEADER_SIZE) {
    const unsigned char *h = base + off;
    uint32_t kind = pd__get_u32(h), len = pd__get_u32(h + 4);
    if ((kind != PD_BLOCK_DATA && kind != PD_BLOCK_COMMIT) || len > PD_BLOCK_MAX ||
        size - off - PD_BLOCK_HEADER_SIZE < len)
      break;
    uint32_t c = block_crc(crc, h, h + PD_BLOCK_HEADER_SIZE, len);
    if (c != pd__get_u32(h + 8)) break;
    crc = c;
    off += PD_BLOCK_HEADER_SIZE + len;
    if (kind == PD_BLOCK_COMMIT) {
      last_commit = off;
      commit_crc = crc;
      commits++;
    }
  }
  /* Pass 2: apply the DATA blocks of the committed part. */
  pd_status st = PD_OK;
  for (off = w->committed_end; st == PD_OK && off < last_commit;) {
    const unsigned char *h = base + off;
    uint32_t kind = pd__get_u32(h), len = pd__get_u32(h + 4);
    if (kind == PD_BLOCK_DATA)
      st = pd__dict_apply(d, h + PD_BLOCK_HEADER_SIZE, len, fn, ctx, w->path, off + PD_BLOCK_HEADER_SIZE);
    off += PD_BLOCK_HEADER_SIZE + len;
  }
  munmap(map, map_len);
  if (st != PD_OK) return st;
  w->dropped_bytes = size - last_commit;
  w->committed_end = w->end = last_commit;
  w->committed_crc = w->crc = commit_crc;
  w->commits = commits;
  return PD_OK;
}

pd_status pd__wal_append_block(pd__wal *w, uint32_t kind, const unsigned char *payload, size_t len) {
  if (len > PD_BLOCK_MAX) return pd__error(PD_ERR_RANGE, "log block of %zu bytes is too large", len);
  unsigned char h[PD_BLOCK_HEADER_SIZE];
  pd__put_u32(h, kind);
  pd__put_u32(h + 4, (uint32_t)len);
  uint32_t crc = block_crc(w->crc, h, payload, len);
  pd__put_u32(h + 8, crc);
  pd_status st = write_all(w->fd, h, sizeof h, w->end, w->path);
  if (st == PD_OK && len) st = write_all(w->fd, payload, len, w->end + sizeof h, w->path);
  if (st != PD_OK) return st;
  w->end += sizeof h + len;
  w->crc = crc;
  w->unsynced_bytes += sizeof h + len;
  return PD_OK;
}

pd_status pd__wal_sync(pd__wal *w) {
  if (fdatasync(w->fd) != 0) return pd__error(PD_ERR_IO, "fsync %s: %s", w->path, strerror(errno));
  w->unsynced_bytes = 0;
  return PD_OK;
}

pd_status pd__wal_commit(pd__wal *w, bool sync) {
  unsigned char payload[8];
  pd__put_u64(payload, w->commits + 1);
  pd_status st = pd__wal_append_block(w, PD_BLOCK_COMMIT, payload, sizeof payload);
  /* Durability by order: the commit block is published only together
   * with the data before it; a crash before fsync loses the whole batch. */
  if (st == PD_OK && sync) st = pd__wal_sync(w);
  if (st != PD_OK) return st;
  w->commits++;
  w->committed_end = w->end;
  w->committed_crc = w->crc;
  return PD_OK;
}

pd_status pd__wal_truncate_uncommitted(pd__wal *w) {
  if (ftruncate(w->fd, (off_t)w->committed_end) != 0)
    return pd__error(PD_ERR_IO, "truncate %s to %llu: %s", w->path, (unsigned long long)w->committed_end, strerror(errno));
  w->end = w->committed_end;
  w->crc = w->committed_crc;
  return PD_OK;
}
