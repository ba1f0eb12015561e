/* pd ingest: CSV, TSV and JSON Lines files (plain or .gz) into a store. */
#include <inttypes.h>
#include <string.h>

#include "cli.h"

int pd_cmd_ingest(int argc, char **argv) {
  const char *touchpoints = NULL, *rejects = NULL, *tz = NULL, *format = NULL;
  const char *c_ts = NULL, *c_user = NULL, *c_event = NULL, *c_tp = NULL, *c_amount = NULL, *c_ref = NULL;
  int lenient = 0, quiet = 0, batch = 0;
  int64_t decimals = 2;
  const pd_cli_opt opts[] = {
      {"touchpoints", 't', PD_CLI_STRING, &touchpoints, "FILE",
       "touchpoint definitions first (CSV: name,domain,carrier,daily_spend)", NULL},
      {"lenient", 0, PD_CLI_FLAG, &lenient, NULL, "skip bad rows (to --rejects) instead of failing the file", NULL},
      {"rejects", 0, PD_CLI_STRING, &rejects, "FILE", "with --lenient: where bad rows and their errors go", NULL},
      PD_CLI_OPT_TZ(&tz),
      {"input-format", 0, PD_CLI_STRING, &format, "csv|tsv|jsonl", "input format (default: from the file name)", NULL},
      {"decimals", 0, PD_CLI_INT, &decimals, "N", "fractional digits of amounts in minor units (default 2)", NULL},
      {"col-ts", 0, PD_CLI_STRING, &c_ts, "NAME", "column of the timestamp (default ts)", NULL},
      {"col-user", 0, PD_CLI_STRING, &c_user, "NAME", "column of the user id (default user)", NULL},
      {"col-event", 0, PD_CLI_STRING, &c_event, "NAME", "column of the event type (default event)", NULL},
      {"col-touchpoint", 0, PD_CLI_STRING, &c_tp, "NAME", "column of the touchpoint (default touchpoint)", NULL},
      {"col-amount", 0, PD_CLI_STRING, &c_amount, "NAME", "column of the amount (default amount)", NULL},
      {"col-referrer", 0, PD_CLI_STRING, &c_ref, "NAME", "column of the referrer (default referrer)", NULL},
      {"batch", 0, PD_CLI_FLAG, &batch, NULL, "batch durability: fsync less often (a crash may lose the last files)", NULL},
      {"quiet", 'q', PD_CLI_FLAG, &quiet, NULL, "no summary", NULL},
      PD_CLI_OPT_END};
  const pd_cli_spec spec = {
      "ingest", "STORE FILE...",
      "Appends events from CSV (RFC 4180), TSV or JSON Lines files, plain or .gz, to\n"
      "STORE (created if missing). Default columns ts,user,event,touchpoint,amount,\n"
      "referrer; ts in ISO 8601 (Z or offset), 'YYYY-MM-DD HH:MM:SS' in --tz, or epoch\n"
      "seconds/milliseconds. Strict by default: the first bad value fails its file\n"
      "(file:line:column in the message) and nothing of that file is committed.",
      opts, 1, -1};
  pd_cli_args args;
  int rc = pd_cli_parse(&spec, argc, argv, &args);
  if (rc != PD_CLI_CONTINUE) return rc;
  if (args.n < 2 && !touchpoints) return pd_cli_usage_error(&spec, "no input FILE");
  if (rejects && !lenient) return pd_cli_usage_error(&spec, "--rejects needs --lenient");
  if (decimals < 0 || decimals > 9) return pd_cli_usage_error(&spec, "--decimals: expected 0 to 9");
  pd_ingest_options io = PD_INGEST_OPTIONS_INIT;
  if (format) {
    if (strcmp(format, "csv") == 0) io.format = PD_INPUT_CSV;
    else if (strcmp(format, "tsv") == 0) io.format = PD_INPUT_TSV;
    else if (strcmp(format, "jsonl") == 0 || strcmp(format, "ndjson") == 0) io.format = PD_INPUT_JSONL;
    else return pd_cli_usage_error(&spec, "--input-format: expected csv, tsv or jsonl, got \"%s\"", format);
  }
  io.lenient = lenient;
  io.rejects_path = rejects;
  io.tz = tz;
  io.amount_decimals = (int)decimals;
  io.col_time = c_ts;
  io.col_user = c_user;
  io.col_event = c_event;
  io.col_touchpoint = c_tp;
  io.col_amount = c_amount;
  io.col_referrer = c_ref;

  pd_store *store;
  pd_store_options so = PD_STORE_OPTIONS_INIT;
  so.create = 1;
  so.durability = batch ? PD_DURABILITY_BATCH : PD_DURABILITY_FULL;
  pd_status st = pd_store_open(&store, args.v[0], &so);
  if (st != PD_OK) return pd_cli_fail("ingest", st);
  pd_writer *w;
  if ((st = pd_writer_open(&w, store)) != PD_OK) {
    pd_store_close(store);
    return pd_cli_fail("ingest", st);
  }
  if (touchpoints && (st = pd_ingest_touchpoints(w, touchpoints, &io)) != PD_OK) rc = pd_cli_fail("ingest", st);
  uint64_t rows = 0, committed = 0, rejected = 0, bytes = 0;
  double t0 = pd_cli_now();
  for (int i = 1; i < args.n && rc == PD_CLI_CONTINUE; i++) {
    pd_cli_progress_state prog;
    pd_cli_progress_init(&prog, args.v[i]);
    io.progress = pd_cli_progress;
    io.progress_ctx = &prog;
    pd_ingest_result res = PD_INGEST_RESULT_INIT;
    st = pd_ingest_file(w, args.v[i], &io, &res);
    pd_cli_progress_done(&prog);
    rows += res.rows_read;
    committed += res.rows_committed;
    rejected += res.rows_rejected;
    bytes += res.bytes_read;
    if (st != PD_OK) rc = pd_cli_fail("ingest", st);
    else if (!quiet && lenient && res.rows_rejected)
      fprintf(stderr, "pd ingest: %s: %" PRIu64 " rows rejected%s%s\n", args.v[i], res.rows_rejected,
              rejects ? ", see " : "", rejects ? rejects : "");
  }
  pd_writer_close(w);
  if (rc == PD_CLI_CONTINUE) {
    rc = PD_EXIT_OK;
    double secs = pd_cli_now() - t0;
    if (!quiet)
      printf("ingested %" PRIu64 " rows (%" PRIu64 " committed, %" PRIu64 " rejected) from %d file%s, %.1f MB in %.2f s"
             " (%.0f MB/s); store has %" PRIu32 " users, %" PRIu64 " events\n",
             rows, committed, rejected, args.n - 1, args.n == 2 ? "" : "s", (double)bytes / 1e6, secs,
             secs > 0 ? (double)bytes / 1e6 / secs : 0.0, pd_store_n_users(store), pd_store_n_events(store));
  }
  pd_store_close(store);
  return rc;
}
