/* pd gen: writes a synthetic private-domain business as CSV. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gen.h"

/* ---- CSV output -------------------------------------------------------- */

typedef struct csv_sink {
  FILE *f;
  char *buf;
  size_t len, cap;
  int64_t day;           /* day of the cached date prefix */
  char date[12];         /* "2024-03-01T" */
  char names[32][64];    /* quoted touchpoint names */
  size_t name_len[32];
  int failed;
} csv_sink;

static const char two_digits[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static void flush_buf(csv_sink *c) {
  if (c->len && fwrite(c->buf, 1, c->len, c->f) != c->len) c->failed = 1;
  c->len = 0;
}

static char *put_u64(char *p, uint64_t v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *p++ = tmp[--n];
  return p;
}

static int csv_event(void *ctx, const pd_gen_event *ev) {
  csv_sink *c = ctx;
  if (c->cap - c->len < 512) {
    flush_buf(c);
    if (c->failed) return 1;
  }
  char *p = c->buf + c->len;
  int64_t day = ev->time_ms >= 0 ? ev->time_ms / PD_CLI_DAY_MS : (ev->time_ms + 1) / PD_CLI_DAY_MS - 1;
  if (day != c->day) {
    char tmp[32];
    pd_cli_format_time(day * PD_CLI_DAY_MS, tmp);
    memcpy(c->date, tmp, 11);
    c->day = day;
  }
  memcpy(p, c->date, 11);
  p += 11;
  int64_t secs = (ev->time_ms - day * PD_CLI_DAY_MS) / 1000;
  int h = (int)(secs / 3600), m = (int)(secs / 60 % 60), s = (int)(secs % 60);
  memcpy(p, two_digits + 2 * h, 2);
  p[2] = ':';
  memcpy(p + 3, two_digits + 2 * m, 2);
  p[5] = ':';
  memcpy(p + 6, two_digits + 2 * s, 2);
  memcpy(p + 8, "Z,", 2);
  p += 10;
  p += pd_gen_user_name(ev->user, p);
  *p++ = ',';
  const char *type = pd_event_type_builtin_name(ev->type);
  size_t tl = strlen(type);
  memcpy(p, type, tl);
  p += tl;
  *p++ = ',';
  if (ev->touchpoint != PD_NONE) {
    memcpy(p, c->names[ev->touchpoint], c->name_len[ev->touchpoint]);
    p += c->name_len[ev->touchpoint];
  }
  *p++ = ',';
  if (ev->has_amount) {
    uint64_t a = ev->amount < 0 ? (uint64_t)0 - (uint64_t)ev->amount : (uint64_t)ev->amount;
    if (ev->amount < 0) *p++ = '-';
    p = put_u64(p, a / 100);
    *p++ = '.';
    memcpy(p, two_digits + 2 * (a % 100), 2);
    p += 2;
  }
  *p++ = ',';
  if (ev->referrer != PD_NONE) p += pd_gen_user_name(ev->referrer, p);
  *p++ = '\n';
  c->len = (size_t)(p - c->buf);
  return 0;
}

/* RFC 4180: quote a field holding a comma, quote or line break. */
static size_t csv_quote(const char *s, char *out, size_t size) {
  size_t n = 0;
  if (!strpbrk(s, ",\"\r\n")) {
    snprintf(out, size, "%s", s);
    return strlen(out);
  }
  out[n++] = '"';
  for (; *s && n + 3 < size; s++) {
    if (*s == '"') out[n++] = '"';
    out[n++] = *s;
  }
  out[n++] = '"';
  out[n] = '\0';
  return n;
}

static int write_touchpoints(const char *path) {
  FILE *f = fopen(path, "wb");
  if (!f) return pd_cli_error("gen", "cannot write %s: %s", path, strerror(errno));
  fprintf(f, "name,domain,carrier,daily_spend\n");
  for (unsigned i = 0; i < pd_gen_n_touchpoints; i++) {
    const pd_gen_touchpoint *t = &pd_gen_touchpoints[i];
    char name[160], amount[32];
    csv_quote(t->name, name, sizeof name);
    fprintf(f, "%s,%s,%s,%s\n", name, pd_domain_name(t->domain), pd_carrier_name(t->carrier),
            pd_cli_format_amount(t->daily_spend, amount));
  }
  if (ferror(f) | (fclose(f) != 0)) return pd_cli_error("gen", "writing %s failed", path);
  return 0;
}

/* touchpoints.csv in the directory of `events`. */
static char *touchpoints_path(const char *events) {
  const char *slash = strrchr(events, '/');
  size_t dir = slash ? (size_t)(slash - events + 1) : 0;
  char *p = malloc(dir + sizeof "touchpoints.csv");
  if (!p) return NULL;
  memcpy(p, events, dir);
  memcpy(p + dir, "touchpoints.csv", sizeof "touchpoints.csv");
  return p;
}

static int gen_csv(const pd_gen_options *g, const char *out, pd_gen_stats *stats) {
  csv_sink c;
  memset(&c, 0, sizeof c);
  c.day = INT64_MIN;
  for (unsigned i = 0; i < pd_gen_n_touchpoints && i < 32; i++)
    c.name_len[i] = csv_quote(pd_gen_touchpoints[i].name, c.names[i], sizeof c.names[i]);
  if (out && strcmp(out, "-") != 0) {
    char *tp = touchpoints_path(out);
    if (!tp) return pd_cli_error("gen", "out of memory");
    int rc = write_touchpoints(tp);
    free(tp);
    if (rc) return rc;
  }
  if (pd_cli_open_out("gen", out, &c.f)) return PD_EXIT_RUNTIME;
  c.cap = 1 << 20;
  c.buf = malloc(c.cap);
  if (!c.buf) {
    if (c.f != stdout) fclose(c.f);
    return pd_cli_error("gen", "out of memory");
  }
  memcpy(c.buf, "ts,user,event,touchpoint,amount,referrer\n", 41);
  c.len = 41;
  int rc = pd_gen_run(g, csv_event, &c, stats);
  if (rc == 0) flush_buf(&c);
  free(c.buf);
  if (rc < 0) {
    if (c.f != stdout) fclose(c.f);
    return pd_cli_error("gen", "out of memory for %" PRIu64 " users", g->users);
  }
  if (c.failed) {
    if (c.f != stdout) fclose(c.f);
    return pd_cli_error("gen", "writing %s failed: %s", out ? out : "standard output", strerror(errno));
  }
  return pd_cli_close_out("gen", c.f);
}

/* ---- straight into a store --------------------------------------------- */

typedef struct store_sink {
  pd_writer *w;
  uint32_t *ids;        /* generator index -> store user id (PD_NONE: not yet) */
  uint32_t tps[32];
  pd_status st;
} store_sink;

static uint32_t user_id(store_sink *c, uint32_t idx) {
  if (c->ids[idx] == PD_NONE) {
    char name[16];
    pd_gen_user_name(idx, name);
    c->st = pd_writer_user(c->w, name, &c->ids[idx]);
  }
  return c->ids[idx];
}

static int store_event(void *ctx, const pd_gen_event *ev) {
  store_sink *c = ctx;
  pd_event e;
  e.time_ms = ev->time_ms;
  e.user = user_id(c, ev->user);
  if (c->st == PD_OK) e.referrer = ev->referrer == PD_NONE ? PD_NONE : user_id(c, ev->referrer);
  if (c->st != PD_OK) return 1;
  e.type = ev->type;
  e.touchpoint = ev->touchpoint == PD_NONE ? PD_NONE : c->tps[ev->touchpoint];
  e.amount = ev->has_amount ? ev->amount : 0;
  if ((c->st = pd_writer_append(c->w, &e)) != PD_OK) return 1;
  if (pd_writer_pending(c->w) >= 1000000 && (c->st = pd_writer_commit(c->w)) != PD_OK) return 1;
  return 0;
}

static int gen_store(const pd_gen_options *g, const char *dir, pd_gen_stats *stats) {
  pd_store *store;
  int rc = pd_cli_open_store("gen", dir, PD_CLI_CREATE, &store);
  if (rc) return rc;
  store_sink c;
  memset(&c, 0, sizeof c);
  pd_status st = pd_writer_open(&c.w, store);
  if (st != PD_OK) {
    pd_store_close(store);
    return pd_cli_fail("gen", st);
  }
  for (unsigned i = 0; i < pd_gen_n_touchpoints && i < 32 && st == PD_OK; i++) {
    pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
    d.name = pd_gen_touchpoints[i].name;
    d.domain = pd_gen_touchpoints[i].domain;
    d.carrier = pd_gen_touchpoints[i].carrier;
    d.daily_spend = pd_gen_touchpoints[i].daily_spend;
    st = pd_writer_touchpoint(c.w, &d, &c.tps[i]);
  }
  c.ids = malloc((g->users ? g->users : 1) * sizeof *c.ids);
  if (!c.ids) {
    rc = pd_cli_error("gen", "out of memory");
  } else if (st != PD_OK) {
    rc = pd_cli_fail("gen", st);
  } else {
    memset(c.ids, 0xff, g->users * sizeof *c.ids);
    c.st = PD_OK;
    int r = pd_gen_run(g, store_event, &c, stats);
    if (r < 0) rc = pd_cli_error("gen", "out of memory for %" PRIu64 " users", g->users);
    else if (r > 0 || c.st != PD_OK) rc = pd_cli_fail("gen", c.st);
    else if ((st = pd_writer_commit(c.w)) != PD_OK) rc = pd_cli_fail("gen", st);
  }
  free(c.ids);
  pd_writer_close(c.w);
  pd_store_close(store);
  return rc;
}

int pd_cmd_gen(int argc, char **argv) {
  int64_t users = 10000, seed = 1, months = 6, start = INT64_C(1704067200000); /* 2024-01-01 */
  const char *out = NULL, *store = NULL;
  int quiet = 0;
  const pd_cli_opt opts[] = {
      {"users", 'n', PD_CLI_INT, &users, "N", "users in total, referred ones included (default 10000)", NULL},
      {"seed", 's', PD_CLI_INT, &seed, "S", "random seed: same seed, same output (default 1)", NULL},
      {"start", 0, PD_CLI_TIME, &start, "DATE", "first day of the business, UTC (default 2024-01-01)", NULL},
      {"months", 'm', PD_CLI_INT, &months, "M", "months of history (default 6)", NULL},
      {"out", 'o', PD_CLI_STRING, &out, "FILE",
       "write events CSV to FILE (default standard output) and touchpoints.csv next to it", NULL},
      {"store", 0, PD_CLI_STRING, &store, "DIR", "append straight into the store DIR (created if missing)", NULL},
      {"quiet", 'q', PD_CLI_FLAG, &quiet, NULL, "no summary on standard error", NULL},
      PD_CLI_OPT_END};
  const pd_cli_spec spec = {
      "gen", NULL,
      "Generates a deterministic synthetic private-domain business: users acquired over\n"
      "months through 14 touchpoints of public, semi-private and private domains,\n"
      "activation, visits with decaying retention, BG/NBD-like repeat purchases with\n"
      "dropout, refunds, invites and referral sign-ups (depth 1-3), message sends and\n"
      "opens, member joins, stored value and churn. CSV columns:\n"
      "ts,user,event,touchpoint,amount,referrer (ts in ISO 8601 UTC, amount in yuan).",
      opts, 0, 0};
  pd_cli_args args;
  int rc = pd_cli_parse(&spec, argc, argv, &args);
  if (rc != PD_CLI_CONTINUE) return rc;
  if (users < 0 || users > INT64_C(100000000)) return pd_cli_usage_error(&spec, "--users: expected 0 to 100000000");
  if (months < 1 || months > 120) return pd_cli_usage_error(&spec, "--months: expected 1 to 120");
  if (out && store) return pd_cli_usage_error(&spec, "--out and --store exclude each other");
  pd_gen_options g = {(uint64_t)users, (uint64_t)seed, start, (int)months};
  pd_gen_stats stats;
  double t0 = pd_cli_now();
  rc = store ? gen_store(&g, store, &stats) : gen_csv(&g, out, &stats);
  if (rc == 0 && !quiet && (out || store))
    fprintf(stderr, "pd gen: %" PRIu64 " users (%" PRIu64 " referred), %" PRIu64 " events in %.1f s\n", stats.users,
            stats.referred, stats.events, pd_cli_now() - t0);
  return rc;
}
