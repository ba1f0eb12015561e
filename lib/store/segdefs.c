/* Stored segment definitions: the SEGMENTS file of a store (docs/FORMAT.md).
 *
 * The file is small and read whole on every call, so every handle sees
 * the latest definitions without a refresh. Changes rewrite it under the
 * writer lock: SEGMENTS.tmp, fsync, rename, fsync of the directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "privdomain/segments.h"
#include "segdefs.h"
#include "format.h"
#include "store_internal.h"

#define SEGDEF_MAGIC "PDSEGDEF"
#define SEGDEF_HEADER 16
#define SEGDEF_MAX_FILE (64u << 20)

void pd__segdefs_free(pd__segdefs *d) {
  for (size_t i = 0; d && i < d->n; i++) {
    free(d->name[i]);
    free(d->expr[i]);
  }
  if (d) {
    free(d->name);
    free(d->expr);
    d->name = d->expr = NULL;
    d->n = 0;
  }
}

static char *dup_n(const unsigned char *p, size_t n) {
  char *s = malloc(n + 1);
  if (s) {
    memcpy(s, p, n);
    s[n] = '\0';
  }
  return s;
}

static pd_status add_def(pd__segdefs *d, char *name, char *expr) {
  char **nn = realloc(d->name, (d->n + 1) * sizeof *nn);
  if (nn) d->name = nn;
  char **ee = nn ? realloc(d->expr, (d->n + 1) * sizeof *ee) : NULL;
  if (ee) d->expr = ee;
  if (!name || !expr || !nn || !ee) {
    free(name);
    free(expr);
    return pd__error(PD_ERR_NOMEM, "out of memory");
  }
  d->name[d->n] = name;
  d->expr[d->n++] = expr;
  return PD_OK;
}

static pd_status corrupt(const char *path, const char *what, size_t off) {
  return pd__error(PD_ERR_CORRUPT, "%s: %s at offset %zu", path, what, off);
}

static pd_status parse(const char *path, const unsigned char *p, size_t len, pd__segdefs *d) {
  if (len < SEGDEF_HEADER + 4 || memcmp(p, SEGDEF_MAGIC, 8) != 0) return corrupt(path, "not a segments file (bad magic or size)", 0);
  uint32_t version = pd__get_u32(p + 8);
  if (version > PD_FORMAT_VERSION)
    return pd__error(PD_ERR_VERSION, "%s: format version %u is newer than this library's %d", path, version, PD_FORMAT_VERSION);
  if ((uint32_t)crc32_z(0, p, len - 4) != pd__get_u32(p + len - 4)) return corrupt(path, "checksum mismatch", len - 4);
  uint32_t n = pd__get_u32(p + 12);
  size_t pos = SEGDEF_HEADER, end = len - 4;
  for (uint32_t i = 0; i < n; i++) {
    if (end - pos < 2) return corrupt(path, "truncated definition", pos);
    size_t nl = pd__get_u16(p + pos);
    pos += 2;
    if (nl == 0 || end - pos < nl + 4) return corrupt(path, "bad name length", pos - 2);
    const unsigned char *name = p + pos;
    pos += nl;
    size_t el = pd__get_u32(p + pos);
    pos += 4;
    if (end - pos < el) return corrupt(path, "bad expression length", pos - 4);
    pd_status st = add_def(d, dup_n(name, nl), dup_n(p + pos, el));
    if (st != PD_OK) return st;
    pos += el;
  }
  if (pos != end) return corrupt(path, "trailing bytes", pos);
  return PD_OK;
}

pd_status pd__segdefs_read(const char *dir, pd__segdefs *d) {
  memset(d, 0, sizeof *d);
  char *path = pd__path_join(dir, "SEGMENTS");
  if (!path) return pd__error(PD_ERR_NOMEM, "out of memory");
  pd_status st = PD_OK;
  FILE *f = fopen(path, "rb");
  if (!f) {
    if (errno != ENOENT) st = pd__error(PD_ERR_IO, "open %s: %s", path, strerror(errno));
    free(path);
    return st; /* no file: no segments */
  }
  unsigned char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 4096;
      unsigned char *b = cap <= SEGDEF_MAX_FILE * 2 ? realloc(buf, cap) : NULL;
      if (!b) {
        st = cap > SEGDEF_MAX_FILE * 2 ? corrupt(path, "file too large", len) : pd__error(PD_ERR_NOMEM, "out of memory");
        break;
      }
      buf = b;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) {
      if (ferror(f)) st = pd__error(PD_ERR_IO, "read %s: %s", path, strerror(errno));
      break;
    }
  }
  fclose(f);
  if (st == PD_OK) st = parse(path, buf, len, d);
  if (st != PD_OK) pd__segdefs_free(d);
  free(buf);
  free(path);
  return st;
}

