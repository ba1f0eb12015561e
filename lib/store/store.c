/* pd_store: open, recovery, refresh, lookups and the info table. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "format.h"
#include "store_internal.h"
#include "tz.h"

/* ---- tail ------------------------------------------------------------- */

pd_status pd__tail_push(pd__tail *t, const pd_event *e) {
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 4096;
#define GROW(f)                                                 \
  do {                                                          \
    void *p = realloc(t->f, cap * sizeof *t->f);                \
    if (!p) return pd__error(PD_ERR_NOMEM, "out of memory");    \
    t->f = p;                                                   \
  } while (0)
    GROW(time); GROW(user); GROW(type); GROW(tp); GROW(ref); GROW(amount);
#undef GROW
    t->cap = cap;
  }
  size_t i = t->n++;
  t->time[i] = e->time_ms;
  t->user[i] = e->user;
  t->type[i] = (uint16_t)e->type;
  t->tp[i] = e->touchpoint;
  t->ref[i] = e->referrer;
  t->amount[i] = e->amount;
  return PD_OK;
}

static void tail_free(pd__tail *t) {
  free(t->time); free(t->user); free(t->type); free(t->tp); free(t->ref); free(t->amount);
  memset(t, 0, sizeof *t);
}

/* ---- manifest --------------------------------------------------------- */

pd_status pd__manifest_write(const char *dir, uint64_t generation, uint64_t seg_generation) {
  unsigned char m[PD_MANIFEST_SIZE] = {0};
  memcpy(m, PD_MANIFEST_MAGIC, 8);
  pd__put_u32(m + 8, PD_FORMAT_VERSION);
  pd__put_u64(m + 16, generation);
  pd__put_u64(m + 24, seg_generation);
  pd__put_u32(m + 44, (uint32_t)crc32_z(0, m, 44));
  char *tmp = pd__path_join(dir, "MANIFEST.tmp"), *path = pd__path_join(dir, "MANIFEST");
  pd_status st = PD_OK;
  if (!tmp || !path) {
    st = pd__error(PD_ERR_NOMEM, "out of memory");
    goto out;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    st = pd__error(PD_ERR_IO, "create %s: %s", tmp, strerror(errno));
    goto out;
  }
  if (write(fd, m, sizeof m) != (ssize_t)sizeof m || fsync(fd) != 0) st = pd__error(PD_ERR_IO, "write %s: %s", tmp, strerror(errno));
  close(fd);
  if (st == PD_OK && rename(tmp, path) != 0) st = pd__error(PD_ERR_IO, "rename %s: %s", tmp, strerror(errno));
  if (st == PD_OK) st = pd__fsync_dir(dir);
out:
  free(tmp);
  free(path);
  return st;
}

static pd_status manifest_read(const char *dir, uint64_t *generation, uint64_t *seg_generation) {
  char *path = pd__path_join(dir, "MANIFEST");
  if (!path) return pd__error(PD_ERR_NOMEM, "out of memory");
  unsigned char m[PD_MANIFEST_SIZE];
  pd_status st = PD_OK;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    st = pd__error(errno == ENOENT ? PD_ERR_NOT_FOUND : PD_ERR_IO, "open %s: %s", path, strerror(errno));
  } else {
    ssize_t n = read(fd, m, sizeof m);
    close(fd);
    if (n != (ssize_t)sizeof m || memcmp(m, PD_MANIFEST_MAGIC, 8) != 0)
      st = pd__error(PD_ERR_CORRUPT, "%s: not a libprivdomain manifest (offset 0)", path);
    else if (pd__get_u32(m + 44) != (uint32_t)crc32_z(0, m, 44))
      st = pd__error(PD_ERR_CORRUPT, "%s: checksum mismatch (offset 44)", path);
    else if (pd__get_u32(m + 8) > PD_FORMAT_VERSION)
      st = pd__error(PD_ERR_VERSION, "%s: store format version %u is newer than this library's %u", path,
                     pd__get_u32(m + 8), PD_FORMAT_VERSION);
    else {
      *generation = pd__get_u64(m + 16);
      *seg_generation = pd__get_u64(m + 24);
    }
  }
  free(path);
  return st;
}

