/* pd info, pd compact, pd export: looking at and maintaining a store. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int pd_cmd_info(int argc, char **argv) {
  pd_format fmt = PD_FORMAT_TEXT;
  const pd_cli_opt opts[] = {PD_CLI_OPT_FORMAT(&fmt), PD_CLI_OPT_END};
  const pd_cli_spec spec = {"info", "STORE",
                            "What is in a store: users, events by type, touchpoints, time range,\n"
                            "segments and bytes on disk.",
                            opts, 1, 1};
  pd_cli_args args;
  int rc = pd_cli_parse(&spec, argc, argv, &args);
  if (rc != PD_CLI_CONTINUE) return rc;
  pd_store *store;
  if ((rc = pd_cli_open_store("info", args.v[0], PD_CLI_READ, &store))) return rc;
  pd_table *t = NULL;
  pd_status st = pd_store_info(store, &t);
  rc = st == PD_OK ? pd_cli_print_table("info", t, fmt) : pd_cli_fail("info", st);
  pd_table_free(t);
  pd_store_close(store);
  return rc;
}

int pd_cmd_compact(int argc, char **argv) {
  int quiet = 0;
  const pd_cli_opt opts[] = {{"quiet", 'q', PD_CLI_FLAG, &quiet, NULL, "print nothing on success", NULL},
                             PD_CLI_OPT_END};
  const pd_cli_spec spec = {"compact", "STORE",
                            "Seals everything committed into one immutable, user-sorted, memory-mapped\n"
                            "segment and starts a fresh log. Takes the writer lock.",
                            opts, 1, 1};
  pd_cli_args args;
  int rc = pd_cli_parse(&spec, argc, argv, &args);
  if (rc != PD_CLI_CONTINUE) return rc;
  pd_store *store;
  if ((rc = pd_cli_open_store("compact", args.v[0], PD_CLI_WRITE, &store))) return rc;
  double t0 = pd_cli_now();
  pd_status st = pd_store_compact(store);
  if (st != PD_OK) rc = pd_cli_fail("compact", st);
  else if (!quiet)
    printf("compacted %s: %" PRIu64 " events of %" PRIu32 " users in %.2f s\n", args.v[0], pd_store_n_events(store),
           pd_store_n_users(store), pd_cli_now() - t0);
  pd_store_close(store);
  return rc;
}

/* ---- export ------------------------------------------------------------ */

typedef struct export_ctx {
  pd_store *store;
  FILE *f;
  char **tp_names; /* CSV-quoted */
  char **type_names;
  uint32_t n_tps, n_types;
  int failed;
} export_ctx;

/* RFC 4180 quoting when needed; owned by the caller (free()). */
static char *quoted(const char *s) {
  size_t n = strlen(s), extra = 0;
  int need = strpbrk(s, ",\"\r\n") != NULL;
  for (const char *p = s; *p; p++) extra += *p == '"';
  char *out = malloc(n + extra + 3), *q = out;
  if (!out) return NULL;
  if (need) *q++ = '"';
  for (const char *p = s; *p; p++) {
    if (*p == '"') *q++ = '"';
    *q++ = *p;
  }
  if (need) *q++ = '"';
  *q = '\0';
  return out;
}

static int export_user(void *vctx, unsigned worker, const pd_user_events *ev) {
  (void)worker;
  export_ctx *c = vctx;
  char *user = quoted(pd_store_user_name(c->store, ev->user) ? pd_store_user_name(c->store, ev->user) : "");
  if (!user) return c->failed = 1;
  for (size_t i = 0; i < ev->n; i++) {
    char ts[32], amount[32];
    const char *type = ev->type[i] < c->n_types && c->type_names[ev->type[i]] ? c->type_names[ev->type[i]] : "";
    const char *tp = ev->touchpoint[i] < c->n_tps ? c->tp_names[ev->touchpoint[i]] : "";
    fprintf(c->f, "%s,%s,%s,%s,%s,", pd_cli_format_time(ev->time[i], ts), user, type, tp,
            ev->amount[i] ? pd_cli_format_amount(ev->amount[i], amount) : "");
    if (ev->referrer[i] != PD_NONE) {
      const char *name = pd_store_user_name(c->store, ev->referrer[i]);
      char *q = quoted(name ? name : "");
      if (!q) {
        free(user);
        return c->failed = 1;
      }
      fputs(q, c->f);
      free(q);
    }
    fputc('\n', c->f);
  }
  free(user);
  return ferror(c->f) ? (c->failed = 1) : 0;
}