static pd_status write_all(const char *dir, const pd__segdefs *d) {
  pd__buf b = {0};
  size_t need = SEGDEF_HEADER + 4;
  for (size_t i = 0; i < d->n; i++) need += 6 + strlen(d->name[i]) + strlen(d->expr[i]);
  if (pd__buf_reserve(&b, need) != PD_OK) return pd__error(PD_ERR_NOMEM, "out of memory");
  unsigned char *p = b.p;
  memcpy(p, SEGDEF_MAGIC, 8);
  pd__put_u32(p + 8, PD_FORMAT_VERSION);
  pd__put_u32(p + 12, (uint32_t)d->n);
  size_t pos = SEGDEF_HEADER;
  for (size_t i = 0; i < d->n; i++) {
    size_t nl = strlen(d->name[i]), el = strlen(d->expr[i]);
    pd__put_u16(p + pos, (uint16_t)nl);
    memcpy(p + pos + 2, d->name[i], nl);
    pos += 2 + nl;
    pd__put_u32(p + pos, (uint32_t)el);
    memcpy(p + pos + 4, d->expr[i], el);
    pos += 4 + el;
  }
  pd__put_u32(p + pos, (uint32_t)crc32_z(0, p, pos));
  pos += 4;
  char *tmp = pd__path_join(dir, "SEGMENTS.tmp"), *path = pd__path_join(dir, "SEGMENTS");
  pd_status st = PD_OK;
  int fd = -1;
  if (!tmp || !path) st = pd__error(PD_ERR_NOMEM, "out of memory");
  else if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
    st = pd__error(PD_ERR_IO, "create %s: %s", tmp, strerror(errno));
  else {
    if (write(fd, p, pos) != (ssize_t)pos || fsync(fd) != 0) st = pd__error(PD_ERR_IO, "write %s: %s", tmp, strerror(errno));
    close(fd);
    if (st == PD_OK && rename(tmp, path) != 0) st = pd__error(PD_ERR_IO, "rename %s: %s", tmp, strerror(errno));
    if (st == PD_OK) st = pd__fsync_dir(dir);
  }
  free(tmp);
  free(path);
  pd__buf_free(&b);
  return st;
}

bool pd__segment_name_ok(const char *name) {
  size_t n = name ? strlen(name) : 0;
  if (n == 0 || n > PD_SEGMENT_NAME_MAX) return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)name[i];
    if (!(c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("_-.:/@#", c)))
      return false;
  }
  return true;
}