/* ---- lock ------------------------------------------------------------- */

pd_status pd__lock_acquire(const char *dir, int *fd_out) {
  char *path = pd__path_join(dir, "LOCK");
  if (!path) return pd__error(PD_ERR_NOMEM, "out of memory");
  pd_status st = PD_OK;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) st = pd__error(PD_ERR_IO, "open %s: %s", path, strerror(errno));
  else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    st = errno == EWOULDBLOCK ? pd__error(PD_ERR_LOCKED, "store %s is being written by another writer (lock %s is held)", dir, path)
                              : pd__error(PD_ERR_IO, "lock %s: %s", path, strerror(errno));
    close(fd);
  }
  free(path);
  if (st == PD_OK) *fd_out = fd;
  return st;
}

void pd__lock_release(int fd) {
  if (fd >= 0) close(fd); /* closing the descriptor drops the flock */
}

/* ---- open / load ------------------------------------------------------ */

/* Replayed events must refer to what the dictionary already holds. */
static pd_status replay_events(void *ctx, const unsigned char *p, uint32_t n) {
  pd_store *s = ctx;
  for (uint32_t i = 0; i < n; i++) {
    pd_event e;
    pd__event_decode(p + (size_t)i * PD_EVENT_RECORD_SIZE, &e);
    if (e.user >= pd__dict_n_users(&s->dict) || e.type >= pd__dict_n_types(&s->dict) ||
        (e.touchpoint != PD_NONE && e.touchpoint >= pd__dict_n_tps(&s->dict)) ||
        (e.referrer != PD_NONE && e.referrer >= pd__dict_n_users(&s->dict)))
      return pd__error(PD_ERR_CORRUPT, "%s: event refers to an unknown user, type or touchpoint", s->wal.path);
    pd_status st = pd__tail_push(&s->tail, &e);
    if (st != PD_OK) return st;
  }
  return PD_OK;
}

void pd__store_unload(pd_store *s) {
  pd__wal_close(&s->wal);
  pd__segment_close(&s->seg);
  pd__dict_free(&s->dict);
  tail_free(&s->tail);
}

pd_status pd__store_load(pd_store *s) {
  /* A compaction in another process may replace the log between reading
   * the manifest and opening the log: then read the manifest again. */
  for (int attempt = 0;; attempt++) {
    pd_status st = manifest_read(s->dir, &s->generation, &s->seg_generation);
    if (st != PD_OK) return st;
    if ((st = pd__dict_init(&s->dict)) != PD_OK) return st;
    s->wal.fd = -1;
    if (s->seg_generation) st = pd__segment_open(s->dir, s->seg_generation, &s->dict, &s->seg);
    if (st == PD_OK) st = pd__wal_open(s->dir, s->generation, false, &s->wal);
    if (st == PD_OK) {
      st = pd__wal_replay(&s->wal, &s->dict, replay_events, s);
      if (st == PD_OK) {
        s->tail.n_committed = s->tail.n;
        s->recovered_bytes = s->wal.dropped_bytes;
        s->n_committed_merges = s->dict.n_merges;
        return PD_OK;
      }
    }
    pd__store_unload(s);
    if (st != PD_ERR_NOT_FOUND || attempt >= 20) return st;
    usleep(1000u << (attempt < 8 ? attempt : 8));
  }
}

pd_status pd__store_adopt(pd_store *s, uint64_t generation) {
  pd__segment seg;
  pd__wal wal;
  pd_status st = pd__segment_open(s->dir, generation, NULL, &seg);
  if (st != PD_OK) return st;
  if ((st = pd__wal_open(s->dir, generation, false, &wal)) != PD_OK) {
    pd__segment_close(&seg);
    return st;
  }
  pd__segment_close(&s->seg);
  pd__wal_close(&s->wal);
  tail_free(&s->tail);
  s->seg = seg;
  s->seg.n_names = s->dict.user_names.n + s->dict.aliases.n; /* the dictionary it was sealed with */
  s->wal = wal;
  s->generation = s->seg_generation = generation;
  s->recovered_bytes = 0;
  s->n_committed_merges = s->dict.n_merges;
  return PD_OK;
}

