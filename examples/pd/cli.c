/* Shared helpers of the pd tool: option parsing, value parsers, output,
 * errors and a progress bar. Public API only. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* ---- errors ------------------------------------------------------------ */

int pd_cli_fail(const char *cmd, pd_status status) {
  const char *msg = pd_last_error();
  fprintf(stderr, "pd %s: %s\n", cmd, msg && *msg ? msg : pd_status_str(status));
  return PD_EXIT_RUNTIME;
}

int pd_cli_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "pd %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return PD_EXIT_RUNTIME;
}

int pd_cli_usage_error(const pd_cli_spec *spec, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "pd %s: ", spec->name);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nusage: pd %s [OPTIONS]%s%s\n(see pd %s --help)\n", spec->name, spec->args ? " " : "",
          spec->args ? spec->args : "", spec->name);
  return PD_EXIT_USAGE;
}

/* ---- value parsers ----------------------------------------------------- */

int pd_cli_parse_duration(const char *text, int64_t *out_ms) {
  const char *p = text;
  int64_t total = 0;
  if (!*p) return -1;
  while (*p) {
    if (!isdigit((unsigned char)*p)) return -1;
    int64_t n = 0;
    while (isdigit((unsigned char)*p)) {
      if (n > INT64_MAX / 10 - 10) return -1;
      n = n * 10 + (*p++ - '0');
    }
    int64_t unit;
    if (strncmp(p, "ms", 2) == 0) { unit = 1; p += 2; }
    else if (*p == 's') { unit = PD_CLI_SECOND_MS; p++; }
    else if (*p == 'm') { unit = PD_CLI_MINUTE_MS; p++; }
    else if (*p == 'h') { unit = PD_CLI_HOUR_MS; p++; }
    else if (*p == 'd') { unit = PD_CLI_DAY_MS; p++; }
    else if (*p == 'w') { unit = PD_CLI_WEEK_MS; p++; }
    else return -1; /* a bare number is ambiguous: ask for a unit */
    if (n > (INT64_MAX - total) / unit) return -1;
    total += n * unit;
  }
  *out_ms = total;
  return 0;
}

int pd_cli_parse_format(const char *text, pd_format *out) {
  if (strcmp(text, "table") == 0 || strcmp(text, "text") == 0) *out = PD_FORMAT_TEXT;
  else if (strcmp(text, "csv") == 0) *out = PD_FORMAT_CSV;
  else if (strcmp(text, "json") == 0) *out = PD_FORMAT_JSON;
  else return -1;
  return 0;
}