/* Changes the file under the writer lock: expr NULL drops `name`. */
static pd_status change(pd_store *s, const char *name, const char *expr) {
  if (s->read_only) return pd__error(PD_ERR_READONLY, "store %s was opened read-only", s->dir);
  int lock = -1;
  pd_status st = PD_OK;
  if (!s->writer && (st = pd__lock_acquire(s->dir, &lock)) != PD_OK) return st;
  pd__segdefs d;
  if ((st = pd__segdefs_read(s->dir, &d)) == PD_OK) {
    size_t i = 0;
    while (i < d.n && strcmp(d.name[i], name) < 0) i++;
    bool found = i < d.n && strcmp(d.name[i], name) == 0;
    if (!expr) {
      if (!found) st = pd__error(PD_ERR_NOT_FOUND, "no segment \"%s\"", name);
      else {
        free(d.name[i]);
        free(d.expr[i]);
        memmove(d.name + i, d.name + i + 1, (d.n - i - 1) * sizeof *d.name);
        memmove(d.expr + i, d.expr + i + 1, (d.n - i - 1) * sizeof *d.expr);
        d.n--;
      }
    } else if (found) {
      char *e = strdup(expr);
      if (!e) st = pd__error(PD_ERR_NOMEM, "out of memory");
      else {
        free(d.expr[i]);
        d.expr[i] = e;
      }
    } else if ((st = add_def(&d, strdup(name), strdup(expr))) == PD_OK) {
      /* keep the definitions sorted by name */
      char *nm = d.name[d.n - 1], *ex = d.expr[d.n - 1];
      memmove(d.name + i + 1, d.name + i, (d.n - 1 - i) * sizeof *d.name);
      memmove(d.expr + i + 1, d.expr + i, (d.n - 1 - i) * sizeof *d.expr);
      d.name[i] = nm;
      d.expr[i] = ex;
    }
    if (st == PD_OK) st = write_all(s->dir, &d);
    pd__segdefs_free(&d);
  }
  pd__lock_release(lock);
  return st;
}

pd_status pd_segment_define(pd_store *s, const char *name, const char *expr) {
  if (!s || !name || !expr) return pd__error(PD_ERR_INVALID, "pd_segment_define: NULL argument");
  if (!pd__segment_name_ok(name))
    return pd__error(PD_ERR_INVALID,
                     "segment name \"%.64s\": expected 1 to %d bytes of letters, digits, _ - . : / @ # or UTF-8 text",
                     name, PD_SEGMENT_NAME_MAX);
  if (strlen(expr) > 65535) return pd__error(PD_ERR_INVALID, "segment %s: expression longer than 65535 bytes", name);
  pd_status st = pd_segment_check(expr);
  if (st != PD_OK) {
    pd__error_prefix("segment %s", name);
    return st;
  }
  return change(s, name, expr);
}

pd_status pd_segment_drop(pd_store *s, const char *name) {
  if (!s || !name) return pd__error(PD_ERR_INVALID, "pd_segment_drop: NULL argument");
  return change(s, name, NULL);
}

pd_status pd_store_segments(pd_store *s, pd_table **out) {
  if (!s || !out) return pd__error(PD_ERR_INVALID, "pd_store_segments: NULL argument");
  pd__segdefs d;
  pd_status st = pd__segdefs_read(s->dir, &d);
  if (st != PD_OK) return st;
  pd_table *t = pd__table_new("segments");
  pd__table_add_col(t, "segment", PD_TYPE_STRING);
  pd__table_add_col(t, "expr", PD_TYPE_STRING);
  for (size_t i = 0; i < d.n; i++) {
    size_t r = pd__table_add_row(t);
    pd__table_set_string(t, r, 0, d.name[i]);
    pd__table_set_string(t, r, 1, d.expr[i]);
  }
  pd__segdefs_free(&d);
  return pd__table_finish(t, out);
}

pd_status pd__segdef_find(pd_store *s, const char *name, char **expr) {
  pd__segdefs d;
  pd_status st = pd__segdefs_read(s->dir, &d);
  if (st != PD_OK) return st;
  st = PD_ERR_NOT_FOUND;
  for (size_t i = 0; i < d.n; i++)
    if (strcmp(d.name[i], name) == 0) {
      *expr = d.expr[i];
      d.expr[i] = strdup("");
      st = PD_OK;
      break;
    }
  pd__segdefs_free(&d);
  return st;
}

pd_status pd_segment_get(pd_store *s, const char *name, char **expr) {
  if (!s || !name || !expr) return pd__error(PD_ERR_INVALID, "pd_segment_get: NULL argument");
  pd_status st = pd__segdef_find(s, name, expr);
  if (st == PD_ERR_NOT_FOUND) return pd__error(PD_ERR_NOT_FOUND, "no segment \"%s\"", name);
  return st;
}