static pd_status create_store(const char *dir) {
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) return pd__error(PD_ERR_IO, "create directory %s: %s", dir, strerror(errno));
  int lock;
  pd_status st = pd__lock_acquire(dir, &lock);
  if (st != PD_OK) return st;
  uint64_t g, sg;
  if (manifest_read(dir, &g, &sg) == PD_ERR_NOT_FOUND) {
    pd__wal w;
    st = pd__wal_create(dir, 1, &w);
    if (st == PD_OK) {
      pd__wal_close(&w);
      st = pd__manifest_write(dir, 1, 0);
    }
  }
  pd__lock_release(lock);
  pd_clear_error();
  return st;
}

pd_status pd_store_open(pd_store **out, const char *path, const pd_store_options *opts) {
  if (!out || !path || !*path) return pd__error(PD_ERR_INVALID, "pd_store_open: NULL argument");
  *out = NULL;
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  if (opts) {
    if (opts->size < sizeof(size_t)) return pd__error(PD_ERR_INVALID, "pd_store_open: options size not set");
    memcpy(&o, opts, opts->size < sizeof o ? opts->size : sizeof o);
  }
  struct stat sb;
  if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    if (!o.create) return pd__error(PD_ERR_NOT_FOUND, "no store at %s (pass create to make one)", path);
  }
  char *mpath = pd__path_join(path, "MANIFEST");
  if (!mpath) return pd__error(PD_ERR_NOMEM, "out of memory");
  bool exists = access(mpath, F_OK) == 0;
  free(mpath);
  if (!exists) {
    if (!o.create) return pd__error(PD_ERR_NOT_FOUND, "%s is not a libprivdomain store (no MANIFEST)", path);
    if (o.read_only) return pd__error(PD_ERR_INVALID, "cannot create a store read-only");
    pd_status st = create_store(path);
    if (st != PD_OK) return st;
  }
  pd_store *s = calloc(1, sizeof *s);
  if (!s || !(s->dir = strdup(path))) {
    free(s);
    return pd__error(PD_ERR_NOMEM, "out of memory");
  }
  s->read_only = o.read_only != 0;
  s->durability = o.durability;
  s->wal.fd = -1;
  pd_status st = pd__store_load(s);
  if (st != PD_OK) {
    free(s->dir);
    free(s);
    return st;
  }
  *out = s;
  return PD_OK;
}

void pd_store_close(pd_store *s) {
  if (!s) return;
  if (s->writer) pd_writer_close(s->writer);
  pd__store_unload(s);
  free(s->dir);
  free(s);
}

pd_status pd_store_refresh(pd_store *s) {
  if (!s) return pd__error(PD_ERR_INVALID, "pd_store_refresh: NULL store");
  if (s->writer) return PD_OK; /* the writer's handle is always current */
  uint64_t g, sg;
  pd_status st = manifest_read(s->dir, &g, &sg);
  if (st != PD_OK) return st;
  if (g == s->generation) {
    /* A failure keeps the snapshot as it was (the log's read position does
     * not move either): nothing of the new part stays applied. */
    pd__dict_mark mark = pd__dict_mark_now(&s->dict);
    size_t tail_n = s->tail.n;
    st = pd__wal_replay(&s->wal, &s->dict, replay_events, s);
    if (st != PD_OK) {
      pd__dict_rollback(&s->dict, &mark);
      s->tail.n = tail_n;
      return st;
    }
    s->tail.n_committed = s->tail.n;
    s->n_committed_merges = s->dict.n_merges;
    return PD_OK;
  }
  /* Compacted meanwhile: load the new generation beside the old one and
   * swap, so a failure leaves the old snapshot intact. */
  pd_store fresh = {.dir = s->dir, .read_only = s->read_only, .durability = s->durability};
  fresh.wal.fd = -1;
  if ((st = pd__store_load(&fresh)) != PD_OK) return st;
  pd__store_unload(s);
  s->generation = fresh.generation;
  s->seg_generation = fresh.seg_generation;
  s->dict = fresh.dict;
  s->seg = fresh.seg;
  s->wal = fresh.wal;
  s->tail = fresh.tail;
  s->n_committed_merges = fresh.n_committed_merges;
  s->stale = false;
  return PD_OK;
}