int pd_cli_parse_period(const char *text, pd_period *out) {
  if (strcmp(text, "day") == 0) *out = PD_PERIOD_DAY;
  else if (strcmp(text, "week") == 0) *out = PD_PERIOD_WEEK;
  else if (strcmp(text, "week_sunday") == 0 || strcmp(text, "week-sunday") == 0) *out = PD_PERIOD_WEEK_SUNDAY;
  else if (strcmp(text, "month") == 0) *out = PD_PERIOD_MONTH;
  else return -1;
  return 0;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = (unsigned)(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int pd_cli_parse_time(const char *text, const char *tz, int64_t *out_ms) {
  /* The library's own reader, so dates mean what ingest reads them as. */
  return pd_time_parse(text, strlen(text), tz, out_ms) == PD_OK ? 0 : -1;
}

char *pd_cli_format_time(int64_t ms, char *buf) {
  int64_t days = ms >= 0 ? ms / PD_CLI_DAY_MS : -((-ms + PD_CLI_DAY_MS - 1) / PD_CLI_DAY_MS);
  int64_t rest = ms - days * PD_CLI_DAY_MS, y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  int n = snprintf(buf, 32, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d", y, m, d, (int)(rest / PD_CLI_HOUR_MS),
                   (int)(rest % PD_CLI_HOUR_MS / PD_CLI_MINUTE_MS), (int)(rest % PD_CLI_MINUTE_MS / 1000));
  if (rest % 1000) snprintf(buf + n, 32 - (size_t)n, ".%03dZ", (int)(rest % 1000));
  else snprintf(buf + n, 32 - (size_t)n, "Z");
  return buf;
}

char *pd_cli_format_amount(int64_t minor, char *buf) {
  uint64_t u = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
  snprintf(buf, 32, "%s%" PRIu64 ".%02u", minor < 0 ? "-" : "", u / 100, (unsigned)(u % 100));
  return buf;
}

/* ---- option parsing ---------------------------------------------------- */

void pd_cli_list_free(pd_cli_list *list) {
  for (size_t i = 0; i < list->n; i++) free(list->items[i]);
  list->n = 0;
}

static const char *kind_arg(const pd_cli_opt *o) {
  if (o->arg) return o->arg;
  switch (o->kind) {
  case PD_CLI_FLAG: return NULL;
  case PD_CLI_INT: case PD_CLI_UINT: return "N";
  case PD_CLI_DOUBLE: return "X";
  case PD_CLI_DURATION: return "DUR";
  case PD_CLI_TIME: return "DATE";
  case PD_CLI_FORMAT: return "table|csv|json";
  case PD_CLI_PERIOD: return "day|week|month";
  case PD_CLI_CHOICE: return o->choices;
  case PD_CLI_LIST: return "A,B,...";
  default: return "VALUE";
  }
}

void pd_cli_help(const pd_cli_spec *spec, FILE *out) {
  fprintf(out, "usage: pd %s [OPTIONS]%s%s\n", spec->name, spec->args ? " " : "", spec->args ? spec->args : "");
  if (spec->description) fprintf(out, "\n%s\n", spec->description);
  fprintf(out, "\noptions:\n");
  for (const pd_cli_opt *o = spec->opts; o && o->name; o++) {
    char left[96];
    const char *arg = kind_arg(o);
    int n = o->short_name ? snprintf(left, sizeof left, "-%c, --%s", o->short_name, o->name)
                          : snprintf(left, sizeof left, "    --%s", o->name);
    if (arg && n > 0 && (size_t)n < sizeof left) snprintf(left + n, sizeof left - (size_t)n, " %s", arg);
    fprintf(out, "  %-28s %s\n", left, o->help ? o->help : "");
  }
  fprintf(out, "  %-28s %s\n", "-h, --help", "show this help and exit");
  fprintf(out, "  %-28s %s\n", "    --version", "show the libprivdomain version and exit");
  fprintf(out, "\nExit codes: 0 ok, 1 runtime error, 2 usage error.\n");
}

static int choice_index(const char *choices, const char *text) {
  size_t len = strlen(text);
  int i = 0;
  for (const char *p = choices; p && *p; i++) {
    const char *bar = strchr(p, '|');
    size_t n = bar ? (size_t)(bar - p) : strlen(p);
    if (n == len && strncmp(p, text, n) == 0) return i;
    if (!bar) break;
    p = bar + 1;
  }
  return -1;
}

static int parse_int(const char *text, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno || end == text || *end) return -1;
  *out = v;
  return 0;
}

/* Stores one option value. TIME values are kept as text in `pending`. */
static int set_value(const pd_cli_spec *spec, const pd_cli_opt *o, const char *value, const char **pending) {
  char dash[80];
  snprintf(dash, sizeof dash, "--%s", o->name);
  switch (o->kind) {
  case PD_CLI_FLAG: *(int *)o->dest = 1; return 0;
  case PD_CLI_STRING: *(const char **)o->dest = value; return 0;
  case PD_CLI_INT:
    if (parse_int(value, (int64_t *)o->dest)) return pd_cli_usage_error(spec, "%s: expected an integer, got \"%s\"", dash, value);
    return 0;
  case PD_CLI_UINT: {
    int64_t v;
    if (parse_int(value, &v) || v < 0 || v > 1000000000)
      return pd_cli_usage_error(spec, "%s: expected a non-negative integer, got \"%s\"", dash, value);
    *(unsigned *)o->dest = (unsigned)v;
    return 0;
  }
  case PD_CLI_DOUBLE: {
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (errno || end == value || *end) return pd_cli_usage_error(spec, "%s: expected a number, got \"%s\"", dash, value);
    *(double *)o->dest = v;
    return 0;
  }
  case PD_CLI_DURATION:
    if (pd_cli_parse_duration(value, (int64_t *)o->dest))
      return pd_cli_usage_error(spec, "%s: expected a duration such as 7d, 12h, 30m, 2w, got \"%s\"", dash, value);
    return 0;
  case PD_CLI_TIME: *pending = value; return 0;
  case PD_CLI_FORMAT:
    if (pd_cli_parse_format(value, (pd_format *)o->dest))
      return pd_cli_usage_error(spec, "%s: expected table, csv or json, got \"%s\"", dash, value);
    return 0;
  case PD_CLI_PERIOD:
    if (pd_cli_parse_period(value, (pd_period *)o->dest))
      return pd_cli_usage_error(spec, "%s: expected day, week, week_sunday or month, got \"%s\"", dash, value);
    return 0;
  case PD_CLI_CHOICE: {
    int i = choice_index(o->choices, value);
    if (i < 0) return pd_cli_usage_error(spec, "%s: expected one of %s, got \"%s\"", dash, o->choices, value);
    *(int *)o->dest = i;
    return 0;
  }
  case PD_CLI_LIST: {
    pd_cli_list *l = o->dest;
    const char *p = value;
    for (;;) {
      const char *comma = strchr(p, ',');
      size_t n = comma ? (size_t)(comma - p) : strlen(p);
      if (n == 0) return pd_cli_usage_error(spec, "%s: empty item in \"%s\"", dash, value);
      if (l->n >= PD_CLI_LIST_MAX) return pd_cli_usage_error(spec, "%s: more than %d items", dash, PD_CLI_LIST_MAX);
      char *item = malloc(n + 1);
      if (!item) return pd_cli_error(spec->name, "out of memory");
      memcpy(item, p, n);
      item[n] = '\0';
      l->items[l->n++] = item;
      if (!comma) break;
      p = comma + 1;
    }
    return 0;
  }
  }
  return pd_cli_usage_error(spec, "%s: option of unknown kind", dash);
}

int pd_cli_parse(const pd_cli_spec *spec, int argc, char **argv, pd_cli_args *out) {
  size_t n_opts = 0;
  while (spec->opts && spec->opts[n_opts].name) n_opts++;
  const char **pending = calloc(n_opts + 1, sizeof *pending); /* TIME option texts */
  if (!pending) return pd_cli_error(spec->name, "out of memory");
  int npos = 0, rc = PD_CLI_CONTINUE, only_args = 0;
  for (int i = 1; i < argc && rc == PD_CLI_CONTINUE; i++) {
    char *a = argv[i];
    if (only_args || a[0] != '-' || a[1] == '\0') { /* positional ("-" is stdin/stdout) */
      argv[1 + npos++] = a;
      continue;
    }
    if (strcmp(a, "--") == 0) {
      only_args = 1;
      continue;
    }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      pd_cli_help(spec, stdout);
      rc = PD_EXIT_OK;
      break;
    }
    if (strcmp(a, "--version") == 0) {
      printf("pd (libprivdomain) %s\n", pd_version_string());
      rc = PD_EXIT_OK;
      break;
    }
    const pd_cli_opt *o = NULL;
    const char *value = NULL;
    if (a[1] == '-') {
      const char *name = a + 2, *eq = strchr(name, '=');
      size_t len = eq ? (size_t)(eq - name) : strlen(name);
      for (size_t k = 0; k < n_opts; k++)
        if (strlen(spec->opts[k].name) == len && strncmp(spec->opts[k].name, name, len) == 0) o = &spec->opts[k];
      if (!o) {
        rc = pd_cli_usage_error(spec, "unknown option --%.*s", (int)len, name);
        break;
      }
      if (eq) {
        if (o->kind == PD_CLI_FLAG) {
          rc = pd_cli_usage_error(spec, "--%s takes no value", o->name);
          break;
        }
        value = eq + 1;
      }
    } else {
      for (size_t k = 0; k < n_opts; k++)
        if (spec->opts[k].short_name && spec->opts[k].short_name == a[1]) o = &spec->opts[k];
      if (!o || (a[2] && o->kind == PD_CLI_FLAG)) {
        rc = pd_cli_usage_error(spec, "unknown option %s", a);
        break;
      }
      if (a[2]) value = a + 2; /* -j4 */
    }
    if (o->kind != PD_CLI_FLAG && !value) {
      if (i + 1 >= argc) {
        rc = pd_cli_usage_error(spec, "--%s needs a value (%s)", o->name, kind_arg(o));
        break;
      }
      value = argv[++i];
    }
    int r = set_value(spec, o, value, &pending[o - spec->opts]);
    if (r != 0) rc = r;
  }
  if (rc == PD_CLI_CONTINUE) { /* the zone, then dates read in it */
    const char *tz = NULL;
    int64_t ignored;
    for (size_t k = 0; k < n_opts; k++)
      if (strcmp(spec->opts[k].name, "tz") == 0 && spec->opts[k].kind == PD_CLI_STRING)
        tz = *(const char **)spec->opts[k].dest;
    if (tz && pd_cli_parse_time("1970-01-01", tz, &ignored)) rc = pd_cli_usage_error(spec, "--tz: %s", pd_last_error());
    for (size_t k = 0; k < n_opts && rc == PD_CLI_CONTINUE; k++)
      if (pending[k] && pd_cli_parse_time(pending[k], tz, (int64_t *)spec->opts[k].dest))
        rc = pd_cli_usage_error(spec, "--%s: %s", spec->opts[k].name, pd_last_error());
  }
  free(pending);
  if (rc != PD_CLI_CONTINUE) return rc;
  if (npos < spec->min_args) return pd_cli_usage_error(spec, "missing arguments");
  if (spec->max_args >= 0 && npos > spec->max_args)
    return pd_cli_usage_error(spec, "unexpected argument \"%s\"", argv[1 + spec->max_args]);
  out->n = npos;
  out->v = argv + 1;
  return PD_CLI_CONTINUE;
}