static int export_touchpoints(pd_store *store, const char *path) {
  FILE *f;
  if (pd_cli_open_out("export", path, &f)) return PD_EXIT_RUNTIME;
  fprintf(f, "name,domain,carrier,daily_spend\n");
  for (uint32_t i = 0; i < pd_store_n_touchpoints(store); i++) {
    pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
    pd_status st = pd_store_touchpoint(store, i, &d);
    if (st != PD_OK) {
      if (f != stdout) fclose(f);
      return pd_cli_fail("export", st);
    }
    char *name = quoted(d.name), amount[32];
    if (!name) {
      if (f != stdout) fclose(f);
      return pd_cli_error("export", "out of memory");
    }
    fprintf(f, "%s,%s,%s,%s\n", name, pd_domain_name(d.domain), pd_carrier_name(d.carrier),
            d.daily_spend >= 0 ? pd_cli_format_amount(d.daily_spend, amount) : "");
    free(name);
  }
  return pd_cli_close_out("export", f);
}

int pd_cmd_export(int argc, char **argv) {
  const char *out = NULL, *tps = NULL;
  const pd_cli_opt opts[] = {
      PD_CLI_OPT_OUT(&out),
      {"touchpoints", 't', PD_CLI_STRING, &tps, "FILE", "also write the touchpoints (name,domain,carrier,daily_spend)", NULL},
      PD_CLI_OPT_END};
  const pd_cli_spec spec = {"export", "STORE",
                            "Writes every event as CSV with the columns of pd gen and pd ingest\n"
                            "(ts,user,event,touchpoint,amount,referrer), user by user in time order.\n"
                            "Ingesting the file (and the touchpoints file) into an empty store gives\n"
                            "the same events; aliases and merged-away ids are not exported.",
                            opts, 1, 1};
  pd_cli_args args;
  int rc = pd_cli_parse(&spec, argc, argv, &args);
  if (rc != PD_CLI_CONTINUE) return rc;
  pd_store *store;
  if ((rc = pd_cli_open_store("export", args.v[0], PD_CLI_READ, &store))) return rc;
  export_ctx c;
  memset(&c, 0, sizeof c);
  c.store = store;
  c.n_tps = pd_store_n_touchpoints(store);
  c.n_types = pd_store_n_event_types(store);
  c.tp_names = calloc(c.n_tps + 1, sizeof *c.tp_names);
  c.type_names = calloc(c.n_types + 1, sizeof *c.type_names);
  if (!c.tp_names || !c.type_names) rc = pd_cli_error("export", "out of memory");
  for (uint32_t i = 0; i < c.n_tps && !rc; i++) {
    pd_touchpoint_def d = PD_TOUCHPOINT_DEF_INIT;
    pd_status st = pd_store_touchpoint(store, i, &d);
    if (st != PD_OK) rc = pd_cli_fail("export", st);
    else if (!(c.tp_names[i] = quoted(d.name))) rc = pd_cli_error("export", "out of memory");
  }
  for (uint32_t i = 0; i < c.n_types && !rc; i++) {
    const char *name = pd_store_event_type_name(store, i);
    if (name && !(c.type_names[i] = quoted(name))) rc = pd_cli_error("export", "out of memory");
  }
  if (!rc && tps) rc = export_touchpoints(store, tps);
  if (!rc && !pd_cli_open_out("export", out, &c.f)) {
    static char buf[1 << 20];
    setvbuf(c.f, buf, _IOFBF, sizeof buf);
    fputs("ts,user,event,touchpoint,amount,referrer\n", c.f);
    /* One thread: the output is in user order, as the scan delivers it. */
    pd_scan_options so = PD_SCAN_OPTIONS_INIT;
    so.threads = 1;
    pd_status st = pd_scan(store, &so, export_user, &c);
    if (c.failed) {
      rc = pd_cli_error("export", "writing %s failed: %s", out ? out : "standard output", strerror(errno));
      if (c.f != stdout) fclose(c.f);
    } else if (st != PD_OK) {
      rc = pd_cli_fail("export", st);
      if (c.f != stdout) fclose(c.f);
    } else {
      rc = pd_cli_close_out("export", c.f);
    }
  } else if (!rc) {
    rc = PD_EXIT_RUNTIME;
  }
  for (uint32_t i = 0; c.tp_names && i < c.n_tps; i++) free(c.tp_names[i]);
  for (uint32_t i = 0; c.type_names && i < c.n_types; i++) free(c.type_names[i]);
  free(c.tp_names);
  free(c.type_names);
  pd_store_close(store);
  return rc;
}