pd_status pd__stale_error(const pd_store *s) {
  return pd__error(PD_ERR_INVALID, "store %s: this handle's compaction was committed but not loaded; close and reopen the store",
                   s->dir);
}

uint64_t pd_store_recovered_bytes(const pd_store *s) { return s ? s->recovered_bytes : 0; }

/* ---- lookups ---------------------------------------------------------- */

/* The committed dictionary sizes: a reader handle never sees a batch in
 * progress (ids from it are not yet valid outside the writer). */
uint32_t pd_store_n_users(const pd_store *s) { return s ? pd__dict_n_users(&s->dict) : 0; }
uint64_t pd_store_n_events(const pd_store *s) { return s ? s->seg.n_events + s->tail.n_committed : 0; }
uint32_t pd_store_n_touchpoints(const pd_store *s) { return s ? pd__dict_n_tps(&s->dict) : 0; }
uint32_t pd_store_n_event_types(const pd_store *s) { return s ? pd__dict_n_types(&s->dict) : 0; }

pd_status pd_store_find_user(const pd_store *cs, const char *external_id, uint32_t *out) {
  if (!cs || !external_id || !out) return pd__error(PD_ERR_INVALID, "pd_store_find_user: NULL argument");
  pd_store *s = (pd_store *)cs; /* the name map is built lazily: logically const */
  pd_status st = pd__dict_find_user(&s->dict, external_id, strlen(external_id), out);
  if (st == PD_ERR_NOT_FOUND) return pd__error(st, "no user \"%s\"", external_id);
  return st;
}

const char *pd_store_user_name(const pd_store *s, uint32_t user) {
  return s && user < pd__dict_n_users(&s->dict) ? pd__names_get(&s->dict.user_names, user) : NULL;
}

uint32_t pd_store_canonical_user(const pd_store *s, uint32_t user) {
  return s ? pd__dict_canonical(&s->dict, user) : user;
}

pd_status pd_store_find_touchpoint(const pd_store *s, const char *name, uint32_t *out) {
  if (!s || !name || !out) return pd__error(PD_ERR_INVALID, "pd_store_find_touchpoint: NULL argument");
  if (pd__dict_find_tp(&s->dict, name, strlen(name), out) != PD_OK) return pd__error(PD_ERR_NOT_FOUND, "no touchpoint \"%s\"", name);
  return PD_OK;
}

pd_status pd_store_touchpoint(const pd_store *s, uint32_t tp, pd_touchpoint_def *out) {
  if (!s || !out || out->size < sizeof(size_t)) return pd__error(PD_ERR_INVALID, "pd_store_touchpoint: bad argument");
  if (tp >= pd__dict_n_tps(&s->dict)) return pd__error(PD_ERR_NOT_FOUND, "no touchpoint %u", tp);
  pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
  d.name = pd__names_get(&s->dict.tp_names, tp);
  d.domain = (pd_domain)s->dict.tps[tp].domain;
  d.carrier = (pd_carrier)s->dict.tps[tp].carrier;
  d.daily_spend = s->dict.tps[tp].daily_spend;
  size_t n = out->size < sizeof d ? out->size : sizeof d;
  d.size = out->size;
  memcpy(out, &d, n);
  return PD_OK;
}