/* ---- output ------------------------------------------------------------ */

int pd_cli_print_table(const char *cmd, const pd_table *t, pd_format fmt) {
  pd_status st = pd_table_write(t, stdout, fmt);
  if (st != PD_OK) return pd_cli_fail(cmd, st);
  if (fflush(stdout) != 0) return pd_cli_error(cmd, "writing output: %s", strerror(errno));
  return PD_EXIT_OK;
}

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
    else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
    else fputc(*p, f);
  }
  fputc('"', f);
}

int pd_cli_print_tables(const char *cmd, const pd_table *const *tables, size_t n, pd_format fmt) {
  int first = 1;
  if (fmt == PD_FORMAT_JSON) fputc('{', stdout);
  for (size_t i = 0; i < n; i++) {
    if (!tables[i]) continue;
    char *text = NULL;
    size_t len = 0;
    pd_status st = pd_table_format(tables[i], fmt, &text, &len);
    if (st != PD_OK) return pd_cli_fail(cmd, st);
    if (fmt == PD_FORMAT_JSON) {
      while (len && (text[len - 1] == '\n')) len--;
      fputs(first ? "\n" : ",\n", stdout);
      json_string(stdout, pd_table_name(tables[i]) ? pd_table_name(tables[i]) : "");
      fputs(": ", stdout);
      fwrite(text, 1, len, stdout);
    } else {
      if (!first) fputc('\n', stdout);
      if (fmt == PD_FORMAT_TEXT) printf("== %s ==\n", pd_table_name(tables[i]) ? pd_table_name(tables[i]) : "");
      fwrite(text, 1, len, stdout);
    }
    pd_free(text);
    first = 0;
  }
  if (fmt == PD_FORMAT_JSON) fputs("\n}\n", stdout);
  if (fflush(stdout) != 0) return pd_cli_error(cmd, "writing output: %s", strerror(errno));
  return PD_EXIT_OK;
}

