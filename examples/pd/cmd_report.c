/* pd report: the operator's HTML report of a store (report.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int pd_cmd_report(int argc, char **argv) {
  const char *out = NULL, *tz = NULL, *title = NULL, *currency = NULL;
  pd_period period = PD_PERIOD_WEEK;
  pd_cli_list sections = {0};
  int rarra = 0, quiet = 0;
  int64_t cap = 2;
  unsigned threads = 0;
  const pd_cli_opt opts[] = {
      {"out", 'o', PD_CLI_STRING, &out, "FILE", "write the HTML page to FILE (default standard output)", NULL},
      PD_CLI_OPT_TZ(&tz),
      {"period", 'p', PD_CLI_PERIOD, &period, "P", "cohort and trend period: day, week, week_sunday, month (default week)", NULL},
      {"title", 0, PD_CLI_STRING, &title, "TEXT", "page title (default \"Private-domain report\")", NULL},
      {"sections", 0, PD_CLI_LIST, &sections, "IDS", "only these sections, comma-separated (see below)", NULL},
      {"rarra", 0, PD_CLI_FLAG, &rarra, NULL, "stages in RARRA order (retention first) instead of AARRR", NULL},
      {"referral-cap", 0, PD_CLI_INT, &cap, "N", "deepest allowed referral level (default 2)", NULL},
      {"currency", 0, PD_CLI_STRING, &currency, "SYM", "currency symbol (default \xC2\xA5)", NULL},
      PD_CLI_OPT_THREADS(&threads),
      {"quiet", 'q', PD_CLI_FLAG, &quiet, NULL, "do not print the path written", NULL},
      PD_CLI_OPT_END};
  char desc[1024];
  size_t len = (size_t)snprintf(desc, sizeof desc,
                                "Writes one self-contained HTML page (inline SVG charts and CSS, no scripts,\n"
                                "no network) with the store's headline figures and charts.\nSections:");
  for (size_t i = 0; pd_report_section_id(i) && len < sizeof desc - 32; i++)
    len += (size_t)snprintf(desc + len, sizeof desc - len, "%s%s", i ? ", " : " ", pd_report_section_id(i));
  const pd_cli_spec spec = {"report", "STORE", desc, opts, 1, 1};
  pd_cli_args args;
  int rc = pd_cli_parse(&spec, argc, argv, &args);
  if (rc != PD_CLI_CONTINUE) {
    pd_cli_list_free(&sections);
    return rc;
  }
  if (cap < 1 || cap > 100) {
    pd_cli_list_free(&sections);
    return pd_cli_usage_error(&spec, "--referral-cap must be between 1 and 100");
  }
  char list[4096] = "";
  for (size_t i = 0, n = 0; i < sections.n; i++)
    n += (size_t)snprintf(list + n, n < sizeof list ? sizeof list - n : 0, "%s%s", i ? "," : "", sections.items[i]);
  pd_report_options o = PD_REPORT_OPTIONS_INIT;
  o.title = title;
  o.tz = tz;
  o.period = period;
  o.currency_symbol = currency;
  o.rarra = rarra;
  o.referral_cap = (int)cap;
  o.sections = sections.n ? list : NULL;
  o.threads = threads;
  pd_store *store;
  if ((rc = pd_cli_open_store("report", args.v[0], PD_CLI_READ, &store))) {
    pd_cli_list_free(&sections);
    return rc;
  }
  pd_status st;
  if (out && strcmp(out, "-") != 0) {
    st = pd_report_write(store, &o, out);
    if (st == PD_OK && !quiet) printf("%s\n", out);
  } else {
    char *html = NULL;
    st = pd_report_html(store, &o, &html);
    if (st == PD_OK) {
      FILE *f;
      if ((rc = pd_cli_open_out("report", NULL, &f)) == 0) {
        fputs(html, f);
        rc = pd_cli_close_out("report", f);
      }
      pd_free(html);
    }
  }
  if (st != PD_OK) rc = pd_cli_fail("report", st);
  pd_store_close(store);
  pd_cli_list_free(&sections);
  return rc;
}