pd_status pd_store_find_event_type(const pd_store *s, const char *name, uint32_t *out) {
  if (!s || !name || !out) return pd__error(PD_ERR_INVALID, "pd_store_find_event_type: NULL argument");
  if (pd__dict_find_type(&s->dict, name, strlen(name), out) != PD_OK) return pd__error(PD_ERR_NOT_FOUND, "no event type \"%s\"", name);
  return PD_OK;
}

const char *pd_store_event_type_name(const pd_store *s, uint32_t type) {
  return s && type < pd__dict_n_types(&s->dict) ? pd__names_get(&s->dict.type_names, type) : NULL;
}

/* ---- info ------------------------------------------------------------- */

static void info_row(pd_table *t, const char *key, int64_t value, const char *detail) {
  size_t r = pd__table_add_row(t);
  pd__table_set_string(t, r, 0, key);
  pd__table_set_int64(t, r, 1, value);
  if (detail) pd__table_set_string(t, r, 2, detail);
}

static void format_time(int64_t ms, char *buf, size_t size) {
  int64_t days = pd__floor_div(ms, PD_MS_PER_DAY);
  int64_t rem = ms % PD_MS_PER_DAY; /* ms - days * day would overflow at the extremes */
  if (rem < 0) rem += PD_MS_PER_DAY;
  int64_t y;
  unsigned m, d;
  pd__civil_from_days(days, &y, &m, &d);
  snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d, (int)(rem / 3600000),
           (int)(rem / 60000 % 60), (int)(rem / 1000 % 60));
}