int pd_cli_open_out(const char *cmd, const char *path, FILE **out) {
  if (!path || strcmp(path, "-") == 0) {
    *out = stdout;
    return 0;
  }
  *out = fopen(path, "wb");
  if (!*out) return pd_cli_error(cmd, "cannot write %s: %s", path, strerror(errno));
  return 0;
}

int pd_cli_close_out(const char *cmd, FILE *f) {
  int bad = ferror(f);
  if (f == stdout) bad |= fflush(f) != 0;
  else bad |= fclose(f) != 0;
  if (bad) return pd_cli_error(cmd, "writing output failed: %s", strerror(errno ? errno : EIO));
  return 0;
}

/* ---- progress ---------------------------------------------------------- */

double pd_cli_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void pd_cli_progress_init(pd_cli_progress_state *p, const char *label) {
  p->label = label;
  p->started = pd_cli_now();
  p->last_draw = 0;
  p->enabled = isatty(STDERR_FILENO);
  p->drawn = 0;
}

int pd_cli_progress(void *ctx, uint64_t done, uint64_t total) {
  pd_cli_progress_state *p = ctx;
  if (!p || !p->enabled) return 0;
  double now = pd_cli_now();
  if (now - p->last_draw < 0.1 && !(total && done >= total)) return 0;
  p->last_draw = now;
  double secs = now - p->started, mb = (double)done / 1e6;
  char label[64];
  snprintf(label, sizeof label, "%.40s", p->label ? p->label : "");
  if (total) {
    int width = 30, fill = (int)((double)done / (double)total * width);
    if (fill > width) fill = width;
    fprintf(stderr, "\r%s [%.*s%*s] %3d%% %8.1f MB %6.1f MB/s ", label, fill, "##############################",
            width - fill, "", (int)(100.0 * (double)done / (double)total), mb, secs > 0 ? mb / secs : 0.0);
  } else {
    fprintf(stderr, "\r%s %8.1f MB %6.1f MB/s ", label, mb, secs > 0 ? mb / secs : 0.0);
  }
  p->drawn = 1;
  return 0;
}

void pd_cli_progress_done(pd_cli_progress_state *p) {
  if (p->enabled && p->drawn) fputc('\n', stderr);
  p->drawn = 0;
}
