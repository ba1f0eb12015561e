/* Shared bits of the pd command-line tool (public API only). */
#ifndef PD_CLI_H
#define PD_CLI_H

#include <privdomain.h>

/* Exit codes. */
#define PD_EXIT_OK 0
#define PD_EXIT_RUNTIME 1
#define PD_EXIT_USAGE 2

/* A subcommand: argv[0] is the command name. Returns an exit code. */
typedef int (*pd_command_fn)(int argc, char **argv);

typedef struct pd_command {
  const char *name;
  pd_command_fn run;
  const char *summary; /* one line for `pd --help` */
} pd_command;

/* ---- shared helpers (examples/pd/cli.c, foundation) -------------------
 *
 * A command declares its options in a pd_cli_spec and calls pd_cli_parse()
 * first thing:
 *
 *   int pd_cmd_funnel(int argc, char **argv) {
 *     pd_format fmt = PD_FORMAT_TEXT;
 *     const char *tz = NULL;
 *     int64_t window = 7 * PD_CLI_DAY_MS;
 *     const pd_cli_opt opts[] = {
 *         PD_CLI_OPT_FORMAT(&fmt), PD_CLI_OPT_TZ(&tz),
 *         {"window", 'w', PD_CLI_DURATION, &window, "DUR", "conversion window (default 7d)", NULL},
 *         {NULL, 0, 0, NULL, NULL, NULL, NULL}};
 *     const pd_cli_spec spec = {"funnel", "STORE", "Conversion through a sequence of steps.", opts, 1, 1};
 *     pd_cli_args args;
 *     int rc = pd_cli_parse(&spec, argc, argv, &args);
 *     if (rc != PD_CLI_CONTINUE) return rc;       // --help (0) or usage error (2)
 *     pd_store *store;
 *     if ((rc = pd_cli_open_store("funnel", args.v[0], PD_CLI_READ, &store))) return rc;
 *     ...
 *     if (st != PD_OK) return pd_cli_fail("funnel", st);   // "pd funnel: <message>", exit 1
 *     rc = pd_cli_print_table("funnel", table, fmt);
 *   }
 *
 * Options may come before or after positional arguments, as --name VALUE,
 * --name=VALUE or -x VALUE; "--" ends the options. --help/-h and --version
 * are handled for every command. */
#include <stdio.h>

#define PD_CLI_CONTINUE (-1)
#define PD_CLI_SECOND_MS INT64_C(1000)
#define PD_CLI_MINUTE_MS INT64_C(60000)
#define PD_CLI_HOUR_MS INT64_C(3600000)
#define PD_CLI_DAY_MS INT64_C(86400000)
#define PD_CLI_WEEK_MS INT64_C(604800000)

typedef enum pd_cli_kind {
  PD_CLI_FLAG = 1, /* int *: set to 1 (takes no argument) */
  PD_CLI_STRING,   /* const char **: the argument, borrowed from argv */
  PD_CLI_INT,      /* int64_t *: a decimal integer */
  PD_CLI_UINT,     /* unsigned *: a non-negative integer (e.g. --threads) */
  PD_CLI_DOUBLE,   /* double * */
  PD_CLI_DURATION, /* int64_t * milliseconds: 7d, 12h, 30m, 2w, 45s, 1d12h */
  PD_CLI_TIME,     /* int64_t * ms UTC: 2024-03-01[ 08:00[:00]] read in the --tz
                      zone, ISO 8601 with Z / an offset, or epoch s/ms */
  PD_CLI_FORMAT,   /* pd_format *: table|csv|json */
  PD_CLI_PERIOD,   /* pd_period *: day|week|week_sunday|month */
  PD_CLI_CHOICE,   /* int *: index of the argument in `choices` ("a|b|c") */
  PD_CLI_LIST      /* pd_cli_list *: comma-separated items, repeatable */
} pd_cli_kind;

typedef struct pd_cli_opt {
  const char *name;    /* long name without "--"; NULL ends the array */
  char short_name;     /* 0 = none */
  pd_cli_kind kind;
  void *dest;
  const char *arg;     /* placeholder in --help ("N"); NULL: derived from kind */
  const char *help;
  const char *choices; /* PD_CLI_CHOICE only: "first|second|third" */
} pd_cli_opt;

/* Repeatable comma-separated list: --steps a,b --steps c gives a, b, c.
 * Items are owned by the list; release with pd_cli_list_free(). */
#define PD_CLI_LIST_MAX 256
typedef struct pd_cli_list {
  size_t n;
  char *items[PD_CLI_LIST_MAX];
} pd_cli_list;
void pd_cli_list_free(pd_cli_list *list);

typedef struct pd_cli_spec {
  const char *name;        /* command name: "funnel" */
  const char *args;        /* positional arguments in usage: "STORE FILE..." */
  const char *description; /* a few lines for --help */
  const pd_cli_opt *opts;  /* ends with a NULL name; may be NULL */
  int min_args, max_args;  /* positional count; max_args -1 = unlimited */
} pd_cli_spec;