static uint64_t file_size(const char *path) {
  struct stat sb;
  return path && stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

void pd__store_time_range(const pd_store *s, int64_t *lo, int64_t *hi) {
  *lo = INT64_MAX;
  *hi = INT64_MIN;
  if (s->seg.n_events) {
    *lo = s->seg.min_time;
    *hi = s->seg.max_time;
  }
  for (size_t i = 0; i < s->tail.n_committed; i++) {
    if (s->tail.time[i] < *lo) *lo = s->tail.time[i];
    if (s->tail.time[i] > *hi) *hi = s->tail.time[i];
  }
}

static int64_t latest_transaction(const int64_t *time, const uint16_t *type, size_t n, int64_t max) {
  for (size_t i = 0; i < n; i++)
    if ((type[i] == PD_EV_PURCHASE || type[i] == PD_EV_REFUND) && time[i] > max) max = time[i];
  return max;
}

int64_t pd__store_latest_transaction(const pd_store *s) {
  int64_t max = latest_transaction(s->seg.time, s->seg.type, s->seg.n_events, INT64_MIN);
  return latest_transaction(s->tail.time, s->tail.type, s->tail.n_committed, max);
}

pd_status pd_store_info(pd_store *s, pd_table **out) {
  if (!s || !out) return pd__error(PD_ERR_INVALID, "pd_store_info: NULL argument");
  uint32_t n_types = pd__dict_n_types(&s->dict);
  uint64_t *by_type = calloc(n_types, sizeof *by_type);
  if (!by_type) return pd__error(PD_ERR_NOMEM, "out of memory");
  int64_t lo, hi;
  pd__store_time_range(s, &lo, &hi);
  for (uint64_t i = 0; i < s->seg.n_events; i++) by_type[s->seg.type[i]]++;
  for (size_t i = 0; i < s->tail.n_committed; i++) by_type[s->tail.type[i]]++;
  uint32_t active = 0;
  for (uint32_t u = 0; u < pd__dict_n_users(&s->dict); u++) active += pd__dict_canonical(&s->dict, u) == u;

  pd_table *t = pd__table_new("store_info");
  if (!t) {
    free(by_type);
    return pd__error(PD_ERR_NOMEM, "out of memory");
  }
  pd__table_add_col(t, "key", PD_TYPE_STRING);
  pd__table_add_col(t, "value", PD_TYPE_INT64);
  pd__table_add_col(t, "detail", PD_TYPE_STRING);
  char buf[128], a[40], b[40];
  info_row(t, "users", active, "distinct users after merges");
  info_row(t, "user_ids", pd__dict_n_users(&s->dict), "external ids interned (before merges)");
  info_row(t, "aliases", (int64_t)s->dict.aliases.n, NULL);
  info_row(t, "events", (int64_t)pd_store_n_events(s), NULL);
  info_row(t, "events_sealed", (int64_t)s->seg.n_events, s->seg_generation ? "in the sealed segment" : "no sealed segment yet");
  info_row(t, "events_in_log", (int64_t)s->tail.n_committed, "committed, not yet compacted");
  if (lo <= hi) {
    format_time(lo, a, sizeof a);
    format_time(hi, b, sizeof b);
    snprintf(buf, sizeof buf, "%s .. %s", a, b);
    info_row(t, "time_min_ms", lo, a);
    info_row(t, "time_max_ms", hi, b);
  }
  for (uint32_t ty = 0; ty < n_types; ty++)
    if (by_type[ty] || ty < PD_EVENT_BUILTIN_COUNT) {
      snprintf(buf, sizeof buf, "events:%s", pd__names_get(&s->dict.type_names, ty));
      info_row(t, buf, (int64_t)by_type[ty], ty < PD_EVENT_BUILTIN_COUNT ? "built-in type" : "custom type");
    }
  info_row(t, "touchpoints", pd__dict_n_tps(&s->dict), NULL);
  for (int dom = 0; dom < 4; dom++) {
    int64_t n = 0;
    for (uint32_t tp = 0; tp < pd__dict_n_tps(&s->dict); tp++) n += s->dict.tps[tp].domain == dom;
    snprintf(buf, sizeof buf, "touchpoints:%s", pd_domain_name((pd_domain)dom));
    info_row(t, buf, n, NULL);
  }
  info_row(t, "segments", s->seg_generation ? 1 : 0, s->seg.path);
  info_row(t, "log_generation", (int64_t)s->generation, s->wal.path);
  uint64_t seg_bytes = file_size(s->seg.path), wal_bytes = file_size(s->wal.path);
  info_row(t, "bytes_on_disk", (int64_t)(seg_bytes + wal_bytes + PD_MANIFEST_SIZE), "segment + log + manifest");
  info_row(t, "bytes_segment", (int64_t)seg_bytes, NULL);
  info_row(t, "bytes_log", (int64_t)wal_bytes, NULL);
  info_row(t, "recovered_bytes", (int64_t)s->recovered_bytes, "uncommitted log tail ignored at open");
  free(by_type);
  return pd__table_finish(t, out);
}

pd_status pd_store_touchpoints(pd_store *s, pd_table **out) {
  if (!s || !out) return pd__error(PD_ERR_INVALID, "pd_store_touchpoints: NULL argument");
  pd_table *t = pd__table_new("touchpoints");
  if (!t) return pd__error(PD_ERR_NOMEM, "out of memory");
  pd__table_add_col(t, "id", PD_TYPE_INT64);
  pd__table_add_col(t, "name", PD_TYPE_STRING);
  pd__table_add_col(t, "domain", PD_TYPE_STRING);
  pd__table_add_col(t, "carrier", PD_TYPE_STRING);
  pd__table_add_col(t, "daily_spend", PD_TYPE_INT64);
  for (uint32_t tp = 0; tp < pd__dict_n_tps(&s->dict); tp++) {
    size_t r = pd__table_add_row(t);
    pd__table_set_int64(t, r, 0, tp);
    pd__table_set_string(t, r, 1, pd__names_get(&s->dict.tp_names, tp));
    pd__table_set_string(t, r, 2, pd_domain_name((pd_domain)s->dict.tps[tp].domain));
    pd__table_set_string(t, r, 3, pd_carrier_name((pd_carrier)s->dict.tps[tp].carrier));
    if (s->dict.tps[tp].daily_spend >= 0) pd__table_set_int64(t, r, 4, s->dict.tps[tp].daily_spend);
  }
  return pd__table_finish(t, out);
}