/* Positional arguments after parsing (point into argv). */
typedef struct pd_cli_args {
  int n;
  char **v;
} pd_cli_args;

/* The usual options. */
#define PD_CLI_OPT_FORMAT(dest) {"format", 'f', PD_CLI_FORMAT, (dest), "FMT", "output format: table, csv or json (default table)", NULL}
#define PD_CLI_OPT_TZ(dest) {"tz", 0, PD_CLI_STRING, (dest), "ZONE", "time zone for dates, days, weeks, months (IANA name, default UTC)", NULL}
#define PD_CLI_OPT_THREADS(dest) {"threads", 'j', PD_CLI_UINT, (dest), "N", "worker threads (default: one per core)", NULL}
#define PD_CLI_OPT_OUT(dest) {"out", 'o', PD_CLI_STRING, (dest), "FILE", "write to FILE instead of standard output", NULL}
#define PD_CLI_OPT_END {NULL, 0, (pd_cli_kind)0, NULL, NULL, NULL, NULL}

/* Parses argv (argv[0] is the command name) against spec, storing values
 * into each option's dest (defaults are whatever dest held before).
 * An option named "tz" (PD_CLI_OPT_TZ) is checked to be a known zone, and
 * PD_CLI_TIME options are converted after all options are read, in it.
 * Returns PD_CLI_CONTINUE to go on, PD_EXIT_OK after printing --help or
 * --version, PD_EXIT_USAGE after printing a usage error on stderr. */
int pd_cli_parse(const pd_cli_spec *spec, int argc, char **argv, pd_cli_args *out);
/* Prints the --help text of spec to out. */
void pd_cli_help(const pd_cli_spec *spec, FILE *out);

/* Error reporting. Each returns the exit code to return from the command. */
/* "pd CMD: <pd_last_error()>" (or the status name when there is no message); 1. */
int pd_cli_fail(const char *cmd, pd_status status);
/* "pd CMD: <message>"; 1. */
int pd_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "pd CMD: <message>" plus "usage: ..." and a pointer to --help; 2. */
int pd_cli_usage_error(const pd_cli_spec *spec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Value parsers (also used by pd_cli_parse). Return 0 on success, -1 on a
 * malformed value. */
int pd_cli_parse_duration(const char *text, int64_t *out_ms);
int pd_cli_parse_format(const char *text, pd_format *out);
int pd_cli_parse_period(const char *text, pd_period *out);
/* A date or time as ingest reads it (pd_time_parse): ISO 8601 with Z or an
 * offset, "YYYY-MM-DD[ HH:MM[:SS[.fff]]]" in zone tz (NULL = UTC), epoch
 * seconds or ms. Returns -1 (message in pd_last_error()) when malformed or
 * the zone is unknown. */
int pd_cli_parse_time(const char *text, const char *tz, int64_t *out_ms);

/* Formatting. buf of at least 32 bytes; returns buf. */
/* ISO 8601 UTC: "2024-03-01T08:00:00Z", with ".123" when ms are not 0. */
char *pd_cli_format_time(int64_t ms, char *buf);
/* Minor units with two decimals: 1234 -> "12.34", -5 -> "-0.05". */
char *pd_cli_format_amount(int64_t minor, char *buf);

/* Prints a table to stdout in fmt; on failure reports and returns 1. */
int pd_cli_print_table(const char *cmd, const pd_table *t, pd_format fmt);
/* Prints several tables: text and CSV one after another, separated by a
 * blank line and (text only) preceded by "== name =="; JSON as one object
 * {"name": [rows...], ...}. NULL entries are skipped. */
int pd_cli_print_tables(const char *cmd, const pd_table *const *tables, size_t n, pd_format fmt);

/* Opens `path` for writing ("-" or NULL = stdout). Reports and returns 1
 * on failure, 0 on success. Close with pd_cli_close_out(), which reports
 * write errors (returns 1) too. */
int pd_cli_open_out(const char *cmd, const char *path, FILE **out);
int pd_cli_close_out(const char *cmd, FILE *f);

/* A progress bar on stderr for pd_progress_fn (ingest.h): pass
 * pd_cli_progress as the callback and a pd_cli_progress_state as ctx.
 * Draws only when stderr is a terminal. Call pd_cli_progress_done() after. */
typedef struct pd_cli_progress_state {
  const char *label;
  double started, last_draw;
  int enabled, drawn;
} pd_cli_progress_state;
void pd_cli_progress_init(pd_cli_progress_state *p, const char *label);
int pd_cli_progress(void *ctx, uint64_t done, uint64_t total);
void pd_cli_progress_done(pd_cli_progress_state *p);
/* Seconds on a monotonic clock. */
double pd_cli_now(void);

/* Opening a store. PD_CLI_READ: read-only, must exist; PD_CLI_WRITE:
 * read-write, must exist; PD_CLI_CREATE: read-write, created if missing.
 * Reports and returns 1 on failure, 0 on success. (Inline so that
 * linking cli.c needs nothing beyond the basics.) */
#define PD_CLI_READ 0
#define PD_CLI_WRITE 1
#define PD_CLI_CREATE 2
static inline int pd_cli_open_store(const char *cmd, const char *path, int mode, pd_store **out) {
  pd_store_options o = PD_STORE_OPTIONS_INIT;
  o.read_only = mode == PD_CLI_READ;
  o.create = mode == PD_CLI_CREATE;
  pd_status st = pd_store_open(out, path, &o);
  return st == PD_OK ? 0 : pd_cli_fail(cmd, st);
}

/* Declarations of every command, one region per area. */
/* foundation (issue 2) */
int pd_cmd_gen(int argc, char **argv);
int pd_cmd_ingest(int argc, char **argv);
int pd_cmd_info(int argc, char **argv);
int pd_cmd_compact(int argc, char **argv);
int pd_cmd_export(int argc, char **argv);
/* funnel, stages (issue 3) */
int pd_cmd_funnel(int argc, char **argv);
/* An event predicate as pd funnel reads a step, TYPE[@TOUCHPOINT][:DOMAIN][>=AMOUNT]
 * (TYPE * = any; AMOUNT in currency units, 50.00), resolved against the store; label
 * receives the text. Returns 0, or reports and returns 1 (in cmd_funnel.c). */
int pd_cli_parse_pred(const char *cmd, pd_store *store, const char *text, pd_funnel_pred *q, char *label,
                      size_t label_size);
int pd_cmd_stages(int argc, char **argv);
/* retention, lifecycle, stickiness (issue 4) */
int pd_cmd_retention(int argc, char **argv);
int pd_cmd_lifecycle(int argc, char **argv);
int pd_cmd_stickiness(int argc, char **argv);
/* referral (issue 5) */
int pd_cmd_referral(int argc, char **argv);
/* rfm, clv (issue 6) */
int pd_cmd_rfm(int argc, char **argv);
int pd_cmd_clv(int argc, char **argv);
int pd_cmd_ltv(int argc, char **argv);
/* touchpoints, attribution, segments (issue 7) */
int pd_cmd_attribution(int argc, char **argv);
int pd_cmd_tag(int argc, char **argv);
int pd_cmd_segment(int argc, char **argv);
/* --segment NAME|EXPR and --by segment:A,B of the analysis commands
 * (examples/pd/cmd_segment.c). */
#define PD_CLI_OPT_SEGMENT(dest)                                                                              \
  {"segment", 0, PD_CLI_STRING, (dest), "SEG",                                                              \
   "only the users of SEG: a stored segment, a tag or an expression (see pd segment --help)", NULL}
/* Resolves --segment text (NULL: *users = NULL, no filter): a stored
 * segment, else a tag, else an expression. *users owned by the caller
 * (pd_userset_free). Reports (a parse error with its column) and returns
 * 1 on failure, else 0. */
int pd_cli_segment_users(const char *cmd, pd_store *store, const char *text, pd_userset **users);
/* 1 when a --by value asks for a segment breakdown: "segment:A,B,..." or
 * "tags" (every tag of the store). */
int pd_cli_is_segment_by(const char *by);
/* The names of a segment breakdown: after "segment:", comma-separated, or
 * every tag of the store for "tags". Returns 0 or an exit code (reported);
 * free with pd_cli_list_free(). */
int pd_cli_segment_names(const char *cmd, pd_store *store, const char *by, pd_cli_list *names);
/* Runs `run` once per segment of `by` with its users (intersected with
 * `filter` when not NULL) and stacks the tables (pd_segment_breakdown):
 * *out owned by the caller. Reports and returns an exit code on failure. */
int pd_cli_segment_breakdown(const char *cmd, pd_store *store, const char *by, const pd_userset *filter,
                             pd_segment_run_fn run, void *ctx, pd_table **out);
int pd_cmd_touchpoints(int argc, char **argv);
/* report (issue 8) */
int pd_cmd_report(int argc, char **argv);
/* rfm layers, membership (issue 7) */
int pd_cmd_membership(int argc, char **argv);
/* pd rfm --layers: the options beyond pd rfm's own (examples/pd/cmd_rfmlayers.c). */
typedef struct pd_cli_rfm_layer_args {
  int scores;         /* also print the per-customer scores */
  unsigned bins;      /* scores 1..bins */
  const pd_cli_list *thresholds, *r_cuts, *f_cuts, *m_cuts;
  int64_t since, until; /* INT64_MIN: not given */
  const char *svg;    /* layer bar chart, or NULL */
  const char *by;     /* segment breakdown ("segment:A,B" or "tags") of the layer table, or NULL */
} pd_cli_rfm_layer_args;
int pd_cli_rfm_layers(pd_store *store, const pd_rfm_options *summary_opts, const pd_cli_rfm_layer_args *a,
                      pd_format fmt);

#endif
